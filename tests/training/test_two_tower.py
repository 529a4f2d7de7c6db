"""Two-tower model: Lightning smoke run, quality against popularity, cold start, persistence."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from training.config import RetrievalConfig
from training.data.retrieval import RetrievalDataModule
from training.evaluation.baselines import EmbeddingRecommender, PopularityRecommender
from training.evaluation.holdout import items_by_user, target_items
from training.evaluation.metrics import evaluate_topk
from training.models.retrieval.two_tower import TwoTowerModel
from training.retrieval import RetrievalArtifacts, embed_new_items, embed_users, train_retrieval
from training.synthetic import SyntheticWorld
from training.trainer import make_trainer


def test_fast_dev_run(world: SyntheticWorld, small_retrieval_config: RetrievalConfig, tmp_path) -> None:
    datamodule = RetrievalDataModule(world.users, world.items, world.events, small_retrieval_config)
    datamodule.setup("fit")
    model = TwoTowerModel(**datamodule.model_kwargs())  # type: ignore[arg-type]
    trainer = make_trainer(max_epochs=1, fast_dev_run=True, progress=False, root_dir=tmp_path)
    trainer.fit(model, datamodule=datamodule)
    assert torch.isfinite(trainer.callback_metrics["train_loss"])
    assert "val_loss" in trainer.callback_metrics


def test_artifacts_cover_every_user_and_catalogue_item(
    world: SyntheticWorld, trained: RetrievalArtifacts
) -> None:
    assert trained.item_ids == world.items["item_id"].tolist()
    assert trained.user_ids == world.users["user_id"].tolist()
    for matrix in (trained.item_embeddings, trained.user_embeddings):
        assert matrix.dtype == np.float32 and matrix.shape[1] == 32
        np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    assert trained.epochs > 0 and trained.train_seconds > 0
    assert np.isfinite(trained.metrics["val_loss"])


def test_beats_popularity_on_recall_at_20(
    world: SyntheticWorld, holdout: tuple[pd.DataFrame, pd.DataFrame], trained: RetrievalArtifacts
) -> None:
    train, test = holdout
    targets = target_items(train, test)
    seen = items_by_user(train)
    two_tower = EmbeddingRecommender(
        trained.user_ids, trained.user_embeddings, trained.item_ids, trained.item_embeddings, seen
    )
    learned = evaluate_topk(two_tower, targets, ks=(20,))
    popular = evaluate_topk(PopularityRecommender().fit(train), targets, ks=(20,))
    assert learned["n_users"] > 100
    # Planted preference: the category alone is worth far more than global popularity.
    assert learned["recall@20"] > popular["recall@20"] + 0.2, (learned, popular)
    assert learned["ndcg@20"] > popular["ndcg@20"], (learned, popular)
    # The bar is not free: untrained (random) embeddings miss it.
    rng = np.random.default_rng(0)
    random = EmbeddingRecommender(
        trained.user_ids,
        rng.normal(size=trained.user_embeddings.shape),
        trained.item_ids,
        rng.normal(size=trained.item_embeddings.shape),
        seen,
    )
    assert evaluate_topk(random, targets, ks=(20,))["recall@20"] < popular["recall@20"] + 0.2


def _category_centroids(world: SyntheticWorld, trained: RetrievalArtifacts) -> tuple[list[str], np.ndarray]:
    items = world.items.set_index("item_id").loc[trained.item_ids]
    warm = ~items.index.isin(world.cold_items)
    categories = sorted(items["category"].unique())
    centroids = np.stack(
        [trained.item_embeddings[warm & (items["category"] == c).to_numpy()].mean(axis=0) for c in categories]
    )
    return categories, centroids


def test_cold_items_land_near_their_category(world: SyntheticWorld, trained: RetrievalArtifacts) -> None:
    categories, centroids = _category_centroids(world, trained)
    position = {item: i for i, item in enumerate(trained.item_ids)}
    cold = world.items.set_index("item_id").loc[world.cold_items]
    vectors = trained.item_embeddings[[position[i] for i in cold.index]]
    nearest = [categories[int(i)] for i in np.argmax(vectors @ centroids.T, axis=1)]
    assert np.mean(np.array(nearest) == cold["category"].to_numpy()) >= 0.8


def test_embed_new_items_uses_side_features(world: SyntheticWorld, trained: RetrievalArtifacts) -> None:
    categories, centroids = _category_centroids(world, trained)
    new = pd.DataFrame(
        {
            "item_id": ["brand-new-1", "brand-new-2"],
            "category": ["cat03", "cat07"],
            "brand": ["brand03_1", "brand07_0"],
            "price": [np.exp(2.5 + 0.9), np.nan],
            "title": ["smart cat03 thing3", "eco cat07 thing7"],
        }
    )
    vectors = embed_new_items(trained, new)
    assert vectors.shape == (2, 32)
    assert [categories[int(i)] for i in np.argmax(vectors @ centroids.T, axis=1)] == ["cat03", "cat07"]
    # A known item embedded again matches the stored vector; side-only mode ignores its id.
    known = world.items.iloc[[0]]
    np.testing.assert_allclose(embed_new_items(trained, known)[0], trained.item_embeddings[0], atol=1e-5)
    side_only = embed_new_items(trained, known, side_features_only=True)[0]
    assert not np.allclose(side_only, trained.item_embeddings[0])


def test_new_user_gets_a_profile_embedding(world: SyntheticWorld, trained: RetrievalArtifacts) -> None:
    profile = world.users.iloc[[0]].assign(user_id="never-seen")
    vector = embed_users(trained, profile)
    assert vector.shape == (1, 32) and np.isfinite(vector).all()


def test_artifacts_save_load_round_trip(trained: RetrievalArtifacts, world: SyntheticWorld, tmp_path) -> None:
    trained.save(tmp_path / "retrieval")
    loaded = RetrievalArtifacts.load(tmp_path / "retrieval")
    assert loaded.item_ids == trained.item_ids and loaded.user_vocab == trained.user_vocab
    np.testing.assert_array_equal(loaded.item_embeddings, trained.item_embeddings)
    np.testing.assert_allclose(
        embed_new_items(loaded, world.items.head(20)), trained.item_embeddings[:20], atol=1e-5
    )
    assert loaded.epochs == trained.epochs


def test_torch_threads_hold_while_training_and_are_restored(
    world: SyntheticWorld, holdout: tuple[pd.DataFrame, pd.DataFrame], small_retrieval_config: RetrievalConfig
) -> None:
    train, _ = holdout
    config = replace(small_retrieval_config, torch_threads=1, max_epochs=1, min_steps=1, max_steps=3)
    seen: set[int] = set()
    record = torch.nn.modules.module.register_module_forward_hook(
        lambda *_: seen.add(torch.get_num_threads())
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        artifacts = train_retrieval(world.users, world.items, train, config, progress=False)
        after = torch.get_num_threads()
    finally:
        record.remove()
        torch.set_num_threads(before)
    assert seen == {1}, "every forward pass (training and embedding) ran on one thread"
    assert after == 2 and np.isfinite(artifacts.item_embeddings).all()
