"""One workflow job: the coefficient and event-study figures of one indicator, from its fits.

The inputs are only that indicator's fit files (``results/fits/<model>/<id>.json``), so a
change to one indicator's data redraws its own figures and no other indicator's. The rows are
read with :func:`integration_models.summarise.collect_fits`, as the ``tables`` step reads
them, so the event-study figure and ``event_study.csv`` show the same numbers.

The Snakemake rule runs this in its own process (a ``run:`` block of a local rule): drawing
two figures takes a fraction of a second, a new interpreter about two seconds to import pandas
and matplotlib. The whole job holds :data:`integration_models.local_jobs.LOCK`, because
matplotlib's ``rcParams`` and Python's warning filters are shared by the threads of that
process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from integration_models.atomic import write_text
from integration_models.local_jobs import LOCK
from integration_models.plots import LINEAR_MODELS
from integration_models.plots.base import synthetic_figures
from integration_models.plots.coefficients import plot_coefficients
from integration_models.plots.event_study import event_study_reasons, plot_event_study
from integration_models.registry import is_synthetic, load_registry
from integration_models.summarise import collect_fits


def indicator_figures_job(
    fits: Sequence[str | Path],
    registry_path: str | Path,
    indicator_id: str,
    coefficients_out: str | Path,
    event_study_out: str | Path | None,
    log_path: str | Path,
) -> list[Path]:
    """Draw one indicator's coefficient figure, and its event-study figure if asked.

    Parameters
    ----------
    fits
        The indicator's fit files of the linear models (``mixed``, ``twfe``, ``csdid``); any
        other model's rows are left out, as in the overview figures.
    registry_path
        The dataset's ``indicators.csv`` (titles, units; whether the data are synthetic).
    indicator_id
        The indicator drawn; every fit file must be of it.
    coefficients_out, event_study_out
        Target paths of the two figures (suffixes ``.png`` and ``.svg`` replace theirs);
        ``event_study_out`` is drawn from the ``csdid`` fit's ``event_study`` rows, with the
        notes of its overall effects saying why a panel is empty or has no intervals.
    log_path
        A short log: the fit files read and the figures written.

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG files written.

    Raises
    ------
    ValueError
        If a fit file is of another indicator.
    """
    with LOCK:
        registry = load_registry(registry_path)
        coefficients, _, events = collect_fits(list(fits))
        others = sorted(set(coefficients["indicator_id"]) - {indicator_id})
        if others:
            raise ValueError(f"fits of {indicator_id} include rows of {', '.join(others)}")
        coefficients = coefficients.loc[coefficients["model"].isin(LINEAR_MODELS)]
        with synthetic_figures(is_synthetic(registry)):
            paths = plot_coefficients(coefficients, registry, indicator_id, coefficients_out)
            if event_study_out is not None:
                reasons = event_study_reasons(coefficients, indicator_id)
                paths += plot_event_study(
                    events, registry, indicator_id, event_study_out, reasons=reasons
                )
    lines = [f"read {path}" for path in fits] + [f"wrote {path}" for path in paths]
    write_text(log_path, "\n".join(lines) + "\n")
    return paths
