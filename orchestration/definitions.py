"""The code location: every asset, check, resource, job, schedule and sensor of the loop."""

import dagster as dg

from orchestration.defs.alerting import sensors as alerting
from orchestration.defs.candidate_generation import assets as candidate_generation
from orchestration.defs.candidate_generation import rebuild as index_rebuild
from orchestration.defs.candidate_generation import trending_refresh
from orchestration.defs.common.artifact_store import ArtifactStoreResource
from orchestration.defs.common.automation import started
from orchestration.defs.common.freshness import with_design_freshness
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.evaluation import assets as evaluation
from orchestration.defs.features import assets as features
from orchestration.defs.features import checks as features_checks
from orchestration.defs.ingestion import assets as ingestion
from orchestration.defs.ingestion import checks as ingestion_checks
from orchestration.defs.privacy import assets as privacy
from orchestration.defs.privacy import jobs as privacy_jobs
from orchestration.defs.ranking import assets as ranking
from orchestration.defs.ranking import checks as ranking_checks
from orchestration.defs.serving import assets as serving
from orchestration.defs.serving import checks as serving_checks
from orchestration.defs.trust import assets as trust
from orchestration.defs.trust import checks as trust_checks

STAGES = [ingestion, trust, features, candidate_generation, ranking, evaluation, serving]

full_loop = dg.define_asset_job(
    "full_loop", selection=privacy_jobs.LOOP_SELECTION, description="Events to bento."
)
daily_retrain = dg.ScheduleDefinition(job=full_loop, cron_schedule="0 3 * * *", execution_timezone="UTC")
archive_events = dg.define_asset_job("archive_events", selection=[ingestion.event_archive.key])
hourly_archive = dg.ScheduleDefinition(
    job=archive_events, cron_schedule="5 * * * *", execution_timezone="UTC"
)

defs = dg.Definitions(
    assets=[
        *with_design_freshness(
            privacy_jobs.erasure_before_features(dg.load_assets_from_modules([*STAGES, privacy]))
        ),
        trending_refresh.live_trending,  # updated by the trending_refresh job, not by the loop
    ],
    asset_checks=dg.load_asset_checks_from_modules(
        [ingestion_checks, features_checks, ranking_checks, serving_checks, trust_checks, privacy]
    ),
    jobs=[
        full_loop,
        archive_events,
        index_rebuild.index_rebuild,
        trending_refresh.trending_refresh,
        privacy_jobs.erase_users,
        privacy_jobs.enforce_retention,
    ],
    schedules=started(
        [
            daily_retrain,
            hourly_archive,
            index_rebuild.index_rebuild_schedule,
            trending_refresh.trending_refresh_schedule,
            privacy_jobs.hourly_erasure,
            privacy_jobs.daily_retention,
        ]
    ),
    sensors=[alerting.loop_health_alerts, alerting.loop_failure_alert],
    resources={
        "platform": PlatformResource.from_env(),
        "alerting": alerting.AlertingResource(),
        "artifacts": ArtifactStoreResource.from_env(),
    },
)
