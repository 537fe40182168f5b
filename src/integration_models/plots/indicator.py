"""One workflow job: the coefficient and event-study figures of one indicator, from its fits.

The inputs are only that indicator's fit files (``results/fits/<model>/<id>.json``), so a
change to one indicator's data redraws its own figures and no other indicator's. The rows are
read with :func:`integration_models.results.summarise.collect_fits`, as the ``tables`` step reads
them, so the event-study figure and ``event_study.csv`` show the same numbers.

Where it runs, and why (measured on the demo, 25 indicators, 2 cores): drawing the two
figures of one indicator takes about 1.5 s of CPU, mostly matplotlib's pure Python, and a new
interpreter about 1.5 s more to import pandas and matplotlib. As 25 shell jobs the imports
alone would add half a minute; drawn in the Snakemake process itself (a ``run:`` block, as the
fits) the drawing would hold the GIL, and so queue behind the fits on one core. So the rule's
``run:`` block calls :func:`indicator_figures_job`, which hands the work to a worker process
kept for the whole run (:mod:`integration_models.workers`): its imports are paid once, the
drawing runs on a core of its own, and its matplotlib settings and warnings touch no fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from integration_models.io import write_text
from integration_models.workers import run_in_worker


def indicator_figures_job(
    fits: Sequence[str | Path],
    registry_path: str | Path,
    indicator_id: str,
    coefficients_out: str | Path,
    event_study_out: str | Path | None,
    log_path: str | Path,
) -> list[Path]:
    """Draw one indicator's figures in a worker process (:func:`draw_indicator_figures`).

    Parameters are those of :func:`draw_indicator_figures`, and ``log_path``: a short log of
    the fit files read and the figures written.
    """
    fits = [str(path) for path in fits]
    args = (fits, str(registry_path), indicator_id, str(coefficients_out))
    paths = run_in_worker(draw_indicator_figures, *args, event_study_out)
    lines = [f"read {path}" for path in fits] + [f"wrote {path}" for path in paths]
    write_text(log_path, "\n".join(lines) + "\n")
    return paths


def draw_indicator_figures(
    fits: Sequence[str | Path],
    registry_path: str | Path,
    indicator_id: str,
    coefficients_out: str | Path,
    event_study_out: str | Path | None = None,
) -> list[Path]:
    """Draw one indicator's coefficient figure, and its event-study figure if asked.

    Parameters
    ----------
    fits
        The indicator's fit files of the linear models (``mixed``, ``twfe`` and the
        difference-in-differences models ``csdid``, ``sunab``, ``bjs``, ``dcdh``); any other
        model's rows are left out, as in the overview figures.
    registry_path
        The dataset's ``indicators.csv`` (titles, units; whether the data are synthetic).
    indicator_id
        The indicator drawn; every fit file must be of it.
    coefficients_out, event_study_out
        Target paths of the two figures (suffixes ``.png`` and ``.svg`` replace theirs);
        ``event_study_out`` is drawn from the difference-in-differences fits' ``event_study``
        rows, one row of panels per model, with the notes of their overall effects saying
        why a panel is empty or has no intervals.

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG files written.

    Raises
    ------
    ValueError
        If a fit file is of another indicator.
    """
    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.plots import EVENT_STUDY_MODELS, LINEAR_MODELS
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.coefficients import plot_coefficients
    from integration_models.plots.event_study import event_study_reasons, plot_event_study
    from integration_models.results.summarise import collect_fits

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
            models = sorted(set(coefficients["model"]) & set(EVENT_STUDY_MODELS))
            paths += plot_event_study(
                events, registry, indicator_id, event_study_out, reasons=reasons, models=models
            )
    return paths
