"""Recommenders over a user x item implicit-feedback matrix: one small interface, one module each."""

from training.recommenders.als import ALSRecommender
from training.recommenders.base import Recommender, top_k
from training.recommenders.ease import EASERecommender
from training.recommenders.itemknn import ItemKNNRecommender
from training.recommenders.popularity import PopularityRecommender

BASELINES: dict[str, type] = {
    "popularity": PopularityRecommender,
    "itemknn": ItemKNNRecommender,
    "ease": EASERecommender,
    "als": ALSRecommender,
}

__all__ = [
    "BASELINES",
    "ALSRecommender",
    "EASERecommender",
    "ItemKNNRecommender",
    "PopularityRecommender",
    "Recommender",
    "top_k",
]
