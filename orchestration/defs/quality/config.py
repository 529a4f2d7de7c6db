"""Every data-quality threshold in one typed place, so a tolerance is changed once and documented."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field


class QualityConfig(BaseModel):
    """Thresholds of the blocking suites; defaults are strict because a failure only stops a run.

    ``*_mostly`` values are Great Expectations' ``mostly``: the share of rows that must pass. At 1.0
    a single bad row fails the check; below 1.0 the bad rows are tolerated, reported and used.
    """

    # Events
    future_tolerance: timedelta = timedelta(minutes=5)  # clock skew allowed on event timestamps
    max_position: int = 10_000
    duplicate_key_max_share: float = Field(0.001, ge=0, le=1)  # rows in (user,item,type,ts) dup groups
    row_mostly: float = Field(1.0, ge=0, le=1)  # nulls, types, future, unknown item, bad type/surface
    # Volume: the last 24 h (ending at the newest event) against the mean of the trailing 24 h windows.
    volume_trailing_days: int = Field(7, ge=1)
    volume_min_trailing_days: int = Field(3, ge=1)  # fewer complete windows: volume is not judged
    volume_min_ratio: float = 0.25
    volume_max_ratio: float = 4.0
    # Catalogue
    max_price: float = 1_000_000.0
    # Features
    max_rate: float = 1.0  # ctr and conversion are shares
    # Training set. Observed: demo worlds ~0.07 (impressions are negatives), sampled negatives 0.2,
    # MovieLens 100K 0.51 after the Feast join; all-positive or all-negative means labelling broke.
    positive_rate_min: float = 0.002
    positive_rate_max: float = 0.9
    ranker_input_abs_max: float = 1e6  # catches inf (and absurd values) in RANKER_INPUTS
    min_training_rows: int = 1
    # Reports
    report_samples: int = 5  # sample values kept per failed expectation in the report


QUALITY = QualityConfig()
