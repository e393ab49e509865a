"""Knotwork data layer: contract, readers, validation, DuckDB warehouse, analysis.

Nothing in here imports from ``dashboard``; imports point one way only.
"""
