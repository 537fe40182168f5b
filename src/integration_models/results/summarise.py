"""Gather the per-job fits into the contract's tables and summarise them as the study did.

``coefficients`` (one row per indicator, model and term), ``model_fit`` (one row per indicator
and model), ``summary`` (one row per indicator: the sign of each significant term) and
``headline`` (the counts behind sentences such as "change over time in X of N indicators").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.inference.labels import INFERENCE_LABELS
from integration_models.inference.multiplicity import adjust_pvalues
from integration_models.io import atomic_path
from integration_models.models.base import COEFFICIENT_COLUMNS, FIT_COLUMNS
from integration_models.models.design import TERMS, WITHIN_AREA_CONTROLS
from integration_models.plan.analysis_plan import JOINT_DRAW_TESTS, AnalysisPlan

SUMMARY_TERMS = {
    "mixed": tuple(term for term in TERMS if term not in WITHIN_AREA_CONTROLS),
    "twfe": ("integration_full", "integration_partial", *WITHIN_AREA_CONTROLS),
    "glm": ("integration_full", "integration_partial"),
    "csdid": ("integration_full", "integration_partial"),
    "sunab": ("integration_full", "integration_partial"),
    "bjs": ("integration_full", "integration_partial"),
    "dcdh": ("integration_full", "integration_partial"),
    # the replication with year effects: time and covid are absorbed by them
    "mixed_year": ("integration_full", "integration_partial", "deprivation", "log_density"),
}
TERM_WORDS = {
    "time": "change over time",
    "integration_full": "an association with full integration (vs none)",
    "integration_partial": "an association with partial integration (vs none)",
    "deprivation": "an association with deprivation",
    "covid": "a COVID-19 difference",
    "log_density": "an association with population density",
    "deprivation_trend": "a trend by pre-integration deprivation",
}
HEADLINE_COLUMNS = [
    "model",
    "term",
    "family",
    "n_significant",
    "n_positive",
    "n_negative",
    "n_estimated",
    "statement",
    "inference",
]
FLOAT_FORMAT = "%.12g"


def collect_fits(paths: list[str | Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Read the JSON fit files; return (coefficients, model_fit, event_study), sorted stably."""
    from integration_models.models.csdid import EVENT_COLUMNS

    coefficients, fits, events = [], [], []
    for path in paths:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        fits.append(payload["fit"])
        coefficients.extend(payload["coefficients"])
        events.extend(payload.get("event_study", []))
    coef = pd.DataFrame(coefficients, columns=COEFFICIENT_COLUMNS)
    fit = pd.DataFrame(fits, columns=FIT_COLUMNS)
    order = {term: i for i, term in enumerate(TERMS)}
    coef = coef.sort_values(
        ["indicator_id", "model", "term"], key=lambda s: s.map(order) if s.name == "term" else s
    )
    for column in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
        coef[column] = coef[column].astype(float)
    event = pd.DataFrame(events, columns=EVENT_COLUMNS)
    event = event.sort_values(["indicator_id", "model", "category", "event_time"])
    fit = fit.sort_values(["indicator_id", "model"]).reset_index(drop=True)
    return coef.reset_index(drop=True), fit, event.reset_index(drop=True)


def _sign(row: pd.Series, alpha: float) -> str:
    if not np.isfinite(row["p_value"]):
        return ""
    if row["p_value"] >= alpha:
        return "ns"
    return "+" if row["estimate"] > 0 else "-"


ADJUSTED_TERMS = ("time", "integration_full", "integration_partial")


def add_adjusted_pvalues(coefficients: pd.DataFrame, model_fit: pd.DataFrame) -> pd.DataFrame:
    """Return the coefficients with ``p_adjusted``: Benjamini-Hochberg per model and term.

    Each family is one model's one term over all indicators whose fit is ``ok`` and whose
    p-value exists: the change-over-time family (``time``, the replication of "22 of 25") is
    kept apart from each integration family, as methods.md advises. Other terms are not
    adjusted. ``adjustment`` names the family and its size. The adjustment itself is
    :func:`integration_models.inference.multiplicity.adjust_pvalues`.

    Parameters
    ----------
    coefficients
        The coefficient rows of every fit.
    model_fit
        The fit rows; only fits whose ``status`` is ``ok`` count.

    Returns
    -------
    pandas.DataFrame
        A copy of ``coefficients`` with the columns ``p_adjusted`` and ``adjustment``.
    """
    out = coefficients.copy()
    out["p_adjusted"] = np.nan
    out["adjustment"] = ""
    ok = model_fit.loc[model_fit["status"] == "ok", ["indicator_id", "model"]]
    usable = out.reset_index().merge(ok, on=["indicator_id", "model"]).set_index("index")
    for (model, term), family in usable.groupby(["model", "term"], sort=True):
        family = family[np.isfinite(family["p_value"])]
        if term not in ADJUSTED_TERMS or family.empty:
            continue
        out.loc[family.index, "p_adjusted"] = adjust_pvalues(family["p_value"].to_numpy())
        out.loc[family.index, "adjustment"] = (
            f"Benjamini-Hochberg over {len(family)} indicators ({model}, {term})"
        )
    return out


