"""Every figure of the workflow, one module per figure, on matplotlib's object-oriented API.

- :mod:`.base`: style, the SYNTHETIC DATA mark, :func:`~.base.save_figure` (deterministic PNG
  and SVG) and the helpers every figure shares;
- :mod:`.trends`, :mod:`.forest`: the overview figures that span all indicators;
- :mod:`.coefficients`, :mod:`.event_study`: the two figures of one indicator, drawn by
  :mod:`.indicator` from that indicator's fit files only;
- :mod:`.estimators`: every estimator's integration effects side by side, per primary outcome;
- :mod:`.power`, :mod:`.sensitivity`: the minimum detectable effects and the sensitivity of
  the integration estimates.

Figures are :class:`matplotlib.figure.Figure` objects, never pyplot's global figure manager.
The statistics modules (``models.csdid``, ``inference.power``, ``results.sensitivity``) do
not import matplotlib.
"""

# glm effects are on a log or logit link, not on the outcome's scale like the others: drawn on
# a shared axis they would mislead, so the figures show the linear models only. Here, not in
# .base, so that the workflow can read it without importing matplotlib.
# the models with event-time effects (integration_models.models.fit_job.DID_MODELS, the staggered
# difference-in-differences estimators), drawn one row each in the event-study figure
EVENT_STUDY_MODELS = ("csdid", "sunab", "bjs", "dcdh")
LINEAR_MODELS = ("mixed", "twfe", *EVENT_STUDY_MODELS, "mixed_year")
# the forest figure's models: six points per indicator and term would not be told apart, so it
# keeps the replication, twfe and csdid; the estimators figure sets all of the
# difference-in-differences estimators beside twfe (for the primary outcomes)
FOREST_MODELS = ("mixed", "twfe", "csdid")
