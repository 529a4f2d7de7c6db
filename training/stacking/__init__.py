"""The stacked recommender: an offline-only reference model (multi-source candidates, per-candidate
features, a learned listwise ranker). Never served; reported under its own name, ``stacked``."""
