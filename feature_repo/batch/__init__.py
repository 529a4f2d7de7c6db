"""Batch feature computations: pure pandas over the event log, written as Feast offline sources."""
