"""The latent preference model behind the demo world: the known truth that quality is checked against.

The model, in the order the generator draws it (every knob is in
:class:`~contracts.world.sizes.BehaviourParams`):

* **Categories.** :data:`CATEGORIES` names 24 categories, each with nouns (for titles) and a median
  price. Each category has a random unit *centroid* in a ``latent_dim``-dimensional taste space.
* **Brands.** ``brands_per_category`` invented brand names per category, each with a small offset from
  its category centroid (users implicitly like some brands more than others).
* **Items.** ``vector = centroid[category] + brand_offset[brand] + noise``; brands within a category
  and items overall are Zipf-popular (``popularity ~ 1 / rank**item_zipf`` over a random ranking).
  Price is lognormal around the category median. Titles are ``brand + two adjectives + a category
  noun``, so a text model can learn the category from the title.
* **Users.** Each user prefers 1-3 categories (drawn Zipf-weighted by ``category_zipf``) with
  Dirichlet weights ``w``; ``vector = sum(w_j * centroid_j) + noise``. Price sensitivity depends on
  the age bucket.
* **Affinity** of a user for an item is the dot product of their vectors, ~1 for an item in the
  user's main category, ~0 for unrelated categories. Click, dwell, purchase, share and skip
  probabilities are driven by affinity plus popularity, position, price and session intent
  (see :mod:`contracts.world.behaviour`).

Because the vectors are reproducible from the seed (:func:`contracts.world.generator.latent_truth`),
a trained model's rankings can be scored against true affinity, not only against logged clicks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from contracts.world.sizes import BehaviourParams


@dataclass(frozen=True)
class Category:
    name: str
    nouns: tuple[str, ...]
    median_price: float


CATEGORIES: Final = (
    Category("electronics", ("headphones", "speaker", "charger", "smartwatch", "earbuds"), 80.0),
    Category("computers", ("laptop", "monitor", "keyboard", "mouse", "webcam"), 250.0),
    Category("phones", ("smartphone", "phone case", "screen protector", "power bank"), 150.0),
    Category("books", ("novel", "cookbook", "biography", "paperback", "hardcover"), 15.0),
    Category("music", ("vinyl record", "album", "guitar strings", "ukulele"), 20.0),
    Category("movies", ("blu-ray", "dvd box set", "film collection", "documentary"), 18.0),
    Category("video_games", ("game console", "controller", "video game", "gaming headset"), 55.0),
    Category("toys", ("puzzle", "building blocks", "action figure", "board game", "plush toy"), 25.0),
    Category("baby", ("stroller", "baby monitor", "diapers", "crib sheet", "baby bottle"), 35.0),
    Category("fashion", ("t-shirt", "jacket", "dress", "jeans", "hoodie"), 40.0),
    Category("shoes", ("sneakers", "boots", "sandals", "running shoes", "loafers"), 70.0),
    Category("jewelry", ("necklace", "bracelet", "earrings", "ring", "pendant"), 60.0),
    Category("beauty", ("lipstick", "face cream", "perfume", "shampoo", "mascara"), 20.0),
    Category("health", ("vitamins", "protein powder", "thermometer", "first aid kit"), 25.0),
    Category("sports", ("yoga mat", "dumbbells", "tennis racket", "football", "jump rope"), 35.0),
    Category("outdoors", ("tent", "sleeping bag", "hiking backpack", "camping stove", "lantern"), 60.0),
    Category("home", ("throw pillow", "lamp", "curtains", "rug", "picture frame"), 30.0),
    Category("kitchen", ("frying pan", "blender", "knife set", "coffee maker", "mixing bowl"), 45.0),
    Category("garden", ("garden hose", "planter", "pruning shears", "seed kit", "watering can"), 25.0),
    Category("tools", ("drill", "screwdriver set", "tape measure", "wrench", "tool box"), 50.0),
    Category("automotive", ("car charger", "dash cam", "floor mats", "tire inflator", "wiper blades"), 40.0),
    Category("pet_supplies", ("dog bed", "cat toy", "pet food", "leash", "litter box"), 25.0),
    Category("grocery", ("olive oil", "coffee beans", "green tea", "dark chocolate", "pasta"), 8.0),
    Category("office", ("notebook", "desk organizer", "gel pens", "stapler", "desk chair"), 15.0),
)
CATEGORY_NAMES: Final = tuple(c.name for c in CATEGORIES)
ADJECTIVES: Final = (
    "classic", "premium", "compact", "wireless", "organic", "vintage", "modern", "deluxe", "portable",
    "lightweight", "durable", "eco", "essential", "pro", "ultra", "smart", "soft", "bold", "sleek",
    "handmade", "everyday", "travel", "mini", "large", "natural", "bright", "quiet", "fast", "cozy",
    "signature",
)  # fmt: skip
_SYLLABLES: Final = (
    "ax", "bel", "cor", "dex", "el", "fon", "gra", "hal", "ix", "jun", "kel", "lum", "mar", "nov", "or",
    "pix", "qua", "ros", "sol", "tor", "ul", "ven", "wex", "yar", "zen", "tri", "vo", "na", "li", "ka",
)  # fmt: skip
AGE_BUCKETS: Final = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
COUNTRIES: Final = ("US", "IN", "BR", "GB", "DE", "FR", "JP", "MX", "CA", "ES")


def zipf_weights(n: int, exponent: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Normalised ``1 / rank**exponent``; with ``rng`` the ranks are a random permutation."""
    ranks = np.arange(1, n + 1, dtype=np.float64) if rng is None else rng.permutation(n) + 1.0
    weights = ranks**-exponent
    return weights / weights.sum()


