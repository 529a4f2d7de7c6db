"""`dagster.prod.yaml`: the Dagster instance on PostgreSQL runs the loop's jobs and the alerts.

Against the machine's PostgreSQL in a schema unique to the run (dropped afterwards). Skipped
without PostgreSQL, unless ``RECO_TEST_SERVICES=required`` (CI), where it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from contracts.settings import REPO_ROOT
from orchestration.definitions import defs
from orchestration.defs.alerting.sensors import AlertingResource, loop_health_alerts
from orchestration.defs.common.resources import PlatformResource

POSTGRES = os.environ.get("RECO_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture
def pg_schema():
    import psycopg

    schema = f"dagster_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(POSTGRES, connect_timeout=2, autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {schema}")
    except Exception as error:
        if os.environ.get("RECO_TEST_SERVICES") == "required":
            raise
        pytest.skip(f"PostgreSQL ({POSTGRES}) unreachable: {error}")
    yield schema
    with psycopg.connect(POSTGRES, connect_timeout=2, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


def test_prod_instance_keeps_runs_and_materializations_in_postgres_and_alerts_on_them(
    pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # psycopg2 driver named: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, whose server-side
    # parameters break dagster-postgres's NOTIFY.
    url = POSTGRES.replace("postgresql://", "postgresql+psycopg2://", 1)
    monkeypatch.setenv("RECO_DAGSTER_PG_URL", f"{url}?options=-csearch_path%3D{pg_schema}")
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.prod.yaml", dagster_home / "dagster.yaml")
    batch = dg.AssetKey(["features", "batch_features"])
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        with freeze_time(datetime.now(UTC) - timedelta(hours=49)):
            instance.report_runless_asset_event(dg.AssetMaterialization(batch))
    config = tmp_path / "alerts.yaml"
    config.write_text("notifiers: []\n")
    platform = PlatformResource(home=str(tmp_path / "home"), progress=False)
    resources = {"platform": platform, "alerting": AlertingResource(config_file=str(config))}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:  # a second process's view
        assert instance.get_latest_materialization_event(batch) is not None
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources) as context:
            assert "PAGE freshness:features/batch_features" in loop_health_alerts(context).skip_message
    [logged] = [json.loads(line) for line in (tmp_path / "home" / "alerts.jsonl").read_text().splitlines()]
    assert (logged["event"], logged["severity"]) == ("trigger", "PAGE")
