"""Trust and safety: per-account trust scores and item manipulation signals, pure functions."""
