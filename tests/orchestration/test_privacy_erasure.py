"""The offline half of forgetting a user, on the tiny world after a full loop: every Parquet file,
the retrieval user index and the online store lose the user; the request is marked done with counts;
the deadline check fails only for an overdue request."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bento.privacy.ledger import ErasureLedger, ledger_path
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.privacy.assets import erasure_deadline, user_erasure


def _places_holding(home: Path, user: str) -> list[str]:
    places = []
    for path in home.rglob("*.parquet"):
        if "event_log" in path.parts:
            continue
        handle = pq.ParquetFile(path)
        names = handle.schema_arrow.names
        if "user_id" in names and pc.any(pc.equal(handle.read(columns=["user_id"])["user_id"], user)).as_py():
            places.append(str(path.relative_to(home)))
    for ids in home.rglob("user_ids.json"):
        if user in json.loads(ids.read_text()):
            places.append(str(ids.relative_to(home)))
    return places


def test_erasure_asset_removes_the_user_everywhere_offline(tiny_platform) -> None:
    platform, _ = tiny_platform
    home = Path(platform.home)
    training = pq.read_table(home / "features" / "training_set.parquet", columns=["user_id"]).to_pandas()
    user = str(training["user_id"].value_counts().index[0])  # in the training set: almost everywhere
    before = _places_holding(home, user)
    assert {"warehouse/events.parquet", "warehouse/users.parquet", "features/training_set.parquet"} <= set(
        before
    ), before
    assert any(p.startswith("world/") for p in before) and any("user_ids.json" in p for p in before)
    ledger = ErasureLedger(ledger_path(home))
    erasure, _ = ledger.request(user)

    result = dg.materialize([user_erasure, erasure_deadline], resources={"platform": platform})
    assert result.success
    assert _places_holding(home, user) == []
    done = ledger.get(erasure.request_id)
    assert done.offline_done_at is not None and done.offline_counts["warehouse/events"] > 0
    meta = result.asset_materializations_for_node("privacy__user_erasure")[0].metadata
    assert meta["requests_applied"].value >= 1 and meta["rows_dropped"].value > 0
    store = platform.feature_store()
    row = store.get_online_features(features=["user_stats:user_clicks_30d"], entity_rows=[{"user_id": user}])
    assert row.to_dict()["user_clicks_30d"] == [None]


def test_deadline_check_fails_only_for_an_overdue_request(tmp_path: Path) -> None:
    platform = PlatformResource(home=str(tmp_path), progress=False)
    ledger = ErasureLedger(ledger_path(tmp_path))
    only_checks = dg.AssetSelection.checks(erasure_deadline)

    def check_passes() -> bool:
        result = dg.materialize(
            [user_erasure, erasure_deadline], selection=only_checks, resources={"platform": platform}
        )
        return result.get_asset_check_evaluations()[0].passed

    ledger.request("recent-user")
    assert check_passes()
    ledger.request("old-user", now=datetime.now(UTC) - timedelta(days=31))
    assert not check_passes()
