"""Diagnostics of the two-way fixed effects estimate and its sensitivity to parallel trends.

- :mod:`~integration_models.diagnostics.twfe_weights`: the de Chaisemartin-D'Haultfoeuille
  weights of the ``twfe`` coefficient on its area-year cells (numpy, proved equal to
  ``diff_diff.twowayfeweights`` where both apply);
- :mod:`~integration_models.diagnostics.bacon`: the Goodman-Bacon decomposition
  (``diff_diff.BaconDecomposition``) on the balanced, absorbing sub-panel;
- :mod:`~integration_models.diagnostics.honest`: Rambachan-Roth relative-magnitude bounds
  (``diff_diff.HonestDiD``) on a universal-base Callaway-Sant'Anna event study, with the
  breakdown value;
- :mod:`~integration_models.diagnostics.job`: the per-indicator job of the workflow.
"""
