"""Feature windows and smoothing constants: one place for the numbers batch features use."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class FeatureWindows:
    short: timedelta = timedelta(days=7)
    long: timedelta = timedelta(days=30)
    trending: timedelta = timedelta(days=1)
    top_categories: int = 5
    # Quantiles of engaged-item prices that bound the user's usual price band (price preference).
    price_band: tuple[float, float] = (0.25, 0.75)
    # Beta-prior strength for rates: an item with few impressions stays near the global rate.
    rate_prior_weight: float = 20.0


WINDOWS = FeatureWindows()
