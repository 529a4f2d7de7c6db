"""The alert decisions as pure functions: thresholds, root causes, de-duplication, SLIs, config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from orchestration.defs.alerting import metrics, rules
from orchestration.defs.alerting.config import AlertsConfig, Thresholds, load_alerts_config
from orchestration.defs.alerting.state import AlertBook, plan

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def asset(key: str, age: timedelta | None, parents=(), downstream=(), **kw) -> rules.AssetFreshness:
    return rules.AssetFreshness(
        key=key,
        fail_after=kw.pop("fail", 2 * DAY),
        warn_after=kw.pop("warn", DAY),
        last_updated=None if age is None else NOW - age,
        parents=tuple(parents),
        downstream=tuple(downstream),
        **kw,
    )


def test_time_window_states_and_since() -> None:
    assert rules.policy_state(asset("a", timedelta(hours=1)), NOW) == ("PASS", None)
    assert rules.policy_state(asset("a", timedelta(hours=30)), NOW) == ("WARN", NOW - timedelta(hours=6))
    assert rules.policy_state(asset("a", timedelta(hours=49)), NOW) == ("FAIL", NOW - timedelta(hours=1))
    assert rules.policy_state(asset("a", None), NOW) == ("UNKNOWN", None)


def test_batch_pipeline_not_run_48h_pages_and_one_day_warns() -> None:
    page = rules.freshness_alerts([asset("features/batch_features", timedelta(hours=49))], NOW)
    warn = rules.freshness_alerts([asset("features/batch_features", timedelta(hours=25))], NOW)
    assert [(a.severity, a.runbook) for a in page] == [("PAGE", "batch-pipeline-stale")]
    assert [a.severity for a in warn] == ["WARN"]
    assert rules.freshness_alerts([asset("features/batch_features", timedelta(hours=23))], NOW) == []


def test_stale_children_fold_into_the_cause() -> None:
    old = timedelta(hours=49)
    alerts = rules.freshness_alerts(
        [
            asset("features/batch_features", old, downstream=["serving/serving_bundle"]),
            asset("serving/serving_bundle", old, parents=["features/batch_features"]),
        ],
        NOW,
    )
    assert [a.subject for a in alerts] == ["freshness:features/batch_features"]
    assert "serving/serving_bundle" in alerts[0].detail
    # A child failing while its parent only warns is its own, worse, alert.
    alerts = rules.freshness_alerts(
        [
            asset("features/batch_features", timedelta(hours=30), downstream=["serving/serving_bundle"]),
            asset("serving/serving_bundle", old, parents=["features/batch_features"]),
        ],
        NOW,
    )
    assert [(a.subject, a.severity) for a in alerts] == [
        ("freshness:features/batch_features", "WARN"),
        ("freshness:serving/serving_bundle", "PAGE"),
    ]
    assert alerts[1].runbook == "stale-model"


def test_daemon_state_counts_until_a_newer_materialization() -> None:
    fresh = timedelta(minutes=5)
    recorded = asset(
        "serving/production_model", fresh, recorded_state="FAIL", recorded_at=NOW - timedelta(minutes=10)
    )
    assert rules.freshness_alerts([recorded], NOW) == []  # the daemon's FAIL predates the update
    current = asset(
        "serving/production_model", fresh, recorded_state="FAIL", recorded_at=NOW - timedelta(minutes=1)
    )
    assert [a.severity for a in rules.freshness_alerts([current], NOW)] == ["PAGE"]


def test_feature_lag_thresholds() -> None:
    t = Thresholds()
    assert rules.feature_lag_alert(NOW - timedelta(minutes=4), NOW, t) == []
    assert [a.severity for a in rules.feature_lag_alert(NOW - timedelta(minutes=6), NOW, t)] == ["WARN"]
    [page] = rules.feature_lag_alert(NOW - timedelta(minutes=31), NOW, t)
    assert (page.severity, page.since) == ("PAGE", NOW - timedelta(minutes=1))
    assert rules.feature_lag_alert(None, NOW, t) == []


def test_failed_checks_and_runs() -> None:
    check = rules.CheckResult(
        "ingestion/events:events_quality", "ingestion/events", False, True, NOW, run_id="r1"
    )
    advisory = rules.CheckResult("x/y:z", "x/y", False, False, NOW)
    assert [a.severity for a in rules.check_alerts([check, advisory])] == ["PAGE", "WARN"]
    runs = [rules.RunResult("full_loop", True, NOW, "r1"), rules.RunResult("archive_events", True, NOW, "r2")]
    # the loop's failure is explained by the failed blocking check: one page, not two
    assert [a.subject for a in rules.run_alerts(runs, [check])] == ["run:archive_events"]
    assert rules.run_alerts([rules.RunResult("full_loop", False, NOW, "r3")]) == []


def alert(subject: str, severity: str = "PAGE") -> rules.Alert:
    return rules.Alert(subject=subject, severity=severity, title=subject, since=NOW)  # type: ignore[arg-type]


def test_plan_triggers_escalates_and_resolves_per_notifier() -> None:
    targets = {"chat": "WARN", "pager": "PAGE"}
    warn = alert("s", "WARN")
    assert [(d.action, d.notifier) for d in plan({}, [warn], targets)] == [("trigger", "chat")]
    told = {("s", "chat"): warn}
    assert [(d.action, d.notifier) for d in plan(told, [alert("s")], targets)] == [
        ("trigger", "chat"),
        ("trigger", "pager"),
    ]
    told = {("s", "chat"): alert("s"), ("s", "pager"): alert("s")}
    assert plan(told, [alert("s")], targets) == []
    assert plan(told, [warn], targets) == []  # a de-escalation keeps the open alert, says nothing
    assert [(d.action, d.notifier) for d in plan(told, [], targets)] == [
        ("resolve", "chat"),
        ("resolve", "pager"),
    ]


def test_book_round_trip(tmp_path: Path) -> None:
    book = AlertBook(tmp_path / "state.db")
    [delivery] = plan({}, [alert("s")], {"hook": "WARN"})
    book.record(delivery, NOW)
    assert AlertBook(tmp_path / "state.db").delivered() == {("s", "hook"): alert("s")}
    [resolve] = plan(book.delivered(), [], {"hook": "WARN"})
    book.record(resolve, NOW)
    assert book.delivered() == {}
    book.put("x", {"a": 1.0})
    assert book.get("x") == {"a": 1.0} and book.get("missing") is None


METRICS = """# TYPE reco_scores_total counter
reco_scores_total 100000
reco_nan_scores_total 50
# TYPE reco_responses_total counter
reco_responses_total{{level="0"}} {l0}
reco_responses_total{{level="3"}} {l3}
reco_responses_total{{level="4"}} 0
reco_population_defaults_total {defaults}
"""


def test_sli_rules_on_captured_metrics_text() -> None:
    t = Thresholds()
    first = metrics.counters(METRICS.format(l0=9990, l3=10, defaults=0))
    assert first["reco_responses_total"] == 10000 and first["reco_responses_total:level=3"] == 10
    judged = metrics.sli_alerts(first, None, None, NOW, t)
    assert judged.alerts == [] and judged.defaults_since is None  # 0.05% NaN, 0.1% fallbacks: at, not over
    second = metrics.counters(METRICS.format(l0=10990, l3=30, defaults=5).replace("50", "200"))
    judged = metrics.sli_alerts(second, first, None, NOW, t)
    assert {a.subject: a.severity for a in judged.alerts} == {"sli:fallback_l3_l4": "WARN"}
    # NaN: 150 new in 0 new scores is no rate; more scores make it one
    third = {**second, "reco_scores_total": 200000.0, "reco_nan_scores_total": 400.0}
    judged = metrics.sli_alerts(third, second, NOW - timedelta(minutes=30), NOW, t)
    assert "sli:nan_rate" in {a.subject for a in judged.alerts}
    assert judged.defaults_since is None  # no new defaults in this interval
    fourth = {**third, "reco_population_defaults_total": 9.0}
    judged = metrics.sli_alerts(fourth, third, NOW - timedelta(hours=2), NOW, t)
    assert "sli:population_defaults" in {a.subject for a in judged.alerts}


def test_opted_out_pages_are_not_fallbacks_and_an_open_breaker_warns() -> None:
    t = Thresholds()
    text = METRICS.format(l0=9000, l3=0, defaults=0) + (
        "# TYPE reco_fallback_responses_total counter\n"
        'reco_fallback_responses_total{surface="home_feed",level="4",reason="personalisation_off"} 1000.0\n'
        'reco_responses_total{surface="home_feed",level="4"} 1000.0\n'
        "# TYPE reco_feature_breaker_open gauge\n"
        "reco_feature_breaker_open 0.0\n"
    )
    judged = metrics.sli_alerts(metrics.counters(text), None, None, NOW, t)
    assert judged.alerts == [], "10% of pages from the global list, every one chosen by its user"
    tripped = metrics.counters(text.replace("reco_feature_breaker_open 0.0", "reco_feature_breaker_open 1.0"))
    judged = metrics.sli_alerts(tripped, None, None, NOW, t)
    assert [(a.subject, a.severity) for a in judged.alerts] == [("sli:feature_breaker", "WARN")]


def test_shipped_config_loads_and_bad_configs_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_alerts_config().notifiers == []
    bad = tmp_path / "alerts.yaml"
    for text in (
        "notifiers: [{kind: slack, name: a, url: 'not a url'}]",
        "notifiers: [{kind: sms, name: a}]",
        "notifier: []",  # typo of the key
        "thresholds: {feature_lag_warn_s: '300'}",  # strict: a string is not a number
        "notifiers: [{kind: slack, name: a, url: 'http://x'}, {kind: webhook, name: a, url: 'http://y'}]",
        "notifiers: [{kind: pagerduty, name: p, routing_key: '${RECO_TEST_UNSET_KEY}'}]",
    ):
        bad.write_text(text)
        with pytest.raises((ValidationError, ValueError)):
            load_alerts_config(bad)
    monkeypatch.setenv("RECO_TEST_KEY", "abc")
    bad.write_text("notifiers: [{kind: pagerduty, name: p, routing_key: '${RECO_TEST_KEY}'}]")
    [pager] = load_alerts_config(bad).notifiers
    assert (pager.routing_key, pager.min_severity) == ("abc", "PAGE")


def test_every_runbook_anchor_exists_in_operations_doc() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    anchors = set(rules.RUNBOOK_BY_ASSET.values()) | {
        rules.RUNBOOK_FAILED_CHECK,
        rules.RUNBOOK_FAILED_RUN,
        rules.RUNBOOK_FEATURE_LAG,
        "stale-asset",
        "bad-model-deployed",
        "feature-store-down",
    }
    for anchor in anchors:
        assert f'<a id="{anchor}"></a>' in doc, f"docs/operations.md has no runbook section {anchor}"
    assert AlertsConfig().runbook_link("x") == "docs/operations.md#x"
