"""Protocol splits: disjoint, the promised proportions, time order, and validation inside train."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluation.interactions import Interactions, restrict
from training.evaluation.protocols import PROTOCOLS, TIME_ORDERED, replays, split


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_parts_are_disjoint_and_validation_stays_inside_train(blocks: Interactions, protocol: str) -> None:
    s = split(blocks, protocol, seed=3)
    assert not (s.train & s.test).any()
    assert (s.train | s.test).all()
    assert not (s.val_train & s.val).any()
    assert np.array_equal(s.val_train | s.val, s.train)
    assert not (s.val & s.test).any() and not (s.val_train & s.test).any()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_same_seed_same_split_other_seed_other_split(blocks: Interactions, protocol: str) -> None:
    a, b = split(blocks, protocol, seed=1), split(blocks, protocol, seed=1)
    assert np.array_equal(a.test, b.test) and np.array_equal(a.val, b.val)
    if protocol not in TIME_ORDERED:  # fixed by time; the seed only breaks ties
        assert not np.array_equal(a.test, split(blocks, protocol, seed=2).test)


def test_stratified_holds_out_a_quarter_of_every_user(blocks: Interactions) -> None:
    s = split(blocks, "stratified", seed=0)
    n = np.bincount(blocks.users, minlength=blocks.n_users)
    held = np.bincount(blocks.users[s.test], minlength=blocks.n_users)
    assert np.array_equal(held, np.minimum(np.rint(n * 0.25), n - 1))
    n_train = np.bincount(blocks.users[s.train], minlength=blocks.n_users)
    val = np.bincount(blocks.users[s.val], minlength=blocks.n_users)
    assert np.array_equal(val, np.minimum(np.rint(n_train * 0.25), np.maximum(n_train - 1, 0)))


def test_random_holds_out_a_fifth_of_all_interactions(blocks: Interactions) -> None:
    s = split(blocks, "random", seed=0)
    assert s.test.sum() == round(len(blocks) * 0.2)
    assert s.val.sum() == round(s.train.sum() * 0.2)


def test_temporal_test_is_each_users_latest(blocks: Interactions) -> None:
    s = split(blocks, "temporal", seed=0)
    for user in range(blocks.n_users):
        mine = blocks.users == user
        train_ts, test_ts = blocks.timestamp[mine & s.train], blocks.timestamp[mine & s.test]
        if len(test_ts):
            assert train_ts.max() < test_ts.min()
        fit_ts, val_ts = blocks.timestamp[mine & s.val_train], blocks.timestamp[mine & s.val]
        if len(val_ts):
            assert fit_ts.max() < val_ts.min()
        n = mine.sum()
        assert len(test_ts) == min(round(n * 0.2), n - 1)


def test_restrict_keeps_the_most_popular_items_and_relabels(blocks: Interactions) -> None:
    small = restrict(blocks, max_users=50, max_items=20, seed=0)
    assert small.n_items <= 20 and small.n_users <= 50
    assert small.users.max() == small.n_users - 1 and small.items.max() == small.n_items - 1
    counts = np.bincount(blocks.items, minlength=blocks.n_items)
    kept = {int(i[1:]) for i in small.item_ids}
    assert min(counts[list(kept)]) >= np.sort(counts)[-20]
    with pytest.raises(ValueError):
        split(blocks, "leave_one_out")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_replays_stay_inside_train(blocks: Interactions, protocol: str) -> None:
    s = split(blocks, protocol, seed=0)
    folds = replays(s, 2, seed=0)
    assert len(folds) == 2
    for part, held in folds:
        assert held.any() and part.any() and not (part & held).any()
        assert not ((part | held) & s.test).any()
    if protocol == "temporal":  # each replay is an earlier cut: its held-out part precedes val
        (_, first), (second_part, second) = folds
        assert not (first & s.val).any() and not (second & first).any()
        assert not (second_part & first).any()


def test_label_window_holds_out_the_latest_fifth_for_everyone(blocks: Interactions) -> None:
    s = split(blocks, "label_window", seed=0)
    assert s.test.sum() == round(len(blocks) * 0.2)
    assert blocks.timestamp[s.test].min() >= blocks.timestamp[s.train].max()
    assert blocks.timestamp[s.val].min() >= blocks.timestamp[s.val_train].max()
