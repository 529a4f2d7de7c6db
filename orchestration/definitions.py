"""The code location: every asset, check, resource, job, schedule and sensor of the loop."""

import dagster as dg

from orchestration.defs.alerting import sensors as alerting
from orchestration.defs.candidate_generation import assets as candidate_generation
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.evaluation import assets as evaluation
from orchestration.defs.features import assets as features
from orchestration.defs.features import checks as features_checks
from orchestration.defs.ingestion import assets as ingestion
from orchestration.defs.ingestion import checks as ingestion_checks
from orchestration.defs.ranking import assets as ranking
from orchestration.defs.ranking import checks as ranking_checks
from orchestration.defs.serving import assets as serving

STAGES = [ingestion, features, candidate_generation, ranking, evaluation, serving]

full_loop = dg.define_asset_job(
    "full_loop", selection=dg.AssetSelection.all(), description="Events to bento."
)
daily_retrain = dg.ScheduleDefinition(job=full_loop, cron_schedule="0 3 * * *", execution_timezone="UTC")
archive_events = dg.define_asset_job("archive_events", selection=[ingestion.event_archive.key])
hourly_archive = dg.ScheduleDefinition(
    job=archive_events, cron_schedule="5 * * * *", execution_timezone="UTC"
)

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(STAGES),
    asset_checks=dg.load_asset_checks_from_modules([ingestion_checks, features_checks, ranking_checks]),
    jobs=[full_loop, archive_events],
    schedules=[daily_retrain, hourly_archive],
    sensors=[alerting.loop_failure_alert],
    resources={"platform": PlatformResource.from_env()},
)
