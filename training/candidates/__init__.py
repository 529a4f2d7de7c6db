"""Retrieval sources beside the two-tower model: content, co-interaction, trending, editorial.

Each module builds its artefact in batch from plain DataFrames and loads it as a cheap lookup for
serving (a dict read or one small exact FAISS search per request).
"""
