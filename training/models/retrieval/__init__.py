"""Candidate generation models."""

from training.models.retrieval.two_tower import TwoTowerModel

__all__ = ["TwoTowerModel"]
