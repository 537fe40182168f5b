"""The result tables: their schemas, stamps and provenance, and the steps that build them.

Holds only this docstring, so importing one module does not import its siblings.
"""
