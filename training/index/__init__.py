"""Approximate nearest-neighbour index over item embeddings."""

from training.index.faiss_index import ItemIndex

__all__ = ["ItemIndex"]
