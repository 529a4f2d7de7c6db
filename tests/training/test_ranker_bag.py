"""The served full ranker is a bag of seeds: one holdout, an average that scripts and serves."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from contracts.features import RANKER_INPUTS
from training.config import RankerConfig
from training.data.ranking import RankingDataModule
from training.export import export_ranker, load_ranker
from training.models.ranking.ranker import RankerBag, RankerNet
from training.ranking import train_ranker_bag


@pytest.fixture(scope="module")
def bag_config(small_ranker_config: RankerConfig) -> RankerConfig:
    return replace(small_ranker_config, bag_size=2)


def test_bag_members_differ_share_the_holdout_and_average(
    ranking_frame: pd.DataFrame, bag_config: RankerConfig, tmp_path
) -> None:
    bag = train_ranker_bag(ranking_frame, bag_config, progress=False)
    assert len(bag.model.members) == 2 and len(bag.member_auc) == 2
    assert bag.val_auc > 0.7 and bag.val_auc >= min(bag.member_auc)
    first, second = (m.base[0].weight for m in bag.model.members)
    assert not torch.equal(first, second), "members must start from different seeds"

    rows = torch.from_numpy(ranking_frame[list(RANKER_INPUTS)].head(64).to_numpy(np.float32))
    surfaces = torch.zeros(64, dtype=torch.long)
    with torch.inference_mode():
        expected = torch.stack([m(rows, surfaces) for m in bag.model.members]).mean(dim=0)
        np.testing.assert_allclose(bag.model(rows, surfaces).numpy(), expected.numpy(), rtol=1e-6)
    export_ranker(bag.model, tmp_path, "v-bag")
    served = load_ranker(tmp_path, device="cpu").score(rows.numpy(), "home_feed")
    np.testing.assert_allclose(served, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_holdout_follows_split_seed_not_member_seed(ranking_frame: pd.DataFrame) -> None:
    def holdout(config: RankerConfig) -> torch.Tensor:
        datamodule = RankingDataModule(ranking_frame, config)
        datamodule.setup("fit")
        return datamodule.val_rows()["x"]

    base = RankerConfig()
    assert torch.equal(holdout(base), holdout(replace(base, seed=base.seed + 1, split_seed=base.seed)))
    assert not torch.equal(holdout(base), holdout(replace(base, seed=base.seed + 1)))


def test_an_empty_bag_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RankerBag([])
    single = RankerBag([RankerNet(len(RANKER_INPUTS), 3, (8,), 4, 0.0)]).eval()
    x = torch.randn(5, len(RANKER_INPUTS))
    s = torch.zeros(5, dtype=torch.long)
    torch.testing.assert_close(single(x, s), single.members[0](x, s))
