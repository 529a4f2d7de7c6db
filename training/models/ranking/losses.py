"""The rankers' losses over lists of candidates: ``scores``/``labels``/``valid`` [lists, L].

Listwise is the default because the metric is listwise: NDCG cares which of a request's
candidates come first, not calibrated click probabilities. Its scores are logits of that order,
not click probabilities.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Loss = Literal["listwise", "pointwise"]


def listwise_loss(scores: Tensor, labels: Tensor, valid: Tensor, weights: Tensor | None = None) -> Tensor:
    """Mean over lists with a relevant candidate of -mean_{relevant} log softmax(scores).

    ``weights`` (a sampled row's inverse probability) add log(weight) to the logits: a negative
    drawn for ten counts ten times in the normaliser, so the sampled softmax estimates the full
    list's (the sampled-softmax correction)."""
    logits = scores if weights is None else scores + torch.log(weights.clamp_min(1e-12))
    logits = logits.masked_fill(~valid, float("-inf"))
    log_p = torch.log_softmax(logits, dim=1).masked_fill(~valid, 0.0)
    n_pos = labels.sum(dim=1)
    per_list = -(log_p * labels).sum(dim=1) / n_pos.clamp_min(1.0)
    has = n_pos > 0
    return per_list[has].mean() if bool(has.any()) else scores.sum() * 0.0


def pointwise_loss(scores: Tensor, labels: Tensor, valid: Tensor) -> Tensor:
    """Binary cross-entropy of each valid slot's logit against its label."""
    if not bool(valid.any()):
        return scores.sum() * 0.0
    return F.binary_cross_entropy_with_logits(scores[valid], labels[valid])


def ranking_loss(kind: Loss, scores: Tensor, batch: dict[str, Tensor]) -> Tensor:
    """The loss of ``scores`` [lists, L] on a batch of lists (``y``, ``valid``, optional ``weight``)."""
    labels, valid = batch["y"], batch["valid"]
    if kind == "listwise":
        return listwise_loss(scores, labels, valid, batch.get("weight"))
    if kind == "pointwise":
        return pointwise_loss(scores, labels, valid)
    raise ValueError(f"unknown ranking loss {kind!r}; expected 'listwise' or 'pointwise'")
