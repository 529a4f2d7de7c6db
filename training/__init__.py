"""Model training for the platform, laid out by funnel stage.

``retrieval`` (two-tower + FAISS index) produces candidates, ``ranking`` scores them per surface,
``export`` hands the ranker to serving as TorchScript. Nothing here imports BentoML, Dagster or
Feast: orchestration calls these functions with plain DataFrames.
"""
