"""What the report and figures call each model.

Apart from the estimators so that the report step, which reads only these names, does not
depend on (and rerun with) the estimators' code. ``mixed`` is the replication of the
published multilevel model, not a causal design, and every reader-facing name says so.
"""

from __future__ import annotations

MODEL_LABELS = {
    "mixed": "replication (mixed)",
    "mixed_year": "replication variant with year effects (mixed_year)",
}


def model_label(model: str) -> str:
    """Return the reader-facing name of ``model`` (its id when it has no label)."""
    return MODEL_LABELS.get(model, model)
