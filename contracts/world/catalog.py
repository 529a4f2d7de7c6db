"""The demo world's items and users, drawn from the latent model (tables plus the hidden truth).

Each table is built column-wise with numpy and Arrow compute (no Python loop per row). Random
streams are keyed by purpose and chunk, so users' tastes do not depend on the time window and a
chunk's users do not depend on how many chunks came before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contracts.schemas import DEVICES, ITEMS_SCHEMA, USERS_SCHEMA
from contracts.world import latent
from contracts.world.io import id_digits, prefixed_ids
from contracts.world.sizes import MICROS, SECONDS_PER_DAY, WorldSpec

_STREAMS = {"catalog": 1, "users": 2, "user_latent": 3, "events": 4}


def rng_for(seed: int, stream: str, index: int = 0) -> np.random.Generator:
    """An independent, reproducible random stream per (seed, purpose, chunk)."""
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[stream], index]))


def _timestamps(micros: np.ndarray) -> pa.Array:
    return pa.array(micros.astype(np.int64), type=pa.timestamp("us", tz="UTC"))


def _arrival_times(
    rng: np.random.Generator, n: int, new_share: float, history_days: int, start_us: int, end_us: int
) -> np.ndarray:
    """Most rows date from before the window (up to ``history_days``); ``new_share`` arrive inside it."""
    new = rng.random(n) < new_share
    before = start_us - rng.random(n) * history_days * SECONDS_PER_DAY * MICROS
    during = start_us + rng.random(n) * (end_us - start_us)
    return np.where(new, during, before).astype(np.int64)


@dataclass(frozen=True)
class Catalog:
    """All items: the table plus what the behaviour model needs (vectors, popularity, samplers)."""

    table: pa.Table
    ids: pa.Array
    category: np.ndarray  # int index into latent.CATEGORIES
    vectors: np.ndarray  # float32, n_items x latent_dim
    created_us: np.ndarray
    price: np.ndarray
    popularity_z: np.ndarray  # standardised log popularity, clipped
    log_price_ratio: np.ndarray  # log(price / category median)
    centroids: np.ndarray
    popular_cdf: np.ndarray  # over items, in-stock only, sponsored boosted
    by_category: np.ndarray  # item indices sorted by category
    category_cdf: (
        np.ndarray
    )  # per category cumulative share (0..1] + category index, aligned with by_category


def _within_category_cdf(
    category: np.ndarray, weights: np.ndarray, n_cat: int
) -> tuple[np.ndarray, np.ndarray]:
    """Items sorted by category, and ``category + cumulative share within it``: one monotone array,
    so a single ``searchsorted(c + u)`` samples an item of category ``c`` by weight."""
    order = np.argsort(category, kind="stable")
    cat_sorted = category[order]
    w = weights[order]
    cum = np.cumsum(w)
    starts = np.searchsorted(cat_sorted, np.arange(n_cat))
    ends = np.searchsorted(cat_sorted, np.arange(n_cat), side="right")
    before = np.concatenate([[0.0], cum])[starts]
    totals = np.concatenate([[0.0], cum])[ends] - before
    if np.any(totals <= 0):
        raise ValueError("every category needs at least one in-stock item; the world is too small")
    share = (cum - np.repeat(before, ends - starts)) / np.repeat(totals, ends - starts)
    share[ends - 1] = 1.0
    return order, cat_sorted + share


def make_catalog(spec: WorldSpec, seed: int, start_us: int, end_us: int) -> Catalog:
    p = spec.behaviour
    rng = rng_for(seed, "catalog")
    n, n_cat = spec.n_items, len(latent.CATEGORIES)
    centroids = latent.category_centroids(rng, p)
    n_brands = n_cat * p.brands_per_category
    brand_vectors = latent.offsets(rng, n_brands, p.brand_noise, p.latent_dim)
    brands = latent.brand_names(rng, n_brands)

    category = rng.integers(0, n_cat, size=n)
    brand_rank = rng.choice(p.brands_per_category, size=n, p=latent.zipf_weights(p.brands_per_category, 1.0))
    brand = category * p.brands_per_category + brand_rank
    vectors = (centroids[category] + brand_vectors[brand]).astype(np.float32)
    vectors += latent.offsets(rng, n, p.item_noise, p.latent_dim).astype(np.float32)

    medians = np.array([c.median_price for c in latent.CATEGORIES])
    log_ratio = rng.normal(0.0, p.price_sigma, size=n)
    price = np.maximum(np.round(medians[category] * np.exp(log_ratio), 2), 0.01)
    created = _arrival_times(rng, n, p.new_item_share, p.item_history_days, start_us, end_us)
    in_stock = rng.random(n) < p.in_stock_share
    sponsored = rng.random(n) < p.sponsored_share
    popularity = latent.zipf_weights(n, p.item_zipf, rng)
    log_pop = np.log(popularity)
    pop_z = np.clip((log_pop - log_pop.mean()) / log_pop.std(), -p.popularity_z_clip, p.popularity_z_clip)

    adjectives = pa.array(latent.ADJECTIVES)
    n_nouns = np.array([len(c.nouns) for c in latent.CATEGORIES])
    noun_offset = np.concatenate([[0], np.cumsum(n_nouns)[:-1]])
    nouns = pa.array([noun for c in latent.CATEGORIES for noun in c.nouns])
    noun = noun_offset[category] + (rng.random(n) * n_nouns[category]).astype(np.int64)
    adj = rng.integers(0, len(latent.ADJECTIVES), size=(n, 2))
    title = pc.binary_join_element_wise(
        pa.array(brands).take(pa.array(brand)),
        adjectives.take(pa.array(adj[:, 0])),
        adjectives.take(pa.array(adj[:, 1])),
        nouns.take(pa.array(noun)),
        " ",
    )
    ids = prefixed_ids("i", 0, n, id_digits(n))
    table = pa.table(
        [
            ids,
            pa.array(latent.CATEGORY_NAMES).take(pa.array(category)),
            pa.array(brands).take(pa.array(brand)),
            pa.array(price),
            title,
            _timestamps(created),
            pa.array(in_stock),
            pa.array(sponsored),
        ],
        schema=ITEMS_SCHEMA,
    )
    weights = popularity * in_stock
    boosted = weights * np.where(sponsored, p.sponsored_boost, 1.0)
    popular_cdf = np.cumsum(boosted) / boosted.sum()
    popular_cdf[-1] = 1.0
    by_category, category_cdf = _within_category_cdf(category, weights, n_cat)
    return Catalog(
        table,
        ids,
        category,
        vectors,
        created,
        price,
        pop_z,
        log_ratio,
        centroids,
        popular_cdf,
        by_category,
        category_cdf,
    )


@dataclass(frozen=True)
class UserChunk:
    """A chunk of users: the table rows plus their hidden tastes and activity."""

    table: pa.Table
    ids: pa.Array
    vectors: np.ndarray  # float32, n x latent_dim
    weights: np.ndarray  # true category preference weights, n x n_categories
    top_category: np.ndarray
    mix_cdf: np.ndarray  # old recommender's category mix: cumulative per row + row index (monotone)
    device: np.ndarray
    price_sensitivity: np.ndarray
    signup_us: np.ndarray
    activity: np.ndarray  # relative activity, mean 1


def user_tastes(
    spec: WorldSpec, seed: int, chunk: int, n: int, centroids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hidden tastes of a chunk's users: (category weights, top category, vectors).

    Depends only on seed, chunk and the centroids, so :func:`latent_truth` can recompute them.
    """
    rng = rng_for(seed, "user_latent", chunk)
    weights, top = latent.preferred_categories(rng, n, spec.behaviour)
    return weights, top, latent.user_vectors(rng, weights, centroids, spec.behaviour)


