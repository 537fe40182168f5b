"""Open pipeline: is integration of children's health and social care linked to outcomes.

The package holds all logic of the workflow: reading and validating datasets in the canonical
format, building the analysis panel, fitting models and writing tables, figures and the report.
The Snakemake rules only call it.
"""

__version__ = "0.1.0"
