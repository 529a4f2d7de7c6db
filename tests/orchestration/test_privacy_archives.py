"""Archived model versions are scrubbed too: a forgotten user leaves no history or vector there."""

from __future__ import annotations

import json
from pathlib import Path

import bentoml
import numpy as np
import pandas as pd
from registry_helpers import temporary_bentoml_home

from orchestration.defs.privacy.scrub import scrub_home


def test_a_forgotten_user_is_scrubbed_from_an_exported_bentomodel(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive = home / "registry" / "archive" / "v1.bentomodel"
    archive.parent.mkdir(parents=True)
    with temporary_bentoml_home(tmp_path / "bentoml"):
        with bentoml.models.create("reco_bundle:v1") as model:
            root = Path(model.path)
            pd.DataFrame({"user_id": ["gone", "kept", "gone"], "item_id": ["a", "b", "c"]}).to_parquet(
                root / "history.parquet"
            )
            (root / "retrieval").mkdir()
            (root / "retrieval" / "user_ids.json").write_text(json.dumps(["gone", "kept"]))
            np.save(root / "retrieval" / "user_embeddings.npy", np.array([[1.0, 0.0], [0.0, 1.0]]))
        bentoml.models.export_model("reco_bundle:v1", str(archive))
        bentoml.models.delete("reco_bundle:v1")

        counts = scrub_home(home, {"gone"})

        assert counts == {"archives/registry": 3}, counts  # two history rows and one user vector
        restored = bentoml.models.import_model(str(archive))  # still a valid BentoML archive
        path = Path(restored.path)
        assert pd.read_parquet(path / "history.parquet")["user_id"].tolist() == ["kept"]
        assert json.loads((path / "retrieval" / "user_ids.json").read_text()) == ["kept"]
        np.testing.assert_array_equal(np.load(path / "retrieval" / "user_embeddings.npy"), [[0.0, 1.0]])
    assert scrub_home(home, {"gone"}) == {}, "a second sweep finds nothing left"
