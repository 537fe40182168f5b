"""Estimates against known effects: how the models do on a dataset whose truth is known.

The SYNTHETIC demo dataset is simulated from known coefficients, written beside it as
``demo_truth.csv`` (``indicator_id, term, value, scale``; see :mod:`integration_models.data.demo`).
Setting every estimate beside its true value says whether the pipeline recovers what it is
meant to find, which no other table can: whether the 95% intervals cover the truth about 95%
of the time, whether estimates have the right sign, and how often a term with no effect is
declared significant.

Which estimates are compared: every row of ``coefficients`` with an estimate whose indicator
and term have a truth on the *same scale* as the model's outcome (``scale`` of the
coefficient equals the truth's ``scale``). So the integration terms of ``mixed``, ``twfe``
and the difference-in-differences models ``csdid``, ``sunab``, ``bjs`` and ``dcdh`` (identity
for percentages and means, log for rates and counts, as the demo is generated), ``mixed``'s
covariate terms (``time`` per year, ``deprivation``, ``covid``,
``log_density``: the demo's own regressors), and ``glm``'s log-link terms for rates and
counts (Poisson pseudo-likelihood recovers a log-scale coefficient when the log-scale errors
are homoskedastic, as simulated); not ``glm``'s logit terms for percentages, whose truth is on
another scale, nor ``twfe``'s ``deprivation_trend``, which has no truth.

Flags, per compared row (empty where they do not apply):

- ``covered``: ``conf_low <= truth <= conf_high`` (empty without an interval, e.g. a
  difference-in-differences model with one treated area or one identifying partnership);
- ``sign_right``: the estimate has the truth's sign (only where the truth is not zero);
- ``significant``: ``p_value < alpha``, the model's own test as in ``coefficients.csv``
  (for ``twfe`` this is CRV1, not the few-cluster test of the headline);
- ``false_positive``: significant where the truth is zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TRUTH_COLUMNS = ("indicator_id", "term", "value", "scale")
TABLE_COLUMNS = [
    "indicator_id",
    "model",
    "term",
    "scale",
    "truth",
    "estimate",
    "conf_low",
    "conf_high",
    "p_value",
    "covered",
    "sign_right",
    "significant",
    "false_positive",
]
SUMMARY_COLUMNS = [
    "model",
    "term",
    "estimates",
    "with_interval",
    "covered",
    "coverage_pct",
    "nonzero_truth",
    "sign_right",
    "sign_right_pct",
    "zero_truth",
    "false_positives",
]


def load_truth(path: str | Path) -> pd.DataFrame:
    """Read a truth file (``indicator_id, term, value, scale``) through the input door.

    Raises
    ------
    InputError
        If a column is missing or a value is not a number (from
        :func:`integration_models.data.reading.read_table`, naming the file and line).
    """
    from integration_models.data.reading import read_table
    from integration_models.errors import InputError

    frame = read_table(Path(path), list(TRUTH_COLUMNS))
    values = pd.to_numeric(frame["value"], errors="coerce")
    if values.isna().any():
        raise InputError(path, "value is not a number", int(frame["lineno"][values.isna()].iloc[0]))
    return frame.assign(value=values)[list(TRUTH_COLUMNS)]


def known_effects_table(
    coefficients: pd.DataFrame, truth: pd.DataFrame | None, alpha: float = 0.05
) -> pd.DataFrame:
    """Return one row per estimate that has a truth on its scale, with the four flags.

    Parameters
    ----------
    coefficients
        The tidy coefficients (``indicator_id, model, term, estimate, conf_low, conf_high,
        p_value, scale``), in their table order, which the result keeps.
    truth
        From :func:`load_truth`; None (a dataset without known effects) gives a table with the
        columns and no rows.
    alpha
        Significance level of ``significant`` and ``false_positive``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`; the flags are nullable booleans.
    """
    if truth is None or truth.empty:
        return pd.DataFrame({column: [] for column in TABLE_COLUMNS})
    truth = truth.rename(columns={"value": "truth"})
    rows = coefficients[coefficients["estimate"].notna()].merge(
        truth, on=["indicator_id", "term", "scale"], how="inner", validate="many_to_one"
    )
    has_interval = rows["conf_low"].notna() & rows["conf_high"].notna()
    nonzero = rows["truth"] != 0
    significant = rows["p_value"].notna() & (rows["p_value"] < alpha)
    covered = (rows["conf_low"] <= rows["truth"]) & (rows["truth"] <= rows["conf_high"])
    sign_right = np.sign(rows["estimate"]) == np.sign(rows["truth"])
    tested = rows["p_value"].notna()
    return rows.assign(
        covered=_flag(covered, has_interval),
        sign_right=_flag(sign_right, nonzero),
        significant=_flag(significant, tested),
        false_positive=_flag(significant, ~nonzero & tested),
    )[TABLE_COLUMNS].reset_index(drop=True)


def _flag(values: pd.Series, applies: pd.Series) -> pd.Series:
    """Return ``values`` as a nullable boolean, missing where the flag does not apply."""
    return values.astype("boolean").where(applies, pd.NA)


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else np.nan


def known_effects_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Return per model and term: coverage, sign agreement and false positives.

    Parameters
    ----------
    table
        From :func:`known_effects_table`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`, in the table's order of models and terms:
        ``estimates`` compared, ``with_interval`` and how many of those ``covered`` the truth
        (``coverage_pct``), ``nonzero_truth`` and how many of those have the right sign
        (``sign_right``, ``sign_right_pct``), ``zero_truth`` (with a p-value) and how many of
        those are ``false_positives``.
    """
    rows = []
    for (model, term), group in table.groupby(["model", "term"], sort=False):
        covered = group["covered"].dropna()
        sign = group["sign_right"].dropna()
        false = group["false_positive"].dropna()
        rows.append(
            {
                "model": model,
                "term": term,
                "estimates": len(group),
                "with_interval": len(covered),
                "covered": int(covered.sum()),
                "coverage_pct": _percent(int(covered.sum()), len(covered)),
                "nonzero_truth": len(sign),
                "sign_right": int(sign.sum()),
                "sign_right_pct": _percent(int(sign.sum()), len(sign)),
                "zero_truth": len(false),
                "false_positives": int(false.sum()),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
