"""Batches gathered by tensor indexing instead of per-sample collation.

A DataLoader that builds a 2048-row batch from 2048 ``__getitem__`` calls spends more time in
Python than the model spends computing; indexing whole columns at once keeps 2 CPUs busy on math.
"""

from __future__ import annotations

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler


class ColumnBatchDataset(Dataset[dict[str, torch.Tensor]]):
    """Equal-length column tensors; ``dataset[list_of_rows]`` returns a whole batch."""

    def __init__(self, columns: dict[str, torch.Tensor]) -> None:
        lengths = {len(v) for v in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"columns differ in length: { {k: len(v) for k, v in columns.items()} }")
        self.columns = columns
        self._n = lengths.pop()

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, rows: list[int]) -> dict[str, torch.Tensor]:  # type: ignore[override]
        index = torch.as_tensor(rows, dtype=torch.long)
        return {k: v.index_select(0, index) for k, v in self.columns.items()}

    def subset(self, rows: torch.Tensor) -> ColumnBatchDataset:
        return ColumnBatchDataset({k: v.index_select(0, rows) for k, v in self.columns.items()})


def batch_loader(
    dataset: ColumnBatchDataset, batch_size: int, *, shuffle: bool, drop_last: bool = False, seed: int = 0
) -> DataLoader:
    """Loader yielding dict batches; shuffling is seeded so runs repeat exactly."""
    generator = torch.Generator().manual_seed(seed)
    base = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    # Never drop the only batch of a small dataset: in-batch softmax needs at least one batch.
    drop = drop_last and len(dataset) >= batch_size
    sampler = BatchSampler(base, batch_size=batch_size, drop_last=drop)
    return DataLoader(dataset, sampler=sampler, batch_size=None, num_workers=0)


def seeded_split(n: int, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random train/val row split, reproducible from the seed."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = round(n * val_fraction) if n > 1 else 0
    n_val = min(max(n_val, 1 if val_fraction > 0 and n > 1 else 0), n - 1) if n > 1 else 0
    return perm[n_val:].sort().values, perm[:n_val].sort().values
