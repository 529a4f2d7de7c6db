"""Alerts reach people: a stale asset pages every notifier once, and its repair resolves once.

Real pieces throughout: the code location's definitions and sensor, a temporary Dagster instance,
an HTTP receiver (webhook, Slack-compatible, PagerDuty Events v2) and an SMTP server on loopback.
An asset is made stale by recording its materialization 49 hours ago (Dagster's own test clock);
the sensor judges against the real clock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from alert_receivers import http_receiver, smtp_server
from dagster._core.test_utils import freeze_time

from bento.ingestion.consumers import FileConsumerOffsets
from bento.ingestion.event_log import EventLog
from bento.ingestion.session_updater import CONSUMER_NAME
from orchestration.definitions import defs
from orchestration.defs.alerting.sensors import AlertingResource, loop_failure_alert, loop_health_alerts
from orchestration.defs.common.resources import PlatformResource

BATCH = dg.AssetKey(["features", "batch_features"])
SUBJECT = "freshness:features/batch_features"


@pytest.fixture
def receivers():
    with http_receiver() as http, smtp_server() as (mail, smtp_port):
        yield http, mail, smtp_port


@pytest.fixture
def setup(tmp_path: Path, receivers):
    http, mail, smtp_port = receivers
    config = tmp_path / "alerts.yaml"
    config.write_text(
        f"""
runbook: docs/operations.md
notifiers:
  - {{kind: webhook, name: hook, url: "{http.url}/hook"}}
  - {{kind: slack, name: chat, url: "{http.url}/slack"}}
  - {{kind: pagerduty, name: pager, url: "{http.url}/pd", routing_key: "${{TEST_PD_KEY}}"}}
  - {{kind: email, name: mail, host: 127.0.0.1, port: {smtp_port}, sender: reco@test.local,
      recipients: [oncall@test.local]}}
