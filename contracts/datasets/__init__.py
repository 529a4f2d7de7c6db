"""Real-data adapters: read a dataset from a path the user gives (never download, never copy it)."""

from contracts.datasets.errors import DatasetError
from contracts.datasets.interactions import load_interactions
from contracts.datasets.movielens import load_movielens

__all__ = ["DatasetError", "load_interactions", "load_movielens"]
