"""The open-loop load generator's plan and summary (bench.load.open_loop), without a server."""

from __future__ import annotations

import pytest

from bench.load.open_loop import Outcome, plan, summarise


def test_requests_are_due_at_the_rate_over_mixed_surfaces_with_never_seen_users() -> None:
    shots = plan(rate=50, duration_s=20, users=["u1", "u2"], items=["i1"], seed=3, unknown_share=0.1)
    assert len(shots) == 1000
    assert shots[1].due_s - shots[0].due_s == pytest.approx(1 / 50)
    assert shots[-1].due_s == pytest.approx(999 / 50)
    surfaces = {s.surface for s in shots}
    assert surfaces == {"home_feed", "related_items", "notifications"}
    assert 0.05 < sum(s.unknown_user for s in shots) / len(shots) < 0.15
    for shot in shots:
        if shot.surface == "related_items":
            assert shot.path == "/related" and shot.body["item_id"] == "i1"
        else:
            assert shot.path == "/recommend" and shot.body["surface"] == shot.surface
        assert (shot.body["user_id"] in ("u1", "u2")) != shot.unknown_user
    assert plan(50, 20, ["u1", "u2"], ["i1"], seed=3) == shots, "a seed gives the same run"


def test_the_summary_separates_errors_sheds_throttles_and_fallbacks() -> None:
    outcomes = [
        Outcome(
            "home_feed",
            200,
            10.0,
            0.1,
            items=20,
            fallback_level=0,
            server_ms=8.0,
            stage_ms={"retrieval": 3.0},
        ),
        Outcome("home_feed", 200, 30.0, 0.1, items=20, fallback_level=3, server_ms=25.0),
        Outcome("related_items", 200, 20.0, 0.1, items=0, fallback_level=0),
        Outcome("home_feed", 503, 2.0, 0.1),
        Outcome("home_feed", 429, 2.0, 0.1),
        Outcome("home_feed", 500, 2.0, 0.1),
        Outcome("home_feed", 0, 10_000.0, 0.1),
        Outcome("notifications", 400, 2.0, 0.1),
    ]
    summary = summarise(outcomes, rate=8, duration_s=1)
    assert summary["requests"] == 8
    assert summary["error_rate"] == 2 / 8, "a 5xx other than 503 and a lost connection are errors"
    assert summary["shed_rate"] == 1 / 8 and summary["throttled_rate"] == 1 / 8
    assert summary["client_error_rate"] == 1 / 8
    assert summary["empty_pages"] == 1
    assert summary["fallback_levels"] == {"0": 2, "3": 1}
    assert summary["fallback_rate"] == pytest.approx(1 / 3)
    assert summary["latency_ms"]["max"] == 30.0, "latency percentiles are of answered requests"
    assert summary["stage_ms"] == {"retrieval": {"p50": 3.0, "p95": 3.0, "p99": 3.0, "max": 3.0}}
    assert set(summary["by_surface"]) == {"home_feed", "related_items"}