"""
    )
    platform = PlatformResource(home=str(tmp_path / "home"), world_size="tiny", progress=False)
    resources = {"platform": platform, "alerting": AlertingResource(config_file=str(config))}
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance, resources, http, mail, Path(platform.home)


def tick(instance: dg.DagsterInstance, resources: dict) -> str:
    with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources) as context:
        return loop_health_alerts(context).skip_message


def counts(got: dict[str, list]) -> tuple[int, ...]:
    """Messages received by (webhook, Slack, PagerDuty, mail)."""
    return tuple(len(got[k]) for k in ("hook", "slack", "pd", "mail"))


def deliveries(http, mail) -> dict[str, list]:
    return {
        "hook": http.take("/hook"),
        "slack": http.take("/slack"),
        "pd": http.take("/pd"),
        "mail": mail.take(),
    }


def test_stale_batch_features_page_once_then_resolve_once(setup, monkeypatch) -> None:
    instance, resources, http, mail, home = setup
    monkeypatch.setenv("TEST_PD_KEY", "routing-key-123")
    assert "open: none" in tick(instance, resources)  # nothing materialized: nothing to judge
    with freeze_time(datetime.now(UTC) - timedelta(hours=49)):
        instance.report_runless_asset_event(dg.AssetMaterialization(BATCH))

    tick(instance, resources)
    got = deliveries(http, mail)
    assert counts(got) == (1, 1, 1, 1)
    hook = got["hook"][0]
    assert (hook["event"], hook["severity"], hook["subject"]) == ("trigger", "PAGE", SUBJECT)
    assert "serving/serving_bundle" in hook["downstream"]
    assert hook["runbook"] == "docs/operations.md#batch-pipeline-stale"
    assert "last updated 49.0 h ago" in hook["title"]
    assert datetime.fromisoformat(hook["since"]) < datetime.now(UTC) - timedelta(minutes=50)
    pd = got["pd"][0]
    assert (pd["event_action"], pd["routing_key"], pd["payload"]["severity"]) == (
        "trigger",
        "routing-key-123",
        "critical",
    )
    assert pd["dedup_key"] == hook["dedup_key"]
    assert "[PAGE]" in got["slack"][0]["text"] and "Runbook: docs/operations.md#" in got["slack"][0]["text"]
    assert got["mail"][0]["Subject"].startswith("[PAGE] features/batch_features is stale")
    assert "serving/serving_bundle" in got["mail"][0].get_payload(decode=True).decode()

    tick(instance, resources)  # still stale: de-duplicated
    assert counts(deliveries(http, mail)) == (0, 0, 0, 0)

    instance.report_runless_asset_event(dg.AssetMaterialization(BATCH))  # the repair
    assert "open: none" in tick(instance, resources)
    got = deliveries(http, mail)
    assert counts(got) == (1, 1, 1, 1)
    assert got["hook"][0]["event"] == "resolve"
    resolve = {"routing_key": "routing-key-123", "event_action": "resolve", "dedup_key": pd["dedup_key"]}
    assert got["pd"][0] == resolve
    assert got["mail"][0]["Subject"].startswith("[RESOLVED]")

    tick(instance, resources)
    assert counts(deliveries(http, mail)) == (0, 0, 0, 0)
    log = [json.loads(line) for line in (home / "alerts.jsonl").read_text().splitlines()]
    assert [(e["event"], e["subject"]) for e in log] == [("trigger", SUBJECT), ("resolve", SUBJECT)]


def test_failed_delivery_is_retried_without_repeating_the_others(setup, monkeypatch) -> None:
    instance, resources, http, mail, _ = setup
    monkeypatch.setenv("TEST_PD_KEY", "k")
    with freeze_time(datetime.now(UTC) - timedelta(hours=49)):
        instance.report_runless_asset_event(dg.AssetMaterialization(BATCH))
    http.fail_next["/pd"] = 1
    assert "failed 1" in tick(instance, resources)
    assert counts(deliveries(http, mail)) == (1, 1, 0, 1)
    tick(instance, resources)
    assert counts(deliveries(http, mail)) == (0, 0, 1, 0)


def test_stopped_session_updater_pages_then_resolves_when_it_catches_up(setup, monkeypatch) -> None:
    instance, resources, http, mail, home = setup
    monkeypatch.setenv("TEST_PD_KEY", "k")
    stamp = (datetime.now(UTC) - timedelta(minutes=45)).isoformat()
    with EventLog(home / "event_log") as log:
        events = [
            {"event_id": f"e{i}", "user_id": "u1", "item_id": f"i{i}", "event_type": "click"}
            for i in range(3)
        ]
        end = len(log.append_many([{**e, "timestamp": stamp} for e in events]))
    tick(instance, resources)
    got = deliveries(http, mail)
    assert len(got["pd"]) == 1 and len(got["mail"]) == 1
    assert got["hook"][0]["subject"] == "feature_lag:session_features"
    assert got["hook"][0]["severity"] == "PAGE" and "45." in got["hook"][0]["title"]
    FileConsumerOffsets(home / "event_log" / "consumers").commit(CONSUMER_NAME, end)  # caught up
    tick(instance, resources)
    got = deliveries(http, mail)
    assert [m["event"] for m in got["hook"]] == ["resolve"] and len(got["pd"]) == 1


def test_failed_blocking_check_pages(setup, monkeypatch) -> None:
    instance, resources, http, _, _ = setup
    monkeypatch.setenv("TEST_PD_KEY", "k")
    check = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["ingestion", "events"]), check_name="events_quality", passed=False
    )
    instance.report_runless_asset_event(check)
    tick(instance, resources)
    hook = http.take("/hook")
    subject = "check:ingestion/events:events_quality"
    assert [(m["subject"], m["severity"]) for m in hook] == [(subject, "PAGE")]
    assert "features/batch_features" in hook[0]["downstream"]
    assert hook[0]["runbook"].endswith("#failed-check")


def test_failed_run_pages_through_the_run_failure_sensor(setup, monkeypatch) -> None:
    instance, resources, http, mail, _ = setup
    monkeypatch.setenv("TEST_PD_KEY", "k")
    job = defs.resolve_job_def("trending_refresh")  # an empty home: no events to read
    result = job.execute_in_process(instance=instance, resources=resources, raise_on_error=False)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name="loop_failure_alert",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources=resources,
        repository_def=defs.get_repository_def(),
    ).for_run_failure()
    loop_failure_alert(context)
    got = deliveries(http, mail)
    assert counts(got) == (1, 1, 1, 1)
    page, hook = got["pd"][0], got["hook"]
    assert page["dedup_key"].endswith("run:trending_refresh") and page["payload"]["severity"] == "critical"
    assert "Failed steps: refresh_trending_list" in hook[0]["detail"] and hook[0]["runbook"].endswith(
        "#failed-run"
    )
    tick(instance, resources)  # the interval sensor sees the same failure: no second page
    assert counts(deliveries(http, mail)) == (0, 0, 0, 0)
