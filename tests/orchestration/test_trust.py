"""Trust and safety on the tiny world with a click farm injected (``tests/bot_farm.py``).

Three homes built once for the module from the same tiny world and the same time split: the farm
with trust applied, the farm with trust disabled (``enabled: false``: what the platform did before,
to show each assertion can fail), and no farm at all (the pages real users should keep). Each runs
the trust assets and the sources they feed through Dagster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from bot_farm import BotFarm, inject

from contracts.world.generator import generate_world
from contracts.world.io import read_world
from orchestration.defs.candidate_generation import assets as cg
from orchestration.defs.candidate_generation.trending_refresh import refresh_trending
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import time_split
from orchestration.defs.common.warehouse import positive_events, table_path
from orchestration.defs.features.assets import SPLIT_FILE
from orchestration.defs.privacy.scrub import scrub_home
from orchestration.defs.trust import assets as trust
from orchestration.defs.trust import checks as trust_checks
from orchestration.defs.trust.review_queue import ACCOUNTS_FILE, merge_flags, read_queue, resolve
from orchestration.defs.trust.store import user_trust_path
from training.candidates.als import ALS_DIR, ALSFactors
from training.candidates.co_interaction import NEIGHBOURS_FILE, CoInteractionNeighbours
from training.candidates.ease import EASE_FILE, EASENeighbours
from training.candidates.item_knn import ITEM_KNN_FILE, ItemKNNNeighbours
from training.candidates.trending import TRENDING_FILE, TrendingLists
from training.config import CoInteractionConfig
from training.trust.config import CONFIG_ENV

SOURCES = [cg.co_interaction, cg.trending, cg.item_knn, cg.ease_neighbours, cg.als_factors]
K = 20


@dataclass
class Built:
    platform: PlatformResource
    result: dg.ExecuteInProcessResult

    @property
    def out(self) -> Path:
        return cg.candidates_dir(self.platform.settings.paths)

    def top_lists(self, histories: pd.Series) -> dict[str, list[list[str]]]:
        """Each collaborative source's top ``K`` for every history (latest item first)."""
        knn = ItemKNNNeighbours.load(self.out / ITEM_KNN_FILE)
        ease = EASENeighbours.load(self.out / EASE_FILE)
        als = ALSFactors.load(self.out / ALS_DIR)
        co = CoInteractionNeighbours.load(self.out / NEIGHBOURS_FILE)
        return {
            name: [source(h) for h in histories]
            for name, source in {
                "item_knn": lambda h: knn.top(h, K),
                "ease": lambda h: ease.top(h, K),
                "als": lambda h: als.top(h, K),
                "co_interaction": lambda h: co.for_items(h, K),
            }.items()
        }


@dataclass
class Scenario:
    target: str
    cover: list[str]
    farm_users: set[str]
    histories: pd.Series  # real users' engaged items, latest first
    trusted: Built
    untrusted: Built
    clean: Built
    off: Path  # a trust config with weights disabled


