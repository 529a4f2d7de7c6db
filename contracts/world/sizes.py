"""Every number of the demo world, in one place: the size of each world and how people behave in it.

Sizes differ only in :class:`WorldSpec`; behaviour (:class:`BehaviourParams`) is shared, so a model
that works on ``tiny`` in a test sees the same kind of data as on ``demo`` or ``large``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.settings import WorldSize

SECONDS_PER_DAY = 86_400
MICROS = 1_000_000


@dataclass(frozen=True)
class BehaviourParams:
    """The latent preference model's knobs (see :mod:`contracts.world.latent` for what they mean)."""

    # Catalogue
    latent_dim: int = 16
    brands_per_category: int = 8
    item_noise: float = 0.6  # norm of an item's own offset from its category centroid
    brand_noise: float = 0.3  # norm of a brand's offset (users implicitly like some brands)
    price_sigma: float = 0.5  # lognormal spread of prices around the category median
    item_history_days: int = 365  # pre-window items were created up to this long before the window
    new_item_share: float = 0.10  # items created during the window
    in_stock_share: float = 0.95
    sponsored_share: float = 0.03
    item_zipf: float = 1.05  # item popularity ~ 1 / rank**item_zipf
    category_zipf: float = 0.6  # how unequal the categories are in users' tastes
    # Users
    preferred_categories_p: tuple[float, ...] = (0.4, 0.4, 0.2)  # P(1, 2, 3 preferred categories)
    user_noise: float = 0.4
    explore_share: float = 0.25  # share of the old recommender's category mix spread over all categories
    signup_history_days: int = 3 * 365
    new_user_share: float = 0.10  # users who sign up during the window
    activity_sigma: float = 1.1  # lognormal heavy tail of how active users are
    primary_device_p: float = 0.8
    country_zipf: float = 1.0
    age_bucket_p: tuple[float, ...] = (0.16, 0.27, 0.22, 0.16, 0.11, 0.08)
    device_p: tuple[float, ...] = (0.62, 0.30, 0.08)  # mobile, desktop, tablet
    price_sensitivity: tuple[float, ...] = (1.4, 1.0, 0.8, 0.7, 0.8, 1.0)  # per age bucket
    # Sessions: per surface (home_feed, related_items, notifications)
    surface_p: tuple[float, ...] = (0.78, 0.15, 0.07)
    slate_size: tuple[int, ...] = (10, 6, 2)
    extra_slates_mean: tuple[float, ...] = (1.2, 0.6, 0.0)
    popular_share: tuple[float, ...] = (0.35, 0.15, 0.5)  # slots the old recommender fills by popularity
    max_slates: int = 12
    spare_slots: int = 3  # over-sampled slots per slate, to replace unavailable or duplicate items
    resample_rounds: int = 3
    candidates_per_slot: int = 3  # the old recommender picks the best of these by (noisy) affinity
    recommender_noise: float = 0.3
    sponsored_boost: float = 3.0  # sponsored items' weight in the popular source
    intent_shift_p: float = 0.10  # sessions in which the user wants one other category
    shift_focus: float = 0.8  # share of affinity slots drawn from the session's focus category
    related_focus: float = 0.9
    diurnal: tuple[float, ...] = (
        0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.5, 0.7, 0.8, 0.8, 0.9,
        1.0, 0.9, 0.8, 0.8, 0.9, 1.0, 1.0, 1.0, 0.9, 0.8, 0.6, 0.4,
    )  # fmt: skip
    diurnal_rounds: int = 4
    # Timing within a session (seconds)
    slate_gap_mean: float = 45.0
    slate_gap_max: float = 300.0
    impression_stagger: float = 0.001
    click_delay_mean: float = 8.0
    click_delay_max: float = 120.0
    view_delay: float = 1.0
    dwell_log_mean: float = 3.5
    dwell_affinity: float = 0.5
    dwell_sigma: float = 0.8
    dwell_max: float = 1800.0
    purchase_delay_mean: float = 30.0
    purchase_delay_max: float = 300.0
    share_delay: float = 5.0
    skip_delay_max: float = 3.0
    # Responses
    click_intercept: float = -4.0
    click_affinity: float = 2.5
    click_popularity: float = 0.4
    position_decay: float = 0.5  # logit penalty per log1p(position)
    shift_boost: float = 1.5  # logit bonus for the focus category in an intent-shift session
    popularity_z_clip: float = 3.0
    view_p: float = 0.95
    purchase_intercept: float = -4.0
    purchase_affinity: float = 1.5
    share_intercept: float = -4.5
    share_affinity: float = 1.0
    skip_affinity_below: float = 0.1
    skip_p: float = 0.3

    @property
    def max_session_seconds(self) -> float:
        """Longest possible session, so sessions can start late enough and still end in the window."""
        return (
            self.max_slates * self.slate_gap_max
            + max(self.slate_size) * self.impression_stagger
            + max(self.click_delay_max, self.skip_delay_max)
            + self.view_delay
            + self.dwell_max
            + max(self.purchase_delay_max, self.share_delay)
        )


@dataclass(frozen=True)
class WorldSpec:
    """How big a world is; events per user follow from ``sessions_per_user_day`` and behaviour."""

    size: WorldSize
    n_users: int
    n_items: int
    days: int
    sessions_per_user_day: float
    users_per_chunk: int  # one events part file per chunk; bounds memory
    behaviour: BehaviourParams = field(default_factory=BehaviourParams)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_users // self.users_per_chunk)


SPECS: dict[str, WorldSpec] = {
    "tiny": WorldSpec(
        "tiny", n_users=300, n_items=400, days=14, sessions_per_user_day=0.37, users_per_chunk=100
    ),
    "demo": WorldSpec(
        "demo", n_users=20_000, n_items=50_000, days=30, sessions_per_user_day=0.136, users_per_chunk=5_000
    ),
    # The serving benchmark's world (bench.serving): a catalogue of a million, modest history.
    "serving": WorldSpec(
        "serving",
        n_users=100_000,
        n_items=1_000_000,
        days=14,
        sessions_per_user_day=0.05,
        users_per_chunk=25_000,
    ),
    "large": WorldSpec(
        "large",
        n_users=2_000_000,
        n_items=1_000_000,
        days=60,
        sessions_per_user_day=0.034,
        users_per_chunk=25_000,
    ),
}


def spec_for(size: WorldSize) -> WorldSpec:
    try:
        return SPECS[size]
    except KeyError:
        raise ValueError(f"unknown world size {size!r}; expected one of {sorted(SPECS)}") from None
