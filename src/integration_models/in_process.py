"""The lock held by every workflow job that runs inside the Snakemake process.

The fits (:mod:`integration_models.models.fit_job`) and the per-indicator analyses
(:mod:`integration_models.results.indicator_analysis`) run as threads of the Snakemake process
(``run:`` rules), so that each does not pay for starting Python and importing pandas and
statsmodels. They hold this lock for their whole work: a fit records the warnings its library
raises with ``warnings.catch_warnings``, whose filters are process-wide, so another job
running meanwhile could add its warnings to the fit's or hide the fit's own.
"""

from __future__ import annotations

import threading

IN_PROCESS_LOCK = threading.Lock()
