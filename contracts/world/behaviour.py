"""Behaviour of one chunk of users: sessions, the old recommender's slates, and the users' responses.

Everything is vectorised over sessions -> slates -> slots -> impressions with ``np.repeat``; there
is no Python loop per event. The old recommender fills each slate with a mix of popular items and
items picked by (noisy) affinity from a category, so the logs carry popularity and position bias
just like real logs. Users then respond from the true latent affinity
(see :mod:`contracts.world.latent`): click = sigmoid(intercept + affinity + popularity - position
decay + intent-shift bonus); a click may lead to a view with dwell time, a purchase (value = price)
or a share; low-affinity impressions are sometimes skipped.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contracts.schemas import DEVICES, EVENT_TYPES, EVENTS_SCHEMA, SURFACES
from contracts.world.catalog import Catalog, UserChunk
from contracts.world.io import EVENT_ID_DIGITS, prefixed_ids
from contracts.world.latent import affinity
from contracts.world.sizes import MICROS, SECONDS_PER_DAY, WorldSpec

RELATED, NOTIFICATIONS = SURFACES.index("related_items"), SURFACES.index("notifications")
Sessions = dict[str, np.ndarray]  # one array per session attribute, aligned
_TYPE = {name: i for i, name in enumerate(EVENT_TYPES)}
# Tie-break for equal timestamps: the order in which things happen.
_CAUSAL = np.array(
    [("impression", "click", "skip", "view", "dwell", "purchase", "share").index(t) for t in EVENT_TYPES]
)
_BELOW_ONE = 1.0 - 1e-9  # keeps `row + u` strictly inside its row of a monotone cdf


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _rank_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each group of a repeated layout (``np.repeat(groups, counts)``)."""
    starts = np.cumsum(counts) - counts
    return np.arange(counts.sum()) - np.repeat(starts, counts)


def _sample_rows(
    flat_cdf: np.ndarray, rows: np.ndarray, row_len: int, rng: np.random.Generator
) -> np.ndarray:
    """Sample a column per row from a row-offset cumulative table (see ``UserChunk.mix_cdf``)."""
    u = rng.random(len(rows)) * _BELOW_ONE
    return np.searchsorted(flat_cdf, rows + u, side="right") - rows * row_len