def summary_table(
    coefficients: pd.DataFrame, model_fit: pd.DataFrame, registry: pd.DataFrame, alpha: float
) -> pd.DataFrame:
    """One row per indicator: ``+``/``-`` (significant at ``alpha``), ``ns``, or empty.

    Only fits with status ``ok`` count; a term that was not estimated is empty.
    """
    ok = model_fit.loc[model_fit["status"] == "ok", ["indicator_id", "model"]]
    usable = coefficients.merge(ok, on=["indicator_id", "model"])
    signs = usable.assign(sign=usable.apply(_sign, axis=1, alpha=alpha))
    summary = registry[["indicator_id", "title", "domain", "measure"]].copy()
    scales = model_fit.drop_duplicates("indicator_id").set_index("indicator_id")["scale"]
    summary["scale"] = summary["indicator_id"].map(scales)
    for model, terms in SUMMARY_TERMS.items():
        if model not in set(model_fit["model"]):
            continue
        for term in terms:
            picked = signs[(signs["model"] == model) & (signs["term"] == term)]
            mapping = picked.set_index("indicator_id")["sign"]
            summary[f"{model}_{term}"] = summary["indicator_id"].map(mapping).fillna("")
            if "p_adjusted" in picked and term in ADJUSTED_TERMS:
                significant = int((picked["p_adjusted"] < alpha).sum())
                summary.attrs.setdefault("adjusted", {})[f"{model}_{term}"] = significant
    return summary.reset_index(drop=True)


