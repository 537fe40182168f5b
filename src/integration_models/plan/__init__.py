"""The pre-specified primary analysis: ``analysis_plan.yaml``, its schema and its reader."""
