"""Adapters from the publishers' own formats to tidy observations, one module per format.

Each adapter reads one kind of source file as published (LGBF, CPOP, ScotPHO, NRS, SIMD and
geography lookups, statistics.gov.scot, DWP Stat-Xplore), maps council names or former codes
to current codes through the project's reference data, converts period labels to the calendar
year in which the period ends, and fails with an :class:`~integration_models.errors.InputError`
naming the file and what was expected when the layout or a name is not what it should be.
"""
