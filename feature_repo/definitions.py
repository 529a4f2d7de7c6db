"""Every Feast object of the repo, in dependency order, for programmatic `store.apply`."""

from feature_repo.data_sources import user_session_push
from feature_repo.entities import item, user
from feature_repo.feature_services import ranking_v1, retrieval_v1
from feature_repo.feature_views.item import item_stats_fv
from feature_repo.feature_views.session import user_session_fv
from feature_repo.feature_views.user import user_activity_fv, user_profile_fv, user_stats_fv

ENTITIES = [user, item]
FEATURE_VIEWS = [user_stats_fv, user_activity_fv, user_profile_fv, item_stats_fv, user_session_fv]
FEATURE_SERVICES = [retrieval_v1, ranking_v1]
ALL_OBJECTS = [*ENTITIES, user_session_push, *FEATURE_VIEWS, *FEATURE_SERVICES]
