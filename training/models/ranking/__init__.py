"""Ranking models."""

from training.models.ranking.ranker import RankerModel, RankerNet

__all__ = ["RankerModel", "RankerNet"]
