"""The trust weight an event carries into the models and lists it feeds.

The trust assets score each user in [0, 1] and turn the score into a weight; consumers receive
events with a ``trust_weight`` column and multiply whatever they count by it. Events are never
deleted for low trust: a frame without the column (trust never computed, a test, an import) counts
every event fully, exactly as before trust existed.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

TRUST_WEIGHT: Final = "trust_weight"


def event_trust(frame: pd.DataFrame) -> np.ndarray:
    """Each row's trust weight (1.0 where the frame carries none)."""
    if TRUST_WEIGHT not in frame:
        return np.ones(len(frame), dtype=np.float64)
    return frame[TRUST_WEIGHT].fillna(1.0).to_numpy(np.float64)
