"""The models fitted to each indicator, each returning tidy coefficient rows and a fit row.

``base``: the types and rows every estimator shares; ``estimators``: the registry of models
(``mixed``, the replication multilevel model; ``twfe``, two-way fixed effects; ``glm``, PPML
or fractional logit) and the fit of one model to one indicator; ``design``: the model rows;
``csdid``: the Callaway-Sant'Anna estimator; ``robust_did``: the Sun-Abraham,
Borusyak-Jaravel-Spiess and de Chaisemartin-D'Haultfoeuille estimators (``sunab``, ``bjs``,
``dcdh``, from ``diff_diff``); ``fit_job``: the workflow job that fits one model to one
indicator and writes its rows.
This file imports nothing, so importing one of them does not import the others.
"""