def _session_starts(rng: np.random.Generator, lo: np.ndarray, hi: int, spec: WorldSpec) -> np.ndarray:
    """Start times uniform in [lo, hi], thinned by the hour-of-day curve (rejection sampling)."""
    p = spec.behaviour
    rounds = p.diurnal_rounds
    cand = lo[:, None] + (rng.random((len(lo), rounds)) * (hi - lo)[:, None]).astype(np.int64)
    hours = (cand // (3600 * MICROS)) % 24
    accept = rng.random(cand.shape) < (np.asarray(p.diurnal) / max(p.diurnal))[hours]
    accept[:, -1] = True
    return cand[np.arange(len(lo)), np.argmax(accept, axis=1)]


class _Picker:
    """The old recommender: popular items or the best of a few category items by noisy affinity."""

    def __init__(self, spec: WorldSpec, catalog: Catalog, users: UserChunk, sessions: Sessions) -> None:
        self.p, self.catalog, self.users, self.s = spec.behaviour, catalog, users, sessions
        self.n_cat = catalog.centroids.shape[0]

    def pick(self, rng: np.random.Generator, sess: np.ndarray) -> np.ndarray:
        p, cat = self.p, self.catalog
        items = np.empty(len(sess), dtype=np.int64)
        popular = rng.random(len(sess)) < np.asarray(p.popular_share)[self.s["surface"][sess]]
        u = rng.random(int(popular.sum())) * _BELOW_ONE
        items[popular] = np.searchsorted(cat.popular_cdf, u, side="right")
        sess = sess[~popular]
        user = self.s["user"][sess]
        focus = self.s["focus"][sess]
        use_focus = (focus >= 0) & (rng.random(len(sess)) < self.s["focus_p"][sess])
        category = np.where(use_focus, focus, _sample_rows(self.users.mix_cdf, user, self.n_cat, rng))
        draws = category[:, None] + rng.random((len(sess), p.candidates_per_slot)) * _BELOW_ONE
        candidates = cat.by_category[np.searchsorted(cat.category_cdf, draws, side="right")]
        taste = self.users.vectors[user]
        scores = np.stack(
            [affinity(taste, cat.vectors[candidates[:, j]]) for j in range(candidates.shape[1])], 1
        )
        scores += rng.normal(0.0, p.recommender_noise, size=scores.shape)
        items[~popular] = candidates[np.arange(len(sess)), np.argmax(scores, axis=1)]
        return items


def _sessions(
    rng: np.random.Generator, spec: WorldSpec, users: UserChunk, start_us: int, end_us: int
) -> Sessions:
    """Poisson sessions per user (heavy-tailed activity), each with surface, device and intent."""
    p = spec.behaviour
    n_cat = users.weights.shape[1]
    lo = np.maximum(start_us, users.signup_us)
    hi = end_us - int(p.max_session_seconds * MICROS)
    active_days = np.clip(hi - lo, 0, None) / (SECONDS_PER_DAY * MICROS)
    per_user = rng.poisson(spec.sessions_per_user_day * active_days * users.activity)
    user = np.repeat(np.arange(len(lo)), per_user)
    start = _session_starts(rng, lo[user], hi, spec)
    order = np.lexsort((start, user))
    user, start = user[order], start[order]
    n = len(user)
    surface = rng.choice(len(SURFACES), size=n, p=p.surface_p)
    device = np.where(
        rng.random(n) < p.primary_device_p, users.device[user], rng.choice(len(DEVICES), n, p=p.device_p)
    )
    shift = (surface != NOTIFICATIONS) & (rng.random(n) < p.intent_shift_p)
    shifted_to = (users.top_category[user] + rng.integers(1, n_cat, size=n)) % n_cat
    related_to = _sample_rows(users.mix_cdf, user, n_cat, rng)
    related = surface == RELATED
    return {
        "user": user,
        "number": _rank_within(per_user),
        "start": start,
        "surface": surface,
        "device": device,
        "focus": np.where(shift, shifted_to, np.where(related, related_to, -1)),
        "focus_p": np.where(shift, p.shift_focus, np.where(related, p.related_focus, 0.0)),
        "boost": np.where(shift, p.shift_boost, 0.0),
    }


def _impressions(
    rng: np.random.Generator, spec: WorldSpec, catalog: Catalog, users: UserChunk, s: Sessions
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Slates of available, distinct items with positions 0..k-1 (unavailable picks are re-drawn).

    Returns (session, item, position, timestamp) per impression.
    """
    p = spec.behaviour
    size = np.asarray(p.slate_size)[s["surface"]]
    extra = np.minimum(rng.poisson(np.asarray(p.extra_slates_mean)[s["surface"]]), p.max_slates - 1)
    n_slates = 1 + extra
    slate_sess = np.repeat(np.arange(len(size)), n_slates)
    gap = np.minimum(rng.exponential(p.slate_gap_mean, len(slate_sess)), p.slate_gap_max)
    gap[_rank_within(n_slates) == 0] = 0.0
    elapsed = np.cumsum(gap)
    elapsed -= np.repeat(elapsed[np.cumsum(n_slates) - n_slates], n_slates)
    slate_ts = s["start"][slate_sess] + _micros(elapsed)

    n_slots = size[slate_sess] + p.spare_slots
    slot_slate = np.repeat(np.arange(len(slate_sess)), n_slots)
    slot_sess = slate_sess[slot_slate]
    picker = _Picker(spec, catalog, users, s)
    item = picker.pick(rng, slot_sess)
    valid = catalog.created_us[item] <= slate_ts[slot_slate]
    for _ in range(p.resample_rounds):
        redo = np.flatnonzero(~valid)
        item[redo] = picker.pick(rng, slot_sess[redo])
        valid[redo] = catalog.created_us[item[redo]] <= slate_ts[slot_slate[redo]]
    order = np.lexsort((np.arange(len(item)), item, slot_slate))
    repeat = np.zeros(len(item), dtype=bool)
    repeat[order[1:]] = (slot_slate[order[1:]] == slot_slate[order[:-1]]) & (
        item[order[1:]] == item[order[:-1]]
    )
    keep = valid & ~repeat
    kept_before = np.concatenate([[0], np.cumsum(keep)])[np.cumsum(n_slots) - n_slots]
    position = np.cumsum(keep) - np.repeat(kept_before, n_slots) - 1
    keep &= position < size[slot_sess]
    sess, position = slot_sess[keep], position[keep]
    ts = slate_ts[slot_slate[keep]] + _micros(position * p.impression_stagger)
    return sess, item[keep], position, ts


def _micros(seconds: np.ndarray | float) -> np.ndarray:
    return (np.asarray(seconds) * MICROS).astype(np.int64)


def _responses(
    rng: np.random.Generator,
    spec: WorldSpec,
    catalog: Catalog,
    users: UserChunk,
    s: Sessions,
    impressions: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """What users do with each impression: (event type, which impressions, timestamp, value)."""
    p = spec.behaviour
    sess, item, pos, ts = impressions
    n = len(sess)
    user = s["user"][sess]
    aff = affinity(users.vectors[user], catalog.vectors[item]).astype(np.float64)
    focused = catalog.category[item] == s["focus"][sess]
    logit = (
        p.click_intercept
        + p.click_affinity * aff
        + p.click_popularity * catalog.popularity_z[item]
        - p.position_decay * np.log1p(pos)
        + np.where(focused, s["boost"][sess], 0.0)
    )
    click = rng.random(n) < _sigmoid(logit)
    skip = ~click & (aff < p.skip_affinity_below) & (rng.random(n) < p.skip_p)
    click_ts = ts + _micros(np.minimum(rng.exponential(p.click_delay_mean, n), p.click_delay_max))
    view = click & (rng.random(n) < p.view_p)
    view_ts = click_ts + _micros(p.view_delay)
    dwell = np.minimum(rng.lognormal(p.dwell_log_mean + p.dwell_affinity * aff, p.dwell_sigma), p.dwell_max)
    dwell = np.round(dwell, 1)
    dwell_ts = view_ts + _micros(dwell)
    buy_logit = p.purchase_intercept + p.purchase_affinity * aff
    buy_logit -= users.price_sensitivity[user] * catalog.log_price_ratio[item]
    purchase = view & (rng.random(n) < _sigmoid(buy_logit))
    buy_delay = np.minimum(rng.exponential(p.purchase_delay_mean, n), p.purchase_delay_max)
    share = view & (rng.random(n) < _sigmoid(p.share_intercept + p.share_affinity * aff))
    skip_ts = ts + _micros(rng.random(n) * p.skip_delay_max)
    nan = np.full(n, np.nan)
    return [
        ("impression", np.ones(n, dtype=bool), ts, nan),
        ("click", click, click_ts, nan),
        ("skip", skip, skip_ts, nan),
        ("view", view, view_ts, nan),
        ("dwell", view, dwell_ts, dwell),
        ("purchase", purchase, dwell_ts + _micros(buy_delay), catalog.price[item]),
        ("share", share, dwell_ts + _micros(p.share_delay), nan),
    ]


def chunk_events(
    rng: np.random.Generator,
    spec: WorldSpec,
    catalog: Catalog,
    users: UserChunk,
    start_us: int,
    end_us: int,
    first_event: int,
) -> pa.Table:
    """All events of one chunk of users, sorted by time, numbered from ``first_event + 1``."""
    s = _sessions(rng, spec, users, start_us, end_us)
    impressions = _impressions(rng, spec, catalog, users, s)
    sess, item, pos, _ = impressions
    parts = _responses(rng, spec, catalog, users, s, impressions)
    rows = np.concatenate([np.flatnonzero(mask) for _, mask, _, _ in parts])
    kind = np.concatenate(
        [np.full(int(mask.sum()), _TYPE[name], dtype=np.int8) for name, mask, _, _ in parts]
    )
    times = np.concatenate([t[mask] for _, mask, t, _ in parts])
    values = np.concatenate([v[mask] for _, mask, _, v in parts])
    order = np.lexsort((_CAUSAL[kind], rows, times))
    rows, kind, times, values = rows[order], kind[order], times[order], values[order]
    ev_sess = sess[rows]

    session_ids = pc.binary_join_element_wise(
        users.ids.take(pa.array(s["user"])), pc.cast(pa.array(s["number"]), pa.string()), "-s"
    )
    columns = [
        prefixed_ids("e", first_event, len(rows), EVENT_ID_DIGITS),
        users.ids.take(pa.array(s["user"][ev_sess])),
        catalog.ids.take(pa.array(item[rows])),
        pa.array(EVENT_TYPES).take(pa.array(kind)),
        pa.array(times, type=pa.timestamp("us", tz="UTC")),
        pa.array(SURFACES).take(pa.array(s["surface"][ev_sess])),
        pa.array(pos[rows].astype(np.int32)),
        session_ids.take(pa.array(ev_sess)),
        pa.array(DEVICES).take(pa.array(s["device"][ev_sess])),
        pa.array(values, from_pandas=True),
    ]
    return pa.table(columns, schema=EVENTS_SCHEMA)
