"""The names of the four few-cluster tests, as the tables label their rows.

Kept apart from the tests themselves so that a step that only reads or displays the labels
(the headline, the report) does not import, and so does not rerun for, the resampling code.
"""

from __future__ import annotations

INFERENCE_LABELS = {
    "crv1": "CRV1 t(G-1)",
    "cr2": "CR2 Bell-McCaffrey",
    "wcr": "wild cluster bootstrap (WCR, Webb, B={reps})",
    "ri": "randomization inference (partnership labels, B={reps})",
}
