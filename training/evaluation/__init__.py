"""Offline evaluation: ranking metrics, baselines and a leakage-free temporal holdout."""
