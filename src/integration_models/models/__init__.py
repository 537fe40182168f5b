"""The models fitted to each indicator, each returning tidy coefficient rows and a fit row.

``mixed``: the replication of the original multilevel analysis (statsmodels MixedLM).
``twfe``: two-way fixed effects panel model (linearmodels PanelOLS), clustered by area.
"""

from integration_models.models.base import MODELS, ModelResult, fit_indicator

__all__ = ["MODELS", "ModelResult", "fit_indicator"]
