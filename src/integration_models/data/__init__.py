"""Reading and preparing the data: the canonical dataset, reference tables and the panel.

Reading CSV tables (``reading``), the indicator registry and reference tables of areas and
integration classifications, the validated ingest of each indicator's values, covariates and
exposure, the analysis panel, the counts of what it kept and left out (``summary``), and the
builders of the demo and Scotland datasets (``demo``, ``scotland``, ``sources``, ``specs``,
``indices``, ``zones``).

Holds only this docstring, so importing one module does not import its siblings.
"""
