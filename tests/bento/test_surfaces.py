"""The serving configuration file is what the service runs with (no silently ignored section)."""

from pathlib import Path

from bento.surfaces import load_serving_config


def test_surfaces_overlay_defaults_and_caches_are_read(tmp_path: Path) -> None:
    path = tmp_path / "surfaces.yaml"
    path.write_text(
        "defaults:\n  candidates: {collaborative: 10, popular: 5}\n  rules: {max_per_category: 3}\n"
        "surfaces:\n  home_feed: {}\n  notifications:\n    rules: {max_per_category: 1}\n"
        "caches:\n  item_features: {capacity: 123, ttl_s: 7}\n  results: {capacity: 4, ttl_s: 0}\n"
    )
    config = load_serving_config(path)
    assert config.surface("notifications").rules.max_per_category == 1
    assert config.surface("notifications").candidates.collaborative == 10
    assert config.surface("unknown-surface").rules.max_per_category == 3
    assert (config.caches.item_features.capacity, config.caches.item_features.ttl_s) == (123, 7)
    assert config.caches.results.ttl_s == 0