def category_centroids(rng: np.random.Generator, params: BehaviourParams) -> np.ndarray:
    """One random unit vector per category: nearly orthogonal in 16 dimensions."""
    centroids = rng.standard_normal((len(CATEGORIES), params.latent_dim))
    return centroids / np.linalg.norm(centroids, axis=1, keepdims=True)


def offsets(rng: np.random.Generator, n: int, norm: float, dim: int) -> np.ndarray:
    """Isotropic noise whose expected norm is about ``norm``."""
    return rng.standard_normal((n, dim)) * (norm / np.sqrt(dim))


def brand_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct invented brand names (two or three syllables, capitalised)."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        parts = rng.choice(len(_SYLLABLES), size=int(rng.integers(2, 4)))
        name = "".join(_SYLLABLES[p] for p in parts).capitalize()
        if name not in seen:
            seen.add(name)
            names.append(name)
    return np.array(names, dtype=object)


def preferred_categories(
    rng: np.random.Generator, n_users: int, params: BehaviourParams
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's preference weights over categories (n_users x n_categories, rows sum to 1).

    Returns ``(weights, top)`` where ``top`` is each user's main category.
    """
    n_cat = len(CATEGORIES)
    max_k = len(params.preferred_categories_p)
    k = rng.choice(max_k, size=n_users, p=params.preferred_categories_p) + 1
    # Gumbel top-k: distinct categories per user, drawn by the categories' global popularity.
    keys = np.log(zipf_weights(n_cat, params.category_zipf)) + rng.gumbel(size=(n_users, n_cat))
    chosen = np.argsort(-keys, axis=1)[:, :max_k]
    raw = rng.gamma(1.0, size=(n_users, max_k)) * (np.arange(max_k) < k[:, None])
    raw[:, 0] += 1e-9  # never all zero
    weights = np.zeros((n_users, n_cat))
    np.put_along_axis(weights, chosen, raw / raw.sum(axis=1, keepdims=True), axis=1)
    top = chosen[np.arange(n_users), np.argmax(raw, axis=1)]
    return weights, top


def user_vectors(
    rng: np.random.Generator, weights: np.ndarray, centroids: np.ndarray, params: BehaviourParams
) -> np.ndarray:
    """A user's taste is the weighted mix of their categories' centroids plus personal noise."""
    return (weights @ centroids + offsets(rng, len(weights), params.user_noise, params.latent_dim)).astype(
        np.float32
    )


def recommender_mix(weights: np.ndarray, params: BehaviourParams) -> np.ndarray:
    """The old recommender's category mix for a user: mostly their tastes, some exploration."""
    n_cat = weights.shape[1]
    return params.explore_share / n_cat + (1.0 - params.explore_share) * weights


def affinity(users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Row-wise true affinity of paired user and item vectors."""
    return np.einsum("ij,ij->i", users, items)