def headline_table(summary: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Count indicators with each significant term, per model, with a sentence for each."""
    rows = []
    for model, terms in SUMMARY_TERMS.items():
        for term in terms:
            column = f"{model}_{term}"
            if column not in summary:
                continue
            signs = summary[column]
            estimated = int((signs != "").sum())
            positive = int((signs == "+").sum())
            negative = int((signs == "-").sum())
            significant = positive + negative
            adjusted = summary.attrs.get("adjusted", {}).get(column)
            after = "" if adjusted is None else f"; {adjusted} after Benjamini-Hochberg"
            family = (
                "change over time"
                if term == "time"
                else ("integration" if term.startswith("integration") else "context")
            )
            statement = (
                f"{model}: {TERM_WORDS[term]} in {significant} of {estimated} indicators "
                f"(p < {alpha:g}, unadjusted; {positive} positive, {negative} negative{after})"
                if estimated
                else f"{model}: {TERM_WORDS[term]}: not tested in any of the "
                f"{len(summary)} indicators (no fit that is ok gives it a p-value)"
            )
            rows.append(
                [model, term, family, significant, positive, negative, estimated, statement, ""]
            )
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


ADJUSTMENT_COLUMNS = {"romano_wolf": "p_romano_wolf", "benjamini_hochberg": "p_adjusted"}
ADJUSTMENT_WORDS = {"romano_wolf": "Romano-Wolf", "benjamini_hochberg": "Benjamini-Hochberg"}
FAMILY_ORDER = ("primary", "secondary")


@dataclass(frozen=True)
class PlannedTest:
    """The headline test, its level and each family's adjustment, as the analysis plan fixes.

    Built from the plan (:meth:`of_plan`) and nothing else, so the headline, the conclusion
    and the estimates cannot depend on which test a simulation or the data favour.

    Attributes
    ----------
    test
        A key of :data:`~integration_models.inference.table.INFERENCE_LABELS`.
    alpha
        The test level.
    adjustments
        Family (``primary``, ``secondary``) -> ``romano_wolf`` or ``benjamini_hochberg``.
    """

    test: str
    alpha: float
    adjustments: Mapping[str, str]

    @classmethod
    def of_plan(cls, plan: AnalysisPlan) -> PlannedTest:
        """Return the plan's test, alpha and families."""
        return cls(plan.test, plan.alpha, dict(plan.families))

    def adjustment(self, family: str) -> str:
        """Return the adjustment used for ``family``.

        Romano-Wolf needs joint resampled statistics, which only the bootstrap and the
        randomisation test draw; under another test a Romano-Wolf family falls back to
        Benjamini-Hochberg (listed as a deviation, :func:`~integration_models.plan.
        analysis_plan.deviations`).
        """
        method = self.adjustments.get(family, "benjamini_hochberg")
        if method == "romano_wolf" and self.test not in JOINT_DRAW_TESTS:
            return "benjamini_hochberg"
        return method

    def words(self, family: str, count: int) -> str:
        """Say the adjustment of ``family`` over ``count`` outcomes, e.g. for the statement."""
        outcomes = "outcome" if count == 1 else "outcomes"
        return f"{ADJUSTMENT_WORDS[self.adjustment(family)]} within the {count} {family} {outcomes}"


def headline_label(inference: pd.DataFrame, method: str) -> str:
    """Return the ``inference`` label of ``method`` as written in ``inference.csv``.

    The label is matched whatever its ``B``; ``""`` if no row was tested with it.
    """
    pattern = re.escape(INFERENCE_LABELS[method]).replace(re.escape("{reps}"), r"\d+")
    labels = [str(x) for x in inference["inference"].unique() if re.fullmatch(pattern, str(x))]
    return labels[0] if labels else ""


def _families(frame: pd.DataFrame) -> pd.Series:
    """Return each row's family of outcomes (``primary`` where the table has none)."""
    if "family" not in frame:
        return pd.Series("primary", index=frame.index)
    return frame["family"].fillna("primary").astype(str)


def _present_families(inference: pd.DataFrame) -> list[str]:
    """Return the families of ``inference`` with at least one indicator, primary first."""
    present = set(_families(inference))
    return [family for family in FAMILY_ORDER if family in present]


def plan_headline(inference: pd.DataFrame, planned: PlannedTest) -> pd.DataFrame:
    """Headline rows for the ``twfe`` integration terms under the analysis plan's test.

    One row per family of outcomes (primary first, then secondary if the registry has any)
    and integration term. ``n_significant`` counts the indicators whose p-value, adjusted
    within the family as the plan says (:meth:`PlannedTest.adjustment`), is below alpha;
    the statement names the test and the adjustment and gives the unadjusted count too.
    """
    label = headline_label(inference, planned.test)
    words = INFERENCE_LABELS[planned.test].replace(", B={reps}", "").replace(" (B={reps})", "")
    shown = label or words
    alpha = planned.alpha
    rows = []
    for family in _present_families(inference):
        of_family = inference[_families(inference) == family]
        for term in ("integration_full", "integration_partial"):
            picked = of_family[(of_family["inference"] == label) & (of_family["term"] == term)]
            picked = picked[np.isfinite(picked["p_value"].astype(float))]
            column = ADJUSTMENT_COLUMNS[planned.adjustment(family)]
            significant = picked[picked[column].astype(float) < alpha]
            positive = int((significant["estimate"] > 0).sum())
            negative = len(significant) - positive
            unadjusted = int((picked["p_value"] < alpha).sum())
            registered = int(of_family.loc[of_family["term"] == term, "indicator_id"].nunique())
            missing = _not_estimated(of_family, term, registered - len(picked))
            statement = (
                f"twfe, {shown}, {planned.words(family, len(picked))} (the analysis plan's "
                f"test and adjustment): {TERM_WORDS[term]} in {len(significant)} of "
                f"{len(picked)} {family} outcomes (adjusted p < {alpha:g}; {positive} positive, "
                f"{negative} negative; {unadjusted} before adjustment){missing}"
                if len(picked)
                else f"twfe: {TERM_WORDS[term]} in the {family} outcomes: not tested, as no "
                f"indicator's twfe fit estimates it{_not_estimated(of_family, term, registered)}"
            )
            rows.append(
                [
                    "twfe",
                    term,
                    f"integration, {family} outcomes",
                    len(significant),
                    positive,
                    negative,
                    len(picked),
                    statement,
                    label,
                ]
            )
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


def _not_estimated(inference: pd.DataFrame, term: str, count: int) -> str:
    """Say how many indicators were not tested for ``term`` and the commonest reason."""
    if count == 0:
        return ""
    notes = inference.loc[inference["term"] == term, "inference"].astype(str)
    reasons = notes[notes.str.startswith("not estimated: ")].str.removeprefix("not estimated: ")
    common = f"; commonest reason: {reasons.value_counts().index[0]}" if len(reasons) else ""
    return f"; {count} not estimated{common}"


CONCLUSION_COLUMNS = [
    "family",
    "term",
    "test",
    "adjustment",
    "alpha",
    "n_indicators",
    "n_tested",
    "n_unadjusted",
    "n_significant",
    "n_better",
    "n_worse",
    "n_bh",
    "n_romano_wolf",
    "mde_test",
    "n_mde",
    "mde_sd_median",
    "mde_sd_min",
    "mde_sd_max",
    "bound",
    "n_equivalence",
    "n_equivalent",
    "ruled_out_sd_median",
    "ruled_out_sd_max",
    "summary",
    "statement",
    "limits",
]
CONCLUSION_WORDS = {
    "integration_full": "Full integration",
    "integration_partial": "Partial integration",
}
POWER_TEST = "CRV1 t(G-1)"  # the test power.csv simulates (integration_models.inference.power)
CONCLUSION_LIMITS = (
    "These are associations in observational data from council areas, not effects: the data "
    "cannot say whether integration caused any difference, nor rule out a difference smaller "
    "than the ones above, and they rest on a classification of each partnership that is "
    "itself uncertain."
)


def conclusion_table(
    inference: pd.DataFrame,
    power: pd.DataFrame | None,
    registry: pd.DataFrame,
    planned: PlannedTest,
    equivalence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the answer the report leads with: one row per family and integration term.

    The report displays this table and decides nothing itself, so the choices are made here,
    once, from the analysis plan (``planned``): the test, the level and, for each family of
    outcomes (the primary outcomes first, then the secondary ones, each as ``inference``
    marks them), its multiplicity adjustment. An indicator counts as significant when its
    p-value adjusted within its family is below alpha (:func:`estimates_table`); the count
    before adjustment is kept beside it (``n_unadjusted``), as are the Benjamini-Hochberg
    and Romano-Wolf counts within the family.

    Significant estimates are called better or worse from the sign of the estimate on the
    model scale (a log-scale estimate has the sign of the change) and the registry's
    ``higher_is_better``. The minimum detectable effect is that of the plan's test
    (``power.csv``'s ``mde_plan_test``, in outcome SDs), for the family's indicators; a power
    table without it falls back to the size-adjusted :data:`POWER_TEST` MDE, and the sentence
    names which test it is. What the data rule out comes from ``equivalence.csv`` (the plan's
    test inverted): per indicator the smallest effect, in outcome SDs, that the interval
    excludes on both sides, summarised over the family (median and largest), and how many
    indicators the two one-sided tests show equivalent within the plan's bound.

    Parameters
    ----------
    inference
        ``inference.csv`` (:func:`integration_models.inference.table.combine_few_cluster`).
    power
        ``power.csv`` (:func:`integration_models.inference.power.power_table`), or None if absent.
    registry
        The indicator registry (``indicator_id``, ``higher_is_better`` as bool).
    planned
        The plan's test, alpha and adjustments.
    equivalence
        ``equivalence.csv`` (:func:`integration_models.inference.equivalence.combine_equivalence`),
        or None if absent (nothing is then said about what is ruled out).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CONCLUSION_COLUMNS`, rows by family (primary first) then
        ``integration_full`` and ``integration_partial``; ``summary`` is one short sentence
        per row (the report's first screen: result, adjustment, what is ruled out and what
        could have been missed; the test and level are said once, above them),
        ``statement`` the same in full and ``limits`` the sentence on what the data cannot
        say.
    """
    label = headline_label(inference, planned.test)
    alpha = planned.alpha
    estimates = estimates_table(inference, registry, planned, equivalence)
    rows = []
    for family in _present_families(inference):
        of_family = inference[_families(inference) == family]
        for term, words in CONCLUSION_WORDS.items():
            registered = int(of_family.loc[of_family["term"] == term, "indicator_id"].nunique())
            picked = estimates[
                (estimates["term"] == term)
                & (estimates["family"] == family)
                & estimates["p_value"].notna()
            ]
            wolf_values = picked["p_romano_wolf"]
            mde, mde_test = _mde_sd(power, term, set(of_family["indicator_id"]))
            ruled = _ruled_out(equivalence, term, set(picked["indicator_id"]))
            row = {
                "family": family,
                "term": term,
                "test": label,
                "adjustment": planned.words(family, len(picked)) if len(picked) else "",
                "alpha": alpha,
                "n_indicators": registered,
                "n_tested": len(picked),
                "n_unadjusted": int((picked["p_value"] < alpha).sum()),
                "n_significant": int(picked["significant"].sum()),
                "n_better": int((picked["outcome"] == "better").sum()),
                "n_worse": int((picked["outcome"] == "worse").sum()),
                "n_bh": int((picked["p_adjusted"] < alpha).sum()),
                "n_romano_wolf": (
                    int((wolf_values < alpha).sum()) if wolf_values.notna().any() else None
                ),
                "mde_test": mde_test if len(mde) else "",
                "n_mde": len(mde),
                "mde_sd_median": float(np.median(mde)) if len(mde) else np.nan,
                "mde_sd_min": float(mde.min()) if len(mde) else np.nan,
                "mde_sd_max": float(mde.max()) if len(mde) else np.nan,
                **ruled,
                "limits": CONCLUSION_LIMITS,
            }
            row["summary"] = _conclusion_summary(words, row)
            row["statement"] = _conclusion_sentence(words, row)
            rows.append(row)
    return pd.DataFrame(rows, columns=CONCLUSION_COLUMNS)


ESTIMATES_COLUMNS = [
    "indicator_id",
    "title",
    "higher_is_better",
    "term",
    "family",
    "test",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "p_value",
    "p_adjusted",
    "p_romano_wolf",
    "adjustment",
    "p_family_adjusted",
    "significant",
    "outcome",
    "n_identifying_areas",
    "caveat",
]


def estimates_table(
    inference: pd.DataFrame,
    registry: pd.DataFrame,
    planned: PlannedTest,
    equivalence: pd.DataFrame | None = None,
    caveats: Mapping[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """Return every indicator's integration estimates under the plan's test, with a verdict.

    The rows :func:`conclusion_table` counts and the report's first table shows, decided
    here once: ``family`` is the indicator's family of outcomes (from ``inference``),
    ``p_family_adjusted`` its p-value under the plan's test adjusted within that family as
    the plan says (``adjustment``: Romano-Wolf or Benjamini-Hochberg), ``significant`` is
    ``p_family_adjusted < alpha``, and ``outcome`` says what a significant estimate means
    for children (``better`` or ``worse``, from its sign on the model scale and the
    registry's ``higher_is_better``; ``unknown direction`` for an estimate of exactly 0),
    else ``not significant``, or ``not estimated`` when the test gave no p-value (the reason
    is in ``inference.csv``). The interval is the plan's test's own: where that test has no
    closed-form interval (the bootstrap and permutation tests), the interval found by
    inverting it (``equivalence``'s ``conf_low``/``conf_high``), if given.
    ``n_identifying_areas`` is the number of partnerships whose status changes within the
    indicator's years (what identifies the estimate) and ``caveat`` what the estimate rests on
    that a reader should know (``caveats``: e.g. a change on an assumed go-live date, from
    :func:`identification_caveats`).

    Returns
    -------
    pandas.DataFrame
        :data:`ESTIMATES_COLUMNS`, one row per registered indicator and integration term of
        ``inference``: the primary outcomes first, then the secondary ones, each in registry
        order.
    """
    label = headline_label(inference, planned.test)
    by_id = registry.set_index("indicator_id")
    terms = [t for t in CONCLUSION_WORDS if t in set(inference["term"])]
    family_of = dict(zip(inference["indicator_id"], _families(inference), strict=True))
    picked = inference[inference["inference"] == label].drop_duplicates(["indicator_id", "term"])
    picked = picked.set_index(["indicator_id", "term"])
    numbers = ["estimate", "std_error", "conf_low", "conf_high", "p_value", "p_adjusted"]
    inverted = _inverted_intervals(equivalence, label)
    listed = [i for i in registry["indicator_id"] if i in family_of]
    listed.sort(key=lambda i: FAMILY_ORDER.index(family_of[i]))  # stable: registry order kept
    rows = []
    for indicator in listed:
        better = bool(by_id.loc[indicator, "higher_is_better"])
        family = family_of[indicator]
        column = ADJUSTMENT_COLUMNS[planned.adjustment(family)]
        for term in terms:
            found = (indicator, term) in picked.index
            values = picked.loc[(indicator, term)] if found else None
            row = {name: float(values[name]) if found else np.nan for name in numbers}
            if (indicator, term) in inverted and not np.isfinite(row["conf_low"]):
                row["conf_low"], row["conf_high"] = inverted[(indicator, term)]
            wolf = float(values.get("p_romano_wolf", np.nan)) if found else np.nan
            family_p = wolf if column == "p_romano_wolf" else row["p_adjusted"]
            significant = bool(np.isfinite(family_p) and family_p < planned.alpha)
            if not np.isfinite(row["p_value"]):
                outcome = "not estimated"
            elif significant:
                outcome = outcome_direction(row["estimate"], better) or "unknown direction"
            else:
                outcome = "not significant"
            rows.append(
                {
                    "indicator_id": indicator,
                    "title": by_id.loc[indicator, "title"],
                    "higher_is_better": better,
                    "term": term,
                    "family": family,
                    "test": label,
                    **row,
                    "p_romano_wolf": wolf,
                    "adjustment": ADJUSTMENT_WORDS[planned.adjustment(family)],
                    "p_family_adjusted": family_p,
                    "significant": significant,
                    "outcome": outcome,
                    "n_identifying_areas": (
                        values.get("n_identifying_areas", np.nan) if found else np.nan
                    ),
                    "caveat": (caveats or {}).get((indicator, term), ""),
                }
            )
    return pd.DataFrame(rows, columns=ESTIMATES_COLUMNS)


ASSUMED_FLAG = "identifying change rests on an assumed classification row"


def identification_caveats(coefficients: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Return, per indicator and integration term, the caveat of the ``twfe`` estimate.

    An estimate whose identifying change of status rests on a classification row of
    ``confidence`` assumed (the fit's ``note``, :mod:`integration_models.models.estimators`)
    gets ``assumed go-live date: <partnerships>``, so the report flags it beside the estimate.
    """
    twfe = coefficients["model"] == "twfe"
    rows = coefficients[twfe & coefficients["term"].isin(tuple(CONCLUSION_WORDS))]
    found = rows["note"].fillna("").astype(str).str.extract(rf"{ASSUMED_FLAG} \(([^)]*)\)")[0]
    return {
        (str(r.indicator_id), str(r.term)): f"assumed go-live date: {names}"
        for r, names in zip(rows.itertuples(index=False), found, strict=True)
        if isinstance(names, str)
    }


def _inverted_intervals(
    equivalence: pd.DataFrame | None, label: str
) -> dict[tuple[str, str], tuple[float, float]]:
    """Return the plan's test's inverted intervals by indicator and term (that test's rows)."""
    if equivalence is None or equivalence.empty:
        return {}
    rows = equivalence[equivalence["test"] == label]
    return {
        (str(r.indicator_id), str(r.term)): (float(r.conf_low), float(r.conf_high))
        for r in rows.itertuples(index=False)
    }


MULTIPLICITY_COLUMNS = [
    "test",
    "term",
    "family",
    "tested",
    "significant",
    "after_bh",
    "after_romano_wolf",
]


def multiplicity_table(inference: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Return how many indicators each test finds at ``alpha`` before and after adjustment.

    One row per test, integration term and family of outcomes of ``inference.csv`` (the
    adjustments are within the family, :func:`~integration_models.inference.table.
    combine_few_cluster`): ``tested`` the indicators with a p-value, ``significant`` those
    with ``p_value < alpha``, ``after_bh`` and ``after_romano_wolf`` those whose
    Benjamini-Hochberg or Romano-Wolf adjusted p-value is below ``alpha`` (empty where the
    test has no such adjustment).
    """
    rows = []
    frame = inference.assign(family=_families(inference))
    for (label, term, family), group in frame.groupby(["inference", "term", "family"], sort=False):
        if str(label).startswith("not estimated"):
            continue
        wolf = group["p_romano_wolf"]
        rows.append(
            {
                "test": label,
                "term": term,
                "family": family,
                "tested": int(group["p_value"].notna().sum()),
                "significant": int((group["p_value"] < alpha).sum()),
                "after_bh": int((group["p_adjusted"] < alpha).sum()),
                "after_romano_wolf": int((wolf < alpha).sum()) if wolf.notna().any() else None,
            }
        )
    table = pd.DataFrame(rows, columns=MULTIPLICITY_COLUMNS)
    order = table["family"].map({f: i for i, f in enumerate(FAMILY_ORDER)})
    return table.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def outcome_direction(estimate: object, higher_is_better: object) -> str:
    """Say whether a significant estimate means a better or worse outcome ("" if unknown)."""
    value = float(estimate)  # type: ignore[arg-type]
    if not np.isfinite(value) or value == 0 or not isinstance(higher_is_better, bool | np.bool_):
        return ""
    return "better" if (value > 0) == bool(higher_is_better) else "worse"


def _mde_sd(
    power: pd.DataFrame | None, term: str, indicators: set[str] | None = None
) -> tuple[np.ndarray, str]:
    """Return the finite MDEs (outcome SDs) of ``term`` in ``power.csv`` and their test.

    The plan's test (``mde_plan_test``, converted to SDs with the row's own ``mde_sd / mde``)
    where the table has it, else the size-adjusted :data:`POWER_TEST` MDE. Only those of
    ``indicators`` (a family's), if given and ``power`` names its indicators.
    """
    if power is None or "mde_size_adjusted_sd" not in power:
        return np.empty(0), ""
    rows = power["term"] == term
    if indicators is not None and "indicator_id" in power:
        rows &= power["indicator_id"].isin(indicators)
    picked = power.loc[rows]
    if "mde_plan_test" in picked and picked["mde_plan_test"].notna().any():
        number = lambda column: pd.to_numeric(picked[column], errors="coerce")  # noqa: E731
        values = (number("mde_plan_test") * number("mde_sd") / number("mde")).to_numpy(float)
        tests = picked["test"].dropna().astype(str).unique()
        test = tests[0] if len(tests) == 1 else "the analysis plan's test"
    else:
        values = pd.to_numeric(picked["mde_size_adjusted_sd"], errors="coerce").to_numpy(float)
        test = f"{POWER_TEST}, size-adjusted"
    return values[np.isfinite(values)], test


def _ruled_out(equivalence: pd.DataFrame | None, term: str, indicators: set[str]) -> dict:
    """Summarise what the plan's intervals rule out for one term and family (outcome SDs).

    Per indicator: the smallest effect size excluded on both sides, ``max(|ruled_out_below|,
    |ruled_out_above|) / sd`` (infinite where an end is unbounded); then its median and
    largest over the family, the number of indicators with an interval (``n_equivalence``)
    and of those equivalent within the plan's bound.
    """
    empty = {
        "bound": "",
        "n_equivalence": 0,
        "n_equivalent": 0,
        "ruled_out_sd_median": np.nan,
        "ruled_out_sd_max": np.nan,
    }
    if equivalence is None or equivalence.empty:
        return empty
    rows = equivalence[(equivalence["term"] == term) & equivalence["indicator_id"].isin(indicators)]
    low = pd.to_numeric(rows["ruled_out_below"], errors="coerce").abs()
    high = pd.to_numeric(rows["ruled_out_above"], errors="coerce").abs()
    sd = pd.to_numeric(rows["sd"], errors="coerce")
    sizes = (np.maximum(low, high) / sd).to_numpy(float)
    sizes = sizes[~np.isnan(sizes)]
    if not len(sizes):
        return empty
    bounds = rows.loc[rows["bound_scale"].notna()].apply(_bound_words, axis=1).unique()
    return {
        "bound": bounds[0] if len(bounds) == 1 else "the plan's bounds",
        "n_equivalence": len(sizes),
        "n_equivalent": int(rows["equivalent"].astype("boolean").fillna(False).sum()),
        "ruled_out_sd_median": float(np.median(sizes)),
        "ruled_out_sd_max": float(sizes.max()),
    }


def _bound_words(row: pd.Series) -> str:
    unit = "SD" if row["bound_scale"] == "sd" else "units"
    return f"+-{float(row['bound']):g} {unit}"


def _conclusion_summary(words: str, row: dict[str, object]) -> str:
    """Return one short sentence for a family and term of :func:`conclusion_table`.

    Better or worse than no integration (by ``higher_is_better``) after the family's
    adjustment, the median effect the intervals rule out and the median MDE of the plan's
    test, in outcome SDs; the test and its level (``alpha``) are named once, above the
    sentences, by the report, and an MDE of another test says which.
    """
    tested = int(row["n_tested"])  # type: ignore[call-overload]
    outcomes = "outcome" if tested == 1 else "outcomes"
    subject = f"{words}, {tested} {row['family']} {outcomes}"
    if not tested:
        return f"{words}, {row['family']} outcomes: not tested (no estimate under the plan's test)."
    unexplained = int(row["n_significant"]) - int(row["n_better"]) - int(row["n_worse"])  # type: ignore[call-overload]
    if not int(row["n_significant"]):  # type: ignore[call-overload]
        result = "none better or worse than with no integration"
    else:
        ways = [f"{row['n_better']} better", f"{row['n_worse']} worse"]
        ways += [f"{unexplained} of unknown direction"] if unexplained else []
        result = f"{', '.join(ways)} than with no integration"
    sentence = f"{subject}: {result} ({row['adjustment']})"
    bounds = []
    if int(row.get("n_equivalence") or 0):  # type: ignore[call-overload]
        bounds.append(f"effects above {float(row['ruled_out_sd_median']):.2g} SD ruled out")  # type: ignore[arg-type]
    if int(row["n_mde"]):  # type: ignore[call-overload]
        # the MDE of another test than the headline's (power.csv without the plan test's)
        # is labelled with it, as the full sentence does
        other = str(row["mde_test"]).split(" (")[0] != str(row["test"]).split(" (")[0]
        bounds.append(
            f"below about {float(row['mde_sd_median']):.2g} SD could have been missed"  # type: ignore[arg-type]
            + (f" ({row['mde_test']})" if other else "")
        )
    if bounds:
        sentence += "; for the median outcome, " + ", ".join(bounds)
    return sentence + "."


def _conclusion_sentence(words: str, row: dict[str, object]) -> str:
    """Return the plain sentences of one family and term of :func:`conclusion_table`.

    Three short sentences: what differed under the plan's test after the family's
    adjustment; what the plan test's intervals rule out (outcome SDs) and what the two
    one-sided tests show; what effect could have been missed (the plan test's MDE).
    """
    level = f"{float(row['alpha']) * 100:g}%"  # type: ignore[arg-type]
    tested, registered = int(row["n_tested"]), int(row["n_indicators"])  # type: ignore[call-overload]
    subject = f"{words} (compared with none), {row['family']} outcomes"
    if not tested:
        return (
            f"{subject}: not tested, as no indicator's two-way fixed effects fit estimates it "
            f"({registered} indicators)."
        )
    unexplained = int(row["n_significant"]) - int(row["n_better"]) - int(row["n_worse"])  # type: ignore[call-overload]
    ways = [f"{row['n_better']} better", f"{row['n_worse']} worse"]
    if unexplained:
        ways.append(f"{unexplained} of unknown direction")
    missing = (
        f"; {registered - tested} of the {registered} could not be tested"
        if registered > tested
        else ""
    )
    sentences = [
        f"{subject}: {row['n_significant']} of {tested} differed at the {level} level under "
        f"the plan's test, {row['test']}, with {row['adjustment']} ({', '.join(ways)}; "
        f"{row['n_unadjusted']} before adjustment{missing})."
    ]
    if int(row.get("n_equivalence") or 0):  # type: ignore[call-overload]
        median, largest = float(row["ruled_out_sd_median"]), float(row["ruled_out_sd_max"])  # type: ignore[arg-type]
        worst = f"{largest:.2g} SD" if np.isfinite(largest) else "no bound on one side"
        sentences.append(
            f"Effects larger than {median:.2g} outcome SDs are ruled out for the median "
            f"indicator ({worst} for the least precise; {100 * (1 - float(row['alpha'])):g}% "  # type: ignore[arg-type]
            f"intervals); {row['n_equivalent']} of {row['n_equivalence']} are shown equivalent "
            f"to no effect within {row['bound']}."
        )
    if int(row["n_mde"]):  # type: ignore[call-overload]
        sentences.append(
            f"Effects smaller than about {float(row['mde_sd_median']):.2g} SDs (median; "
            f"{float(row['mde_sd_min']):.2g} to {float(row['mde_sd_max']):.2g}) could have "
            f"been missed (80% power, {row['mde_test']})."
        )
    else:
        sentences.append("No minimum detectable effect could be simulated for it.")
    return " ".join(sentences)


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a result table as CSV with a fixed float format, atomically.

    Text cells (titles and units from the registry, notes, messages) pass through
    :func:`integration_models.data.reading.neutralise_formulas`: a text cell that a spreadsheet
    program would run as a formula (starting with ``=``, ``@``, tab or CR, or with ``+`` or
    ``-`` followed by more characters, and not a plain number) is written with a leading
    single quote. Numeric columns are untouched (``-1.5`` stays a number), and so are the
    lone ``+`` and ``-`` signs of ``summary.csv``.

    A results table whose file stem names a schema in
    :data:`integration_models.results.schemas.TABLES` is checked against it as written, that is as
    the file parses back, before it replaces ``path``: a table that breaks its declared columns,
    types or contracts is a bug in the step that built it, and stops that step rather than reaching
    the report.

    Raises
    ------
    integration_models.results.schemas.TableSchemaError
        If the table does not match its schema (``path`` is then left as it was).
    """
    from integration_models.data.reading import neutralise_formulas
    from integration_models.results import schemas

    name = Path(path).stem
    with atomic_path(path) as temporary:
        neutralise_formulas(frame).to_csv(
            temporary, index=False, float_format=FLOAT_FORMAT, lineterminator="\n"
        )
        if name in schemas.TABLES:
            schemas.check(schemas.read_table(temporary, name), name, path)
