"""Inference for the integration terms with few clusters, and the scope, size and power checks.

Only 32 council areas (31 partnerships) and a handful of integrated ones identify the
integration terms, so the CRV1 t-test of :mod:`integration_models.models.twfe` can over-reject
(methods.md section 4). The modules, in the order they build on each other:

- ``design``: the two-way fixed effects design and its reusable projections;
- ``cluster``: CRV1, CR2 (Bell-McCaffrey) and the wild cluster bootstrap;
- ``permutation``: randomisation inference over partnership histories;
- ``multiplicity``: ``adjust_pvalues`` and ``romano_wolf`` across indicators;
- ``table``: all four tests for a list of indicators as tidy rows, adjusted;
- ``scope``: which indicators and terms the steps after the fits analyse;
- ``size`` and ``power``: the null rejection rates and the power of the tests.

Holds only this docstring, so importing one module does not import its siblings.
"""
