"""The funnel's configuration tree is what everything runs with: no silently ignored key."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.funnel_config import FUNNEL_FILE, FunnelConfig, load_funnel_config
from contracts.settings import load_settings


def test_surfaces_overlay_defaults_and_every_section_is_read(tmp_path: Path) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_text(
        "defaults:\n  candidates: {collaborative: 10, popular: 5}\n  rules: {max_per_category: 3}\n"
        "surfaces:\n  home_feed: {}\n  notifications:\n    rules: {max_per_category: 1}\n"
        "caches:\n  item_features: {capacity: 123, ttl_s: 7}\n  results: {capacity: 4, ttl_s: 0}\n"
        "history: {history_items: 50, seed_items: 3}\nfallbacks: {global_size: 42}\n"
    )
    config = load_funnel_config(path)
    assert config.surface("notifications").rules.max_per_category == 1
    assert config.surface("notifications").candidates.collaborative == 10
    assert config.surface("notifications").candidates.ease == 300, "an unset count keeps its default"
    assert config.surface("unknown-surface").rules.max_per_category == 3
    assert (config.caches.item_features.capacity, config.caches.item_features.ttl_s) == (123, 7)
    assert config.caches.results.ttl_s == 0
    assert (config.history.history_items, config.history.seed_items) == (50, 3)
    assert config.fallbacks.global_size == 42 and config.fallbacks.segment_size == 200


@pytest.mark.parametrize(
    "text",
    [
        "surfaces:\n  home_feed:\n    candidates: {colaborative: 10}\n",  # a misspelt source
        "histroy: {history_items: 5}\n",  # a misspelt section
        "history: {seed_items: 0}\n",  # out of range
    ],
)
def test_a_misspelt_or_out_of_range_knob_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError):
        load_funnel_config(path)


def test_the_shipped_file_sets_every_knob_to_its_documented_default() -> None:
    """config/funnel.yaml spells the defaults out; the code's defaults are the same values."""
    shipped = load_funnel_config(FUNNEL_FILE)
    assert shipped.surface("home_feed") == FunnelConfig().surface("home_feed")
    for section in ("related", "history", "caches", "cold_start", "live_index", "fallbacks", "degradation"):
        assert getattr(shipped, section) == getattr(FunnelConfig(), section), section
    assert shipped.surface("notifications").full_rank == 100


def test_settings_read_the_tree_once_and_again_after_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_text("history: {seed_items: 4}\n")
    settings = load_settings({"RECO_HOME": str(tmp_path)}).model_copy(update={"funnel_file": path})
    first = settings.funnel()
    assert settings.funnel() is first, "one parse per process"
    path.write_text("history: {seed_items: 6}\n")

    os.utime(path, ns=(1, 1))  # a different mtime even within the clock's resolution
    assert settings.funnel().history.seed_items == 6


def test_reco_funnel_config_names_another_tree(tmp_path: Path) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_text("history: {seed_items: 3}\n")
    settings = load_settings({"RECO_HOME": str(tmp_path), "RECO_FUNNEL_CONFIG": str(path)})
    assert settings.funnel().history.seed_items == 3
    assert load_settings({"RECO_HOME": str(tmp_path)}).funnel_file == FUNNEL_FILE