def _build(root: Path, events: pd.DataFrame, users: pd.DataFrame, items: pd.DataFrame, split) -> Built:
    platform = PlatformResource(home=str(root), progress=False)
    paths = platform.settings.paths
    paths.warehouse.mkdir(parents=True)
    for name, frame in (("items", items), ("events", events), ("users", users)):
        frame.to_parquet(table_path(paths, name), index=False)
    split.save(paths.features / SPLIT_FILE)
    result = dg.materialize(
        [trust.user_trust, trust.review_queue, *SOURCES, trust_checks.review_queue_empty],
        resources={"platform": platform},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return Built(platform, result)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("trust")
    generate_world(root / "world", "tiny", seed=7, end_time=datetime(2026, 1, 15, tzinfo=UTC), progress=False)
    world = read_world(root / "world")
    events, users, items = world.events, world.users, world.items
    clicks = events.loc[events["event_type"] == "click", "item_id"].value_counts()
    cover = clicks.index[:3].tolist()  # the farm hangs its item on the most clicked ones
    target = clicks.index[-1]  # an item almost nobody wanted
    split = time_split(events["timestamp"])  # one split for all homes: only the farm differs
    end = pd.to_datetime(events["timestamp"], utc=True).max()
    recent, early = BotFarm(), BotFarm(prefix="early", hours_before_end=24 * 10, seed=12)
    attacked, with_bots = inject(events, users, recent, target, cover, end)
    attacked, with_bots = inject(attacked, with_bots, early, target, cover, end)  # before the cut too
    positives = positive_events(events)
    histories = (
        positives.iloc[::-1].groupby("user_id", sort=True)["item_id"].agg(lambda s: list(dict.fromkeys(s)))
    )
    off = root / "trust-off.yaml"
    off.write_text("enabled: false\n")
    trusted = _build(root / "trusted", attacked, with_bots, items, split)
    os.environ[CONFIG_ENV] = str(off)
    try:
        untrusted = _build(root / "untrusted", attacked, with_bots, items, split)
    finally:
        del os.environ[CONFIG_ENV]
    clean = _build(root / "clean", events, users, items, split)
    farm_users = set(recent.user_ids()) | set(early.user_ids())
    yield Scenario(target, cover, farm_users, histories, trusted, untrusted, clean, off)


def _weights(built: Built) -> pd.Series:
    table = pd.read_parquet(user_trust_path(built.platform.settings.paths))
    return table.set_index("user_id")["weight"]


def test_the_farm_loses_trust_and_real_users_keep_full_weight(scenario: Scenario) -> None:
    weights = _weights(scenario.trusted)
    assert (weights[sorted(scenario.farm_users)] <= 0.02).all()
    real = weights.drop(sorted(scenario.farm_users))
    assert (real == 1.0).all(), real[real < 1.0]
    assert (_weights(scenario.untrusted) == 1.0).all()  # disabled: scored, not applied
    # Never deleted: the farm's events are all still in the warehouse.
    events = pd.read_parquet(
        table_path(scenario.trusted.platform.settings.paths, "events"), columns=["user_id"]
    )
    assert events["user_id"].isin(scenario.farm_users).sum() == 2 * 30 * (40 + 9 + 2)


def test_the_target_cannot_trend(scenario: Scenario) -> None:
    def trending(built: Built) -> TrendingLists:
        return TrendingLists.load(built.out / TRENDING_FILE)

    assert scenario.target in trending(scenario.untrusted).overall  # the attack works without trust
    lists = trending(scenario.trusted)
    assert scenario.target not in lists.overall
    assert all(scenario.target not in ranked for ranked in lists.by_category.values())
    assert lists.overall == trending(scenario.clean).overall  # real trends untouched


def test_the_target_stays_out_of_the_cover_items_neighbours(scenario: Scenario) -> None:
    def neighbours(built: Built) -> list[str]:
        co = CoInteractionNeighbours.load(built.out / NEIGHBOURS_FILE)
        return [n for item in scenario.cover for n in co.neighbours(item, CoInteractionConfig().neighbours)]

    assert scenario.target in neighbours(scenario.untrusted)
    assert scenario.target not in neighbours(scenario.trusted)


def _reach(lists: list[list[str]], item: str) -> float:
    return float(np.mean([item in top for top in lists]))


def test_the_target_reaches_no_real_users_collaborative_top_lists(scenario: Scenario) -> None:
    untrusted = scenario.untrusted.top_lists(scenario.histories)
    trusted = scenario.trusted.top_lists(scenario.histories)
    for name in ("item_knn", "ease", "als", "co_interaction"):
        assert _reach(untrusted[name], scenario.target) > 0.1, name  # the attack works without trust
        assert _reach(trusted[name], scenario.target) == 0.0, name


def test_real_users_pages_do_not_change(scenario: Scenario) -> None:
    trusted = scenario.trusted.top_lists(scenario.histories)
    clean = scenario.clean.top_lists(scenario.histories)
    untrusted = scenario.untrusted.top_lists(scenario.histories)

    def overlap(a: list[list[str]], b: list[list[str]]) -> float:
        return float(np.mean([len(set(x) & set(y)) / max(len(y), 1) for x, y in zip(a, b, strict=True) if y]))

    for name in trusted:
        assert overlap(trusted[name], clean[name]) >= 0.95, name
    assert min(overlap(untrusted[n], clean[n]) for n in trusted) < 0.95  # the farm did move them


def test_the_target_lands_in_the_review_queue_and_the_check_warns(scenario: Scenario) -> None:
    paths = scenario.trusted.platform.settings.paths
    queue = read_queue(paths)
    flagged = queue[queue["item_id"] == scenario.target]
    assert set(flagged["signal"]) == {"clicks", "conversions"}
    assert (flagged["status"] == "open").all() and flagged["active"].all()
    assert all("low_trust_accounts" in r and r.startswith("spike") for r in flagged["reasons"])
    accounts = pd.read_parquet(paths.trust / ACCOUNTS_FILE)
    assert set(accounts.loc[accounts["item_id"] == scenario.target, "user_id"]) <= scenario.farm_users
    (check,) = scenario.trusted.result.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    (clean_check,) = scenario.clean.result.get_asset_check_evaluations()
    assert clean_check.passed  # the real world alone queues nothing


def test_a_reviewers_decision_survives_the_next_run(scenario: Scenario) -> None:
    paths = scenario.trusted.platform.settings.paths
    now = pd.Timestamp.now(tz="UTC")
    queue = resolve(paths, scenario.target, "clicks", "confirmed", "analyst", now)
    again = merge_flags(queue, queue[queue["active"]].drop(columns=["status"]).iloc[:0], now)
    kept = again.set_index(["item_id", "signal"]).loc[(scenario.target, "clicks")]
    assert kept["status"] == "confirmed" and kept["reviewed_by"] == "analyst" and not kept["active"]


def test_the_live_refresh_scores_its_own_window(scenario: Scenario) -> None:
    """The untrusted home's daily scores give the farm full weight (a farm newer than the daily run
    looks the same); the 5-minute refresh scores the window itself and keeps the target out."""
    paths = scenario.untrusted.platform.settings.paths
    os.environ[CONFIG_ENV] = str(scenario.off)
    try:
        published = refresh_trending(paths)
    finally:
        del os.environ[CONFIG_ENV]
    assert scenario.target in TrendingLists.load(published["path"]).overall  # without trust it trends
    published = refresh_trending(paths)
    assert scenario.target not in TrendingLists.load(published["path"]).overall


def test_erasure_scrubs_trust_scores_and_queue_accounts(scenario: Scenario) -> None:
    paths = scenario.untrusted.platform.settings.paths
    gone = "bot0000"
    scrub_home(paths.home, {gone})
    assert gone not in set(pd.read_parquet(user_trust_path(paths))["user_id"])
    assert gone not in set(pd.read_parquet(paths.trust / ACCOUNTS_FILE)["user_id"])
