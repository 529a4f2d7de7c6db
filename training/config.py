"""Every training default in one place, as frozen dataclasses.

Orchestration passes overrides with ``dataclasses.replace``; nothing else in ``training`` hard-codes
a hyperparameter, so a run is fully described by its config objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class RetrievalConfig:
    """Two-tower model: sizes chosen so the demo world trains in well under two minutes on 2 CPUs."""

    embedding_dim: int = 64
    hidden_dim: int = 128
    side_dim: int = 16  # embedding size of each categorical side feature
    title_dim: int = 32
    title_hash_buckets: int = 2**14
    max_title_tokens: int = 8
    recent_items: int = 20  # the user tower's bag of latest engaged items (0 turns it off)
    price_buckets: int = 16  # log-scale buckets between min_price and max_price, +1 for NaN
    min_price: float = 1.0
    max_price: float = 10_000.0
    temperature: float = 0.05
    logq_correction: bool = True
    id_dropout: float = 0.25  # share of rows whose id embedding is replaced by "unknown" (cold start)
    max_pair_weight: float = 5.0  # cap on summed event weights of one (user, item) pair
    batch_size: int = 2048
    lr: float = 3e-3
    weight_decay: float = 0.0
    max_epochs: int = 8  # more overfits the demo world (Recall@20 drops after ~8 epochs)
    min_steps: int = 100  # small worlds train more epochs so they learn something at all
    max_steps: int = 1_000
    val_fraction: float = 0.05
    seed: int = 7
    # Torch intra-op threads while training and embedding (None: torch's default, one per core).
    # One thread avoids waiting on a descheduled worker on a shared 2-core machine
    # (``training.recommenders.threads``); the default is left to the machine.
    torch_threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RankerConfig:
    """Multi-surface ranker: a shared MLP base plus one small head per surface."""

    hidden_dims: tuple[int, ...] = (128, 64)
    head_dim: int = 32
    dropout: float = 0.1
    # Trained on lists (one user's replayed candidates, one session's slates), listwise softmax:
    # the served question is the order of one request's candidates.
    loss: Literal["listwise", "pointwise"] = "listwise"
    batch_lists: int = 32
    max_list: int = 256  # longer lists are cut into random chunks of at most this many rows
    lr: float = 2e-3
    weight_decay: float = 1e-5
    # Trained until the held-out lists' loss stops improving (``patience`` epochs); the best
    # epoch's weights are kept. ``max_steps`` bounds the time on a big training set.
    max_epochs: int = 40
    patience: int = 4
    max_steps: int = 6_000
    val_fraction: float = 0.1
    seed: int = 7
    # A tiny MLP on small list batches: one intra-op thread is as fast on an idle 2-core machine and
    # 10x faster on a busy one (measured on the tiny world's 8.6k rows: 5.6 s on 1 thread, 59 s on
    # 2 with another process on a core; training.recommenders.threads). None: torch's default.
    torch_threads: int | None = 1
    bag_size: int = 3  # rankers averaged in the served model, seeds seed, seed+1, ... (same split)
    split_seed: int | None = None  # the holdout's seed when it must not follow ``seed`` (bag members)
    # The light first stage (per-surface logistic regression) trains on the same lists and split.
    light_lr: float = 1e-2
    light_weight_decay: float = 1e-4

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IndexConfig:
    """Exact search while it is cheap; HNSW or IVF-PQ once brute force gets too slow.

    Defaults come from ``python -m bench.index`` (dim 64, recall@500 against exact search, 2-core
    x86_64; README "Performance"). Exact costs ~10 us per 1,000 items per query on one core (0.74 ms
    at 100k, 9.9 ms at 1M) with perfect recall and no build, so it serves up to 200k items (~2 ms,
    inside the retrieval budget). Above that HNSW: at 1M, efSearch 512 gives recall 0.988 at p50
    0.75 ms, 1024 adds 0.007 recall for twice the CPU per query; its costs are memory (~500 MB per
    1M items) and build time (~5 min per 1M on 2 cores, fine for a rebuild every few hours).
    IVF-PQ with 32 one-byte codes is 10x smaller (47 MB per 1M) but tops out near recall 0.94
    (nprobe 128; nprobe 32: 0.86-0.93; 16 codes: 0.79-0.86): the choice once full vectors no
    longer fit in memory.
    """

    exact_max_items: int = 200_000
    large_kind: Literal["hnsw", "ivfpq"] = "hnsw"
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 512  # floor; raised to the number of results fetched (k + tombstones)
    ivf_nlist: int = 4096  # coarse clusters; capped at n / 39 so k-means has enough points each
    ivf_nprobe: int = 128
    pq_m: int = 32  # sub-quantizers: 64 dims / 32 = 2 dims per byte-sized code
    pq_nbits: int = 8
    train_sample: int = 200_000  # IVF-PQ trains its quantizers on a seeded sample of the items
    seed: int = 7

    def __post_init__(self) -> None:
        if self.large_kind not in ("hnsw", "ivfpq"):
            raise ValueError(f"large_kind must be 'hnsw' or 'ivfpq', got {self.large_kind!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ContentConfig:
    """Content vectors: hashed TF-IDF of the title plus category, brand and price band, blended.

    Each block is unit-normalised and scaled by the square root of its weight, so the inner product
    of two items is the weighted sum of per-block cosines (weights sum to 1).
    """

    # 224 dims: a brute-force query over 50k items costs ~1.5 ms on one core; 448 dims cost twice
    # that for the same neighbours (same category for 99.7% of the top 50 on the demo world).
    text_buckets: int = 128
    attribute_buckets: int = 32  # category, brand and price band hash into one block each
    text_weight: float = 0.4
    category_weight: float = 0.3
    brand_weight: float = 0.15
    price_weight: float = 0.15
    price_bands: int = 12  # log-spaced over the catalogue's price range
    neighbour_band_weight: float = 0.5  # a price one band away still counts as half similar
    neighbours: int = 50  # precomputed per item (design: top 50 per recent item)
    batch_queries: int = 4096  # queries per FAISS call while precomputing (BLAS path, bounded memory)
    max_seeds: int = 10  # design: the user's last 10 items, ~50 neighbours each, ~300 after union
    seed_decay: float = 0.9  # an older seed's neighbours count this much less per step back

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ItemKNNConfig:
    """Collaborative item neighbours (``training.candidates.item_knn``): shrunk cosine over users.

    Defaults sit where tuned ItemKNN lands on MovieLens 100K (hundreds of neighbours, small shrink);
    ``max_user_items`` bounds the co-occurrence cost of heavy users (and of bots).
    """

    neighbours: int = 200  # kept per item
    shrink: float = 10.0  # damps similarities that rest on few common users
    min_count: float = 1.0  # co-occurrences below this are dropped
    max_user_items: int = 500  # a user's latest items that count while fitting
    max_seeds: int = 1000  # a request's history items that score the catalogue (newest first)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EASEConfig:
    """EASE item weights (``training.candidates.ease``) over the ``max_items`` most-engaged items.

    EASE needs one dense inverse of the item Gram matrix, so it is capped, not grown with the
    catalogue: 6,000 items cost ~300 MB and seconds on 2 cores, and the long tail beyond them is
    left to the other sources. The L2 strength follows the data's density (``l2_per_mean_count``
    times the mean engagements per kept item: ~500 on MovieLens 100K, where tuned EASE lands),
    and each item keeps its ``neighbours`` largest weights by magnitude (measured on MovieLens
    100K: 400 keep full EASE's NDCG@10, 200 lose 0.004; positive weights alone lose 0.02).
    """

    max_items: int = 6_000
    l2_per_mean_count: float = 10.0
    neighbours: int = 300
    max_user_items: int = 1_000  # a user's latest items that count while fitting
    max_seeds: int = 1000  # a request's history items that score the catalogue (newest first)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BaselineScaleConfig:
    """How the evaluation baselines (``training.recommenders``) stay bounded on a big catalogue.

    Both closed forms are dense in items x items, which a real file (one Amazon category: 20k+
    items, 3.2 GB per float64 copy) cannot afford on a 2-core, 24 GiB machine. EASE is fitted on
    the ``ease_max_items`` most-interacted items (the served source's cap: one 6,000-item inverse is
    ~430 MB and seconds) and the other items rank after them by popularity. ItemKNN switches to a
    sparse co-occurrence product pruned to each item's top neighbours above
    ``itemknn_dense_max_items`` (same lists; the dense path is faster on a small catalogue).
    """

    ease_max_items: int = EASEConfig.max_items
    itemknn_dense_max_items: int = 5_000

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ALSConfig:
    """ALS factors served from FAISS with a per-request fold-in (``training.candidates.als``).

    Between what tuned ALS picks on MovieLens 100K (128 factors, regularization 10, alpha 1) and on
    the demo world (64-512 factors, regularization 100, alpha 15): a middle that neither tunes to.
    """

    factors: int = 64
    regularization: float = 10.0
    alpha: float = 5.0  # confidence of an engagement (an unobserved pair has 1)
    iterations: int = 15
    max_seeds: int = 1000  # a request's latest engagements that fold in
    seed: int = 7

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _als_grid() -> dict[str, list[Any]]:
    return {
        "factors": [16, 32, 64, 128],
        "regularization": [3.0, 10.0, 30.0, 100.0],
        "alpha": [1.0, 5.0, 15.0],
    }


def _ease_grid() -> dict[str, list[Any]]:
    return {"l2_per_mean_count": [2.5, 5.0, 10.0, 20.0, 40.0]}


def _tuning_bounds() -> dict[str, tuple[float, float]]:
    """How far a search may step past its grid: ALS cost grows with the cube of its factors."""
    return {
        "factors": (4, 128),
        "regularization": (0.1, 1e4),
        "alpha": (0.1, 100.0),
        "l2_per_mean_count": (0.1, 1e3),
    }


@dataclass(frozen=True)
class SourceTuningConfig:
    """Each build tunes its ALS and EASE sources on its own held-out engagements
    (``training.candidates.source_tuning``): no fixed default suits every catalogue (MovieLens 100K
    wants 32 ALS factors with regularization 30, the demo world 64-512 with 100), and a source
    served with another dataset's settings costs more than any ranker wins back (measured on
    MovieLens 100K, stratified: ALS at the old middle defaults 0.406 NDCG@10, tuned 0.486).

    One axis at a time (``coordinate_tune``), so the cost is the sum of the axes' lengths per pass,
    not their product; ``max_val_users`` bounds the scoring, ``budget_s`` the search per source.
    ``enabled: False`` serves the defaults.
    """

    enabled: bool = True
    als: dict[str, list[Any]] = field(default_factory=_als_grid)
    ease: dict[str, list[Any]] = field(default_factory=_ease_grid)
    passes: int = 3
    edge_steps: int = 1
    bounds: dict[str, tuple[float, float]] = field(default_factory=_tuning_bounds)
    max_val_users: int = 2_000
    budget_s: float = 240.0  # per source; then the best setting so far serves
    metric: str = "ndcg@10"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CoInteractionConfig:
    """Item-to-item neighbours from items engaged close together in a user's history (or session)."""

    group_by: Literal["user", "session"] = "user"  # sessions are often one click long: too sparse
    window: int = 10  # pair an item with the next this-many distinct items engaged after it
    max_group_items: int = 200  # only a group's latest items count (bots, crawlers, old tastes)
    min_count: float = 2.0  # pair weight below this is noise
    neighbours: int = 100  # kept per item
    popularity_damping: float = 0.5  # score = c(a,b) / (n(a) n(b))^alpha; 0.5 is cosine

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrendingConfig:
    """Sliding-window engagement with exponential decay, overall and per category."""

    window_hours: float = 4.0  # design: "highest engagement in the last 4 hours"
    half_life_hours: float = 1.0
    baseline_days: float = 7.0  # per-item everyday rate, subtracted so only a rise is "trending"
    baseline_weight: float = 1.0
    min_score: float = 1.0  # at least one fresh click's worth above the baseline
    max_user_item_weight: float = 3.0  # one account's most to one item's window (a purchase's worth)
    size: int = 300  # items kept overall
    per_category: int = 100

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
