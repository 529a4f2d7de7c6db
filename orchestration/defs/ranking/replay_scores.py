"""Scoring the replayed funnel: its rankers against its own retrieval order, user by user.

The gate (``serving.promotion.ranker_verdict``) needs more than two means: whether the ranker's
lead over retrieval order is larger than the noise of a few hundred held-out users. So besides
each order's metrics, every user's NDCG@10 difference (ranked minus retrieval order, same
candidates) is kept for a paired bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orchestration.defs.common.config import RETRIEVAL
from orchestration.defs.ranking.replay import RANKED, RETRIEVAL_ORDER, OfflineFunnel
from training.evaluation.metrics import evaluate_topk, ndcg_at_k
from training.recommenders.threads import torch_threads

GAIN_K = 10  # the per-user gains are of NDCG@10, the gate's metric
RANKER_GAINS = "ranker_gain_per_user"  # the evaluation report's key for ``ReplayScores.gains``

Recommend = Callable[[list[str], int], list[list[str]]]


@dataclass(frozen=True)
class ReplayScores:
    models: dict[str, dict[str, float]]  # model -> metrics over the held-out users
    gains: list[float]  # per held-out user (sorted ids): NDCG@10 ranked minus retrieval order


def _recorded(recommend: Recommend, pages: dict[str, list[str]]) -> Recommend:
    def run(batch: list[str], n: int) -> list[list[str]]:
        lists = recommend(batch, n)
        pages.update(zip(batch, (page[:GAIN_K] for page in lists), strict=True))
        return lists

    return run


def evaluate_replay(funnel: OfflineFunnel, test: dict[str, set[str]]) -> ReplayScores:
    """The funnel with its rankers (``ranked``) against its own retrieval order and popularity, on
    the same candidates; each user's ranked-minus-retrieval-order NDCG@10."""
    seen = funnel.seen

    def popularity(batch: list[str], n: int) -> list[list[str]]:
        return [
            [i for i in funnel.popular[: n + len(seen.get(u, ()))] if i not in seen.get(u, ())][:n]
            for u in batch
        ]

    pages: dict[str, dict[str, list[str]]] = {RANKED: {}, RETRIEVAL_ORDER: {}}
    models: dict[str, Recommend] = {
        RANKED: _recorded(lambda batch, n: [funnel.rank(u, n) for u in batch], pages[RANKED]),
        RETRIEVAL_ORDER: _recorded(
            lambda batch, n: [funnel.rank(u, n, use_ranker=False) for u in batch], pages[RETRIEVAL_ORDER]
        ),
        "popularity": popularity,
    }
    with torch_threads(1):  # per-user batches are small: extra threads only contend
        results = {name: evaluate_topk(fn, test, ks=RETRIEVAL.ks) for name, fn in models.items()}
    gains = [
        ndcg_at_k(pages[RANKED].get(u, []), test[u], GAIN_K)
        - ndcg_at_k(pages[RETRIEVAL_ORDER].get(u, []), test[u], GAIN_K)
        for u in sorted(test)
    ]
    return ReplayScores(results, gains)
