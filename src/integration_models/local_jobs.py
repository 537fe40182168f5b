"""The lock held by every job that Snakemake runs as a thread of its own process.

Council-area fits (:mod:`integration_models.fitting`) and per-indicator figures
(:mod:`integration_models.plots.indicator`) run in the Snakemake process (``run:`` blocks of
local rules), so that dozens of small jobs do not each pay the seconds a new interpreter takes
to import pandas, statsmodels or matplotlib. Two things they use are process-wide: Python's
warning filters (a fit records its warnings with ``warnings.catch_warnings``; a figure drawn
meanwhile in another thread could add its own to the fit's record) and matplotlib's
``rcParams`` (a figure's style is set with ``rc_context``). Each such job holds this one lock
for its whole work; they are short and CPU-bound, so little is lost to the GIL anyway.
"""

from __future__ import annotations

import threading

LOCK = threading.Lock()
