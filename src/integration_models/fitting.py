"""One workflow job: fit one model to one indicator and write its tidy rows as JSON.

The Snakemake rule runs this in-process (a ``run:`` block), so 50 fits do not each pay the
seconds it takes to import pandas, statsmodels and linearmodels in a new interpreter. Fits
are serialised by a lock: each takes about 0.1 s, and the warnings they raise are captured
with ``warnings.catch_warnings``, which is not thread-safe.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pandas as pd

from integration_models.models.base import FitSettings, fit_indicator
from integration_models.models.design import SCALES
from integration_models.registry import load_registry

_LOCK = threading.Lock()


def outcome_scale(measure: str, indicator_id: str, by_measure: dict, overrides: dict) -> str:
    """Return the configured outcome scale of an indicator: its override, else its measure's."""
    scale = overrides.get(indicator_id, by_measure[measure])
    if scale not in SCALES:
        raise ValueError(f"unknown outcome scale '{scale}' for {indicator_id}")
    return scale


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(payload: dict, path: Path) -> None:
    """Write JSON atomically (temporary file, then rename), so no half-written file remains."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def fit_job(
    panel_path: str | Path,
    registry_path: str | Path,
    indicator_id: str,
    model: str,
    by_measure: dict,
    overrides: dict,
    settings: dict,
    out_path: str | Path,
    log_path: str | Path,
) -> None:
    """Fit ``model`` to ``indicator_id`` and write ``{"fit": ..., "coefficients": [...]}``.

    Parameters
    ----------
    panel_path, registry_path
        ``panel.parquet`` and the dataset's ``indicators.csv``.
    indicator_id, model
        What to fit.
    by_measure, overrides
        Outcome scale per measure, and per indicator where configured.
    settings
        Keyword arguments of :class:`FitSettings`: minimum data and significance level.
    out_path, log_path
        The JSON result and a short human-readable log.
    """
    registry = load_registry(registry_path).set_index("indicator_id")
    measure = registry.loc[indicator_id, "measure"]
    scale = outcome_scale(measure, indicator_id, by_measure, overrides)
    panel = pd.read_parquet(panel_path)
    with _LOCK:
        result = fit_indicator(
            panel, indicator_id, model, scale, FitSettings(**settings), measure=measure
        )
    payload = {
        "fit": {key: _clean(value) for key, value in result.fit.items()},
        "coefficients": [
            {key: _clean(value) for key, value in row.items()} for row in result.coefficients
        ],
    }
    write_json(payload, Path(out_path))
    fit = result.fit
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    Path(log_path).write_text(
        f"{model} {indicator_id}: status {fit['status']}, n_obs {fit['n_obs']}, "
        f"optimiser {fit['optimiser']}\nmessage: {fit['message']}\nwarnings: {fit['warnings']}\n",
        encoding="utf-8",
    )
