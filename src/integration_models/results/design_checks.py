"""What the checks of the design say, in words decided here, so that the report only shows them.

Issue 16's checks each write their own table: the TWFE weights and the Goodman-Bacon
decomposition (:mod:`integration_models.diagnostics`), the HonestDiD breakdown values, the
synthetic controls of the single early adopters and the heterogeneity-robust estimators side by
side. This module reads those tables and writes one sentence per check (``design_checks.csv``),
with the rule behind each sentence fixed in advance here, not chosen by the numbers:

- the TWFE weights flag a term when its verdict says "not to be trusted" (negative weights
  below :data:`~integration_models.diagnostics.twfe_weights.NEGATIVE_WEIGHT_LIMIT`), and
  count the terms whose sigma-bar is below the estimate (effect heterogeneity smaller than
  the estimate could reverse its sign);
- HonestDiD reports each primary outcome's breakdown value, or why it has none;
- a synthetic control counts as evidence of an effect only where its placebo-in-space p-value
  is below the plan's alpha (a placebo test, named as such: not the plan's test);
- the estimators agree on an outcome and term when every identified estimate has the sign of
  the plan estimator's and every interval contains the plan estimator's estimate
  (:func:`estimator_agreement`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from integration_models.models.labels import model_label

CHECK_COLUMNS = ["check", "statement"]
TERM_WORDS = {"integration_full": "full", "integration_partial": "partial"}
NOT_TRUSTED = "not to be trusted"


def _term(term: str) -> str:
    return TERM_WORDS.get(term, term)


def _items(frame: pd.DataFrame, limit: int = 6) -> str:
    """Return ``a (full), b (partial)`` for the first ``limit`` rows, then how many more."""
    shown = [f"{r.indicator_id} ({_term(r.term)})" for r in frame.head(limit).itertuples()]
    more = len(frame) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def weights_statement(diagnostics: pd.DataFrame) -> str:
    """One sentence on the TWFE weights of every indicator and term."""
    rows = diagnostics[diagnostics["n_weights"].notna()]
    if rows.empty:
        return "TWFE weights: no integration term could be decomposed."
    flagged = rows[rows["verdict"].str.contains(NOT_TRUSTED, regex=False)]
    worst = rows.loc[rows["negative_sum"].idxmin()]
    fragile = rows[rows["sigma_ratio"] < 1].sort_values("sigma_ratio")
    forbidden = rows["bacon_forbidden_weight"].fillna(0)
    first = (
        f"TWFE weights (de Chaisemartin-D'Haultfoeuille): negative weights make TWFE not to be "
        f"trusted for {len(flagged)} of {len(rows)} indicator-terms"
        + (f" ({_items(flagged)})" if len(flagged) else "")
        + f"; the most negative sum is {worst['negative_sum']:.2f} "
        f"({worst['indicator_id']}, {_term(worst['term'])})."
    )
    second = (
        f" In {len(fragile)}, effect heterogeneity smaller than the estimate itself could "
        f"reverse its sign (sigma-bar below |estimate|: {_items(fragile)})."
        if len(fragile)
        else " In none could effect heterogeneity smaller than the estimate reverse its sign."
    )
    third = (
        f" Goodman-Bacon: comparisons with already-treated areas as controls carry at most "
        f"{forbidden.max():.0%} of a term's weight."
    )
    return first + second + third


def honest_statement(breakdown: pd.DataFrame) -> str:
    """One sentence on the HonestDiD breakdown values of the primary outcomes."""
    if breakdown.empty:
        return "Parallel trends (HonestDiD): no primary outcome to bound."
    found = breakdown[np.isfinite(breakdown["breakdown"].astype(float))]
    parts = [
        f"{r.indicator_id} ({_term(r.term)}) {float(r.breakdown):.2f}" for r in found.itertuples()
    ]
    reasons = (
        breakdown.loc[~breakdown.index.isin(found.index), "breakdown_text"]
        .fillna("")
        .map(lambda text: text.removeprefix("none: ").split(" (")[0].split(";")[0])
        .value_counts()
    )
    rest = "; ".join(f"{reason}: {count}" for reason, count in reasons.items())
    return (
        f"Parallel trends (HonestDiD, relative magnitudes, {len(breakdown)} primary "
        "outcome-terms): "
        + (
            "an effect is still concluded under post-period violations of parallel trends up "
            "to Mbar times the largest pre-period one, with breakdown values Mbar of "
            + ", ".join(parts)
            if parts
            else "no conclusion of an effect survives any violation"
        )
        + (f"; no breakdown value ({rest})." if rest else ".")
    )


def synthetic_statements(synthetic: pd.DataFrame, alpha: float) -> list[str]:
    """One sentence per early adopter: where it was fitted and what its placebo test says."""
    out = []
    scm = synthetic[synthetic["method"] == "scm"]
    for area, rows in scm.groupby("area_name", sort=False):
        fitted = rows[rows["status"] == "ok"]
        statuses = rows.loc[rows["status"] != "ok", "status"].value_counts()
        why = ", ".join(f"{status}: {count}" for status, count in statuses.items())
        if fitted.empty:
            out.append(
                f"Synthetic control, {area}: not fitted for any of the {len(rows)} indicators "
                f"({why})."
            )
            continue
        below = fitted[fitted["p_placebo"] < alpha].sort_values("p_placebo")
        smallest = fitted.loc[fitted["p_placebo"].idxmin()]
        placebos = int(smallest["n_placebos"])
        out.append(
            f"Synthetic control, {area} (go-live {int(fitted['go_live_year'].iloc[0])}): fitted "
            f"for {len(fitted)} of {len(rows)} indicators"
            + (f" ({why} for the others)" if why else "")
            + f"; placebo-in-space p below {alpha:g} for {len(below)}"
            + (f" ({', '.join(below['indicator_id'])})" if len(below) else "")
            + f"; the smallest is {smallest['p_placebo']:.3g} ({smallest['indicator_id']}, "
            f"{placebos} placebos, so no p below {1 / (placebos + 1):.3g} is possible). "
            "A placebo test, not the plan's."
        )
    return out


def estimator_agreement(
    coefficients: pd.DataFrame,
    outcomes: Sequence[str],
    estimators: Sequence[str],
    reference: str,
) -> pd.DataFrame:
    """Say per primary outcome and integration term whether the estimators agree.

    Agreement is fixed before any estimate is seen: every estimator with an identified estimate
    (a finite estimate and interval) has the reference's sign, and its interval contains the
    reference's estimate. An estimator without an interval (not identified, skipped) is left
    out and counted apart.

    Returns
    -------
    pandas.DataFrame
        ``indicator_id, term, reference_estimate, n_estimators, n_same_sign, n_cover,
        n_without_interval, agree, differing`` (the estimators that do not agree).
    """
    rows = []
    wanted = coefficients[
        coefficients["indicator_id"].isin(outcomes)
        & coefficients["term"].isin(TERM_WORDS)
        & coefficients["model"].isin([reference, *estimators])
    ]
    for (indicator, term), block in wanted.groupby(["indicator_id", "term"], sort=False):
        by_model = block.set_index("model")
        if reference not in by_model.index or not np.isfinite(
            float(by_model.loc[reference, "estimate"])
        ):
            continue
        beta = float(by_model.loc[reference, "estimate"])
        others = by_model.drop(index=reference).reindex(
            [m for m in estimators if m in by_model.index]
        )
        low, high = others["conf_low"].astype(float), others["conf_high"].astype(float)
        estimate = others["estimate"].astype(float)
        with_interval = np.isfinite(low) & np.isfinite(high) & np.isfinite(estimate)
        same = np.sign(estimate) == np.sign(beta)
        cover = (low <= beta) & (beta <= high)
        agreeing = with_interval & same & cover
        differing = [m for m in others.index[with_interval & ~agreeing]]
        rows.append(
            {
                "indicator_id": indicator,
                "term": term,
                "reference_estimate": beta,
                "n_estimators": int(with_interval.sum()),
                "n_same_sign": int((with_interval & same).sum()),
                "n_cover": int((with_interval & cover).sum()),
                "n_without_interval": int((~with_interval).sum()),
                "agree": bool(with_interval.any() and not differing),
                "differing": ", ".join(differing),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "indicator_id",
            "term",
            "reference_estimate",
            "n_estimators",
            "n_same_sign",
            "n_cover",
            "n_without_interval",
            "agree",
            "differing",
        ],
    )


def agreement_statement(agreement: pd.DataFrame, estimators: Sequence[str], reference: str) -> str:
    """One sentence: for how many primary outcome-terms the estimators agree, and where not."""
    names = ", ".join(model_label(m) for m in estimators)
    if agreement.empty:
        return f"Estimators side by side ({names}): no primary outcome has a {reference} estimate."
    compared = agreement[agreement["n_estimators"] > 0]
    differ = compared[~compared["agree"]]
    same_sign = int((compared["n_same_sign"] == compared["n_estimators"]).sum())
    cover = int((compared["n_cover"] == compared["n_estimators"]).sum())
    detail = "; ".join(
        f"{r.indicator_id} ({_term(r.term)}): {r.differing}" for r in differ.head(6).itertuples()
    )
    return (
        f"Estimators side by side ({names} against {reference}), {len(compared)} primary "
        f"outcome-terms with at least one other identified estimate: every estimate has the "
        f"{reference} estimate's sign for {same_sign}, every interval contains the {reference} "
        f"estimate for {cover}, and both (they agree) for {int(compared['agree'].sum())}"
        + (f"; they differ for {detail}" if len(differ) else "")
        + (f" and {len(differ) - 6} more" if len(differ) > 6 else "")
        + "."
    )


def design_checks(
    *,
    diagnostics: pd.DataFrame | None,
    breakdown: pd.DataFrame | None,
    synthetic: pd.DataFrame | None,
    agreement: tuple[pd.DataFrame, Sequence[str], str] | None,
    alpha: float,
) -> pd.DataFrame:
    """Return ``check, statement``: one sentence per check that has its table."""
    rows: list[Mapping[str, str]] = []
    if agreement is not None:
        rows.append({"check": "estimators", "statement": agreement_statement(*agreement)})
    if diagnostics is not None:
        rows.append({"check": "twfe_weights", "statement": weights_statement(diagnostics)})
    if breakdown is not None:
        rows.append({"check": "honest_did", "statement": honest_statement(breakdown)})
    if synthetic is not None:
        rows += [
            {"check": "synthetic_control", "statement": text}
            for text in synthetic_statements(synthetic, alpha)
        ]
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)
