"""The full funnel offline: multi-source candidates, per-candidate features, a learned listwise ranker."""