def make_users(
    spec: WorldSpec, seed: int, chunk: int, centroids: np.ndarray, start_us: int, end_us: int
) -> UserChunk:
    p = spec.behaviour
    first = chunk * spec.users_per_chunk
    n = min(spec.users_per_chunk, spec.n_users - first)
    weights, top, vectors = user_tastes(spec, seed, chunk, n, centroids)
    rng = rng_for(seed, "users", chunk)
    country = rng.choice(
        len(latent.COUNTRIES), size=n, p=latent.zipf_weights(len(latent.COUNTRIES), p.country_zipf)
    )
    age = rng.choice(len(latent.AGE_BUCKETS), size=n, p=p.age_bucket_p)
    device = rng.choice(len(DEVICES), size=n, p=p.device_p)
    last_signup = end_us - int(p.max_session_seconds * MICROS)
    signup = _arrival_times(rng, n, p.new_user_share, p.signup_history_days, start_us, last_signup)
    activity = rng.lognormal(0.0, p.activity_sigma, size=n)
    activity /= np.exp(p.activity_sigma**2 / 2)

    countries = pa.array(latent.COUNTRIES).take(pa.array(country))
    ages = pa.array(latent.AGE_BUCKETS).take(pa.array(age))
    ids = prefixed_ids("u", first, n, id_digits(spec.n_users))
    table = pa.table(
        [
            ids,
            countries,
            ages,
            pa.array(DEVICES).take(pa.array(device)),
            pc.binary_join_element_wise(countries, ages, ":"),
            _timestamps(signup),
        ],
        schema=USERS_SCHEMA,
    )
    mix = np.cumsum(latent.recommender_mix(weights, p), axis=1)
    mix[:, -1] = 1.0
    return UserChunk(
        table,
        ids,
        vectors,
        weights,
        top,
        (mix + np.arange(n)[:, None]).ravel(),
        device,
        np.asarray(p.price_sensitivity)[age],
        signup,
        activity,
    )
