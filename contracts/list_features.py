"""Ranker inputs relative to the request's own candidate list: each score's z-score and rank in it.

Raw source scores drift between the models a ranker learns from (fitted at the label cut, on
less history) and the ones it is served with (refitted on everything): EASE weights, kNN
similarities and ALS preferences all grow with the data. Where an item stands among the other
candidates of the same request does not drift, so the ranker gets both.

They are computed over the rows of the list as the ranker sees it: a request's candidates in
serving, the sampled list (every positive, uniform negatives) in training. Weighting a sampled
row by its inverse probability would estimate the full list's statistics instead, and measured
worse (MovieLens 100K stratified, served candidates of 943 users, bags of 3 trained on the
preference lists: NDCG@10 0.464 weighted against 0.475 as sampled).
"""

from __future__ import annotations

from typing import Final

import numpy as np

LIST_SCORES: Final = ("retrieval_score", "item_knn_score", "als_score", "ease_score")
LIST_INPUTS: Final = tuple(f"{name}_{kind}" for name in LIST_SCORES for kind in ("list_z", "list_log_rank"))


def list_relative(scores: dict[str, np.ndarray], groups: np.ndarray | None = None) -> list[np.ndarray]:
    """``LIST_INPUTS`` columns for rows grouped into lists (``groups``: list codes, None = one list).

    ``list_z`` is the z-score within the list (0 where the list's scores are constant);
    ``list_log_rank`` is log1p of the number of candidates scoring strictly higher (0 = best)."""
    n = len(next(iter(scores.values()))) if scores else 0
    codes = np.zeros(n, np.int64) if groups is None else np.asarray(groups, np.int64)
    w = np.ones(n)  # every row counts once (weighting by inverse sampling probability measured worse)
    columns: list[np.ndarray] = []
    for name in LIST_SCORES:
        s = np.asarray(scores[name], np.float64)
        columns += [_weighted_z(s, codes, w), np.log1p(_weighted_rank(s, codes, w))]
    return columns


def _weighted_z(s: np.ndarray, codes: np.ndarray, w: np.ndarray) -> np.ndarray:
    if not len(s):
        return s
    total = np.bincount(codes, weights=w)
    mean = np.bincount(codes, weights=w * s) / np.maximum(total, 1e-12)
    centred = s - mean[codes]
    var = np.bincount(codes, weights=w * centred**2) / np.maximum(total, 1e-12)
    std = np.sqrt(var)[codes]
    return np.where(std > 1e-9, centred / np.maximum(std, 1e-9), 0.0)


def _weighted_rank(s: np.ndarray, codes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per row, the summed weight of rows of its list with a strictly higher score."""
    if not len(s):
        return s
    order = np.lexsort((-s, codes))
    sc, cc, ws = s[order], codes[order], w[order]
    new_list = np.r_[True, cc[1:] != cc[:-1]]
    cumulative = np.cumsum(ws)
    list_start = np.maximum.accumulate(np.where(new_list, np.arange(len(s)), 0))
    before = cumulative - ws - (cumulative[list_start] - ws[list_start])  # weight above, within list
    new_run = new_list | np.r_[True, sc[1:] != sc[:-1]]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(s)), 0))
    ranked = np.empty(len(s))
    ranked[order] = before[run_start]  # ties share the weight strictly above them
    return ranked
