"""The serving SLIs: the real funnel over the tiny bundle records into the service's metrics, and
the alert sensor's rules read that very exposition text (the names are one copy, in contracts).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bento.bundle import ServingBundle
from bento.features import OnlineFeatures
from bento.funnel.pipeline import Funnel
from bento.observability.metrics import ServingMetrics
from contracts import slis
from contracts.api import RecommendRequest
from contracts.settings import load_settings
from feature_repo.store import open_store
from orchestration.defs.alerting import metrics as alert_metrics
from orchestration.defs.alerting.config import Thresholds
from training.export import load_ranker


@pytest.fixture(scope="module")
def bundle(tiny_platform) -> ServingBundle:
    loaded = ServingBundle.load(load_settings().paths.artifacts / "staging")
    loaded.ranker_enabled = True  # the scoring stage and its NaN guard are what is measured here
    return loaded


class StoreDown:
    def get_online_features(self, **_: object):
        raise ConnectionError("online store unreachable")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def serve(funnel: Funnel, metrics: ServingMetrics, user: str, surface: str = "home_feed") -> int:
    reply = funnel.recommend(RecommendRequest(user_id=user, surface=surface, page_size=10))  # type: ignore[arg-type]
    metrics.response(surface, "recommend", reply)
    return reply.metadata.fallback_level


def test_funnel_stages_levels_nan_and_defaults_reach_the_alert_rules(bundle: ServingBundle) -> None:
    registry = CollectorRegistry()
    metrics = ServingMetrics(registry)
    metrics.prime(["home_feed", "related_items"])
    config = load_settings().funnel()
    ranker = load_ranker(Path(bundle.root) / "ranker")

    def scored(score):
        def run(x: np.ndarray, surface: str) -> np.ndarray:
            out = np.asarray(score(x, surface))
            metrics.scored(surface, x, out)
            return out

        return run

    features = OnlineFeatures(open_store(load_settings()), on_defaults=metrics.population_defaults)
    healthy = Funnel(bundle, features, scored(ranker.score), config, on_stage=metrics.stage)
    users = sorted(bundle.history)[:3]
    assert [serve(healthy, metrics, u) for u in users] == [0, 0, 0]
    metrics.serving_bundle(bundle.model_version, datetime.now(UTC), bundle.features_as_of)
    first_text = generate_latest(registry).decode()
    first = samples(first_text)
    for stage in slis.STAGES:  # every stage of every request timed, on its surface
        assert first[(f"{slis.STAGE_LATENCY}_count", (("stage", stage), ("surface", "home_feed")))] == 3
    assert (
        first[(f"{slis.REQUEST_LATENCY}_count", (("endpoint", "recommend"), ("surface", "home_feed")))] == 3
    )
    assert first[(slis.RESPONSES, (("level", "0"), ("surface", "home_feed")))] == 3
    assert first[(slis.NAN_SCORES, (("surface", "home_feed"),))] == 0
    assert first[(slis.SCORES, (("surface", "home_feed"),))] > 0
    assert first[(slis.DEFAULTS, (("entity", "user"),))] == 0
    previous = alert_metrics.counters(first_text)
    judged = alert_metrics.sli_alerts(previous, None, None, datetime.now(UTC), Thresholds())
    assert judged.alerts == [] and judged.defaults_since is None

    # A bad model (NaN scores), the store down (defaults), an old model: each is read as its alert.
    nan_model = Funnel(
        bundle, features, scored(lambda x, s: np.full(len(x), np.nan)), config, on_stage=metrics.stage
    )
    assert serve(nan_model, metrics, users[0]) == 1  # the NaN guard refuses; retrieval order serves
    down = OnlineFeatures(StoreDown(), on_defaults=metrics.population_defaults)  # type: ignore[arg-type]
    assert serve(Funnel(bundle, down, scored(ranker.score), config), metrics, users[1]) == 1
    metrics.serving_bundle(
        bundle.model_version, datetime.now(UTC) - timedelta(hours=50), bundle.features_as_of
    )
    text = generate_latest(registry).decode()
    now_samples = samples(text)
    assert now_samples[(slis.DEFAULTS, (("entity", "user"),))] == 1
    assert now_samples[(slis.DEFAULTS, (("entity", "item"),))] == 1
    assert now_samples[(slis.RESPONSES, (("level", "1"), ("surface", "home_feed")))] == 2
    current = alert_metrics.counters(text)
    now = datetime.now(UTC)
    judged = alert_metrics.sli_alerts(current, previous, now - timedelta(hours=2), now, Thresholds())
    assert {a.subject: a.severity for a in judged.alerts} == {
        "sli:nan_rate": "PAGE",
        "sli:serving_model_age": "PAGE",
        "sli:population_defaults": "WARN",
    }


def test_fallback_levels_three_and_four_are_counted_and_warned(bundle: ServingBundle) -> None:
    def ranker_down(x: np.ndarray, surface: str) -> np.ndarray:
        raise ConnectionError("ranker unavailable")

    registry = CollectorRegistry()
    metrics = ServingMetrics(registry)
    config = load_settings().funnel()
    # No light ranker to answer at level 1 and no last good page (level 2): the lists answer.
    broken = ServingBundle(**{**vars(bundle), "light_ranker": None})
    funnel = Funnel(broken, OnlineFeatures(open_store(load_settings())), ranker_down, config)
    level = serve(funnel, metrics, sorted(bundle.history)[0])
    assert level in (3, 4)
    current = alert_metrics.counters(generate_latest(registry).decode())
    assert current[f"{slis.RESPONSES}:level={level}"] == 1
    judged = alert_metrics.sli_alerts(current, None, None, datetime.now(UTC), Thresholds())
    assert [a.subject for a in judged.alerts] == ["sli:fallback_l3_l4"]
