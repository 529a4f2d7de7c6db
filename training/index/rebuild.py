"""The full index rebuild: re-embed today's catalogue with a trained item tower, index it afresh.

Between daily trainings the served index only grows (API-created items are added one by one) and
tombstones pile up for deleted ones. The rebuild, run every few hours, embeds the whole current
catalogue again (items the model never saw from their side features alone, as on the day they
were created) and builds a clean index of the right kind for its size.
"""

from __future__ import annotations

import pandas as pd

from training.config import IndexConfig
from training.index.faiss_index import ItemIndex
from training.retrieval import RetrievalArtifacts, embed_new_items


def rebuild_item_index(
    artifacts: RetrievalArtifacts, catalogue: pd.DataFrame, config: IndexConfig | None = None
) -> ItemIndex:
    """A fresh index over every catalogue row (deleted items are simply not in ``catalogue``)."""
    items = catalogue.drop_duplicates("item_id", keep="last").reset_index(drop=True)
    vectors = embed_new_items(artifacts, items)
    return ItemIndex.build(items["item_id"].astype(str).tolist(), vectors, config or IndexConfig())
