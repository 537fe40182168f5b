"""The HTML report: rendering (``render``), number formatting (``format``) and ``templates/``.

Holds only this docstring, so importing one module does not import its siblings.
"""
