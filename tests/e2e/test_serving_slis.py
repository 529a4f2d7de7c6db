"""A real `bentoml serve` exports the serving SLIs on /metrics, and the alert sensor reads them.

The service is shared by the session's e2e tests, so every count is judged as a difference
between two scrapes around this test's own requests.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from contracts import slis
from orchestration.definitions import defs
from orchestration.defs.alerting.sensors import STATE_FILE, AlertingResource, loop_health_alerts
from orchestration.defs.alerting.state import AlertBook
from orchestration.defs.common.resources import PlatformResource

pytestmark = pytest.mark.e2e
SETTLE_S = 60.0  # how long the session updater may take to fold an event in (not a latency bound)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def test_service_exports_latency_levels_bundle_age_and_session_lag(
    service_url: str, api: httpx.Client
) -> None:
    before = scrape(service_url)
    replies = [
        api.post("/recommend", json={"user_id": f"sli-user-{n}", "page_size": 5}).json() for n in range(3)
    ]
    item = replies[0]["items"][0]["item_id"]
    related = api.post("/related", json={"item_id": item, "page_size": 5})
    assert related.status_code == 200, related.text
    after = scrape(service_url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    count = f"{slis.REQUEST_LATENCY}_count"
    shown = sorted((k, v) for k, v in after.items() if k[0] == count)
    assert grew(count, surface="home_feed", endpoint="recommend") == 3, (shown, len(before), len(after))
    assert grew(count, surface="related_items", endpoint="related") == 1
    levels = [str(r["metadata"]["fallback_level"]) for r in replies]
    for level in set(levels):
        assert grew(slis.RESPONSES, surface="home_feed", level=level) == levels.count(level)
    for stage in (slis.STAGE_USER_FEATURES, slis.STAGE_RETRIEVAL, slis.STAGE_RERANK):  # on every path
        assert grew(f"{slis.STAGE_LATENCY}_count", stage=stage, surface="home_feed") == 3, stage
    version = replies[0]["metadata"]["model_version"]
    built = datetime.fromtimestamp(value(after, slis.MODEL_CREATED, model_version=version), UTC)
    assert timedelta(0) <= datetime.now(UTC) - built < timedelta(days=1), "the tiny bundle was built today"
    assert value(after, slis.FEATURES_AS_OF) > 0
    for series in (slis.SCORES, slis.NAN_SCORES, slis.NAN_RANKER_INPUTS):  # primed at zero
        assert (series, (("surface", "home_feed"),)) in after
    assert (slis.DEFAULTS, (("entity", "user"),)) in after

    lag_count = f"{slis.SESSION_FEATURE_LAG}_count"
    ack = api.post(
        "/events",
        json={"user_id": "sli-user-0", "item_id": item, "event_type": "click"},
        headers={"x-client-id": "sli"},
        timeout=30,
    )
    assert ack.status_code == 200, ack.text
    deadline = time.monotonic() + SETTLE_S
    while value(scrape(service_url), lag_count) <= value(after, lag_count):
        assert time.monotonic() < deadline, "the session updater never reported folding the event in"
        time.sleep(0.5)


def test_alert_sensor_reads_the_service_metrics(service_url: str, api: httpx.Client, tmp_path: Path) -> None:
    config = tmp_path / "alerts.yaml"
    config.write_text(f"notifiers: []\nmetrics_url: {service_url}/metrics\n")
    home = tmp_path / "home"
    resources = {
        "platform": PlatformResource(home=str(home), progress=False),
        "alerting": AlertingResource(config_file=str(config)),
    }
    api.post("/recommend", json={"user_id": "sli-sensor", "page_size": 5})
    served = scrape(service_url)
    responses = sum(v for (name, _), v in served.items() if name == slis.RESPONSES)
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources) as context:
        summary = loop_health_alerts(context).skip_message
    read = AlertBook(home / STATE_FILE).get("metrics_previous")
    assert read is not None, summary
    assert read[slis.RESPONSES] >= responses > 0
    assert read[slis.MODEL_CREATED] > 0, "the serving model's build time is judged"
    assert "sli:serving_model_age" not in (summary or ""), "the tiny bundle is fresh"
