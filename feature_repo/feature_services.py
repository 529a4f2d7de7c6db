"""Feature services: the exact feature set each model version was trained on."""

from feast import FeatureService

from contracts.features import RANKING_SERVICE, RETRIEVAL_SERVICE
from feature_repo.feature_views.item import item_stats_fv
from feature_repo.feature_views.session import user_session_fv
from feature_repo.feature_views.user import user_activity_fv, user_profile_fv, user_stats_fv

retrieval_v1 = FeatureService(
    name=RETRIEVAL_SERVICE,
    features=[user_profile_fv, user_session_fv],
    description="Two-tower query side: profile plus the live session.",
)
ranking_v1 = FeatureService(
    name=RANKING_SERVICE,
    features=[user_stats_fv, user_activity_fv, user_profile_fv, user_session_fv, item_stats_fv],
    description="Ranker inputs: user behaviour, profile, session and item features.",
)
