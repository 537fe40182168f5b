"""One module per workflow step: its command-line arguments and what it runs.

Each module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args)``, and imports
the heavy parts of the package inside ``run`` only, so building the parser stays cheap. A rule's
code inputs are the modules its command imports
(:func:`integration_models.workflow.package_sources`), so editing one step's code reruns that
step only.
"""
