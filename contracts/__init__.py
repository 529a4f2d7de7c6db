"""Shared contracts: schemas, configuration, the demo world and dataset adapters.

Every package imports this one; it imports no framework (no Dagster, Feast, BentoML or torch).
"""
