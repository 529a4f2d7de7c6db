"""Request and response models of the serving API (validated at the edge)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from contracts.schemas import DEVICES, EVENT_TYPES, SURFACES

Surface = Literal["home_feed", "related_items", "notifications"]
EventType = Literal["impression", "view", "click", "purchase", "skip", "dwell", "share"]
Device = Literal["mobile", "desktop", "tablet"]

assert set(Surface.__args__) == set(SURFACES)  # type: ignore[attr-defined]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]
assert set(Device.__args__) == set(DEVICES)  # type: ignore[attr-defined]

MAX_PAGE_SIZE = 100
MAX_ID_LENGTH = 128
MAX_TITLE_LENGTH = 1_000
MAX_AMOUNT = 1e9  # prices and event values: beyond this a feature overflows rather than informs
# Ids travel into SQLite, Feast, Redis keys and log lines: printable text with no control
# characters and no surrounding white space. Any script is fine (real catalogues and user bases are
# not ASCII, and a user whose id the API refuses could never be served or forgotten).
# Bidirectional overrides are refused too: an id that renders backwards spoofs logs and dashboards.
_BAD = r"\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069"
ID_PATTERN = rf"^[^\s{_BAD}](?:[^{_BAD}]*[^\s{_BAD}])?$"
# Free text (titles, categories, brands, flags): anything printable, no control characters.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# Timestamps a pandas column can hold, with room: outside this a date is a typo or an attack.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)

Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=TEXT_PATTERN)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE_LENGTH, pattern=TEXT_PATTERN)]
Flag = Annotated[str, StringConstraints(max_length=MAX_ID_LENGTH, pattern=TEXT_PATTERN)]  # "" clears it
SessionId = Annotated[str, StringConstraints(max_length=MAX_ID_LENGTH, pattern=rf"(?:{ID_PATTERN})|^$")]
# Numbers and flags are strict: true is not a price, "20" not a page size, "maybe" not in stock.
Amount = Annotated[float, Field(strict=True, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
StrictBool = Annotated[bool, Field(strict=True)]


def _in_range(ts: datetime) -> datetime:
    """``ts`` in UTC if it lies between 1970 and 2200; a ValueError (a 400), never an overflow."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    try:
        utc = ts.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59-23:59 shifted past year 9999
        raise ValueError("timestamp is out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"timestamp must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return utc


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RequestContext(Strict):
    device: Device | None = None
    hour_of_day: int | None = Field(default=None, strict=True, ge=0, le=23)
    session_id: SessionId | None = None


class RecommendRequest(Strict):
    user_id: Id
    surface: Surface = "home_feed"
    page_size: int = Field(default=20, strict=True, ge=1, le=MAX_PAGE_SIZE)
    context: RequestContext = Field(default_factory=RequestContext)


class RelatedRequest(Strict):
    item_id: Id
    user_id: Id | None = None
    page_size: int = Field(default=10, strict=True, ge=1, le=MAX_PAGE_SIZE)


class EventIn(Strict):
    """One behaviour event as a client posts it."""

    event_id: Id | None = None
    user_id: Id
    item_id: Id
    event_type: EventType
    timestamp: datetime | None = None
    surface: Surface | None = None
    position: int | None = Field(default=None, strict=True, ge=0, le=10_000)
    session_id: SessionId | None = None
    device: Device | None = None
    value: Amount | None = None

    @field_validator("timestamp")
    @classmethod
    def _aware_and_not_future(cls, ts: datetime | None) -> datetime | None:
        if ts is None:
            return None
        if ts.tzinfo is None:
            raise ValueError("timestamp must carry a timezone, e.g. 2026-01-01T12:00:00Z")
        ts = _in_range(ts)
        if (ts - datetime.now(UTC)).total_seconds() > 300:
            raise ValueError("timestamp is more than 5 minutes in the future")
        return ts


class EventAck(BaseModel):
    event_id: str
    accepted: bool
    duplicate: bool
    log_offset: int


class RecommendedItem(BaseModel):
    item_id: str
    score: float
    reason: str
    position: int
    is_sponsored: bool
    category: str | None = None
    source: str | None = None
    # The user's item this one is recommended because of ("Because you engaged with ..."), where
    # an item-to-item source proposed it.
    anchor_item_id: str | None = None


class ResponseMetadata(BaseModel):
    request_id: str
    latency_ms: float
    model_version: str
    variant: str = "control"
    candidates_retrieved: int
    candidates_scored: int
    fallback_level: int
    fallback_reason: str | None = None
    # The reason's kind, one of contracts.slis.FALLBACK_REASONS ("none" at full health): the label
    # the fallback counter on /metrics carries, where the free-text reason would be unbounded.
    fallback_kind: str = "none"
    cache_hit: bool = False
    batch_features_age_s: float | None = None  # batch features age, never expire: this says how old
    # Milliseconds this request spent in each funnel stage it ran (contracts.slis.STAGES, the
    # stage label of the per-stage latency histogram), in order; empty for a cached response.
    stage_ms: dict[str, float] = Field(default_factory=dict)


class RecommendResponse(BaseModel):
    items: list[RecommendedItem]
    metadata: ResponseMetadata


class BatchEventResult(BaseModel):
    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None


class BatchAck(BaseModel):
    """Per-event outcome of a batch: valid events are kept even when others are rejected."""

    accepted: int
    duplicates: int
    rejected: int
    results: list[BatchEventResult]


class ItemIn(Strict):
    """A catalogue item as the catalogue service writes it (create, or replace every attribute)."""

    item_id: Id
    category: Label
    title: Title
    brand: Label = "unknown"
    price: Amount | None = None
    in_stock: StrictBool = True
    sponsored: StrictBool = False
    created_at: datetime | None = None

    @field_validator("created_at")
    @classmethod
    def _plausible(cls, ts: datetime | None) -> datetime | None:
        """Naive times are taken as UTC (as before); the range keeps pandas from overflowing."""
        return None if ts is None else _in_range(ts)


ITEM_CHANGES = ("price", "in_stock", "title", "policy_flag")


class ItemUpdate(Strict):
    """A partial change: only the fields given (not null) are changed. ``policy_flag`` removes the
    item from every surface until it is cleared with an empty string."""

    item_id: Id
    price: Amount | None = None
    in_stock: StrictBool | None = None
    title: Title | None = None
    policy_flag: Flag | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ItemUpdate:
        """An update that changes nothing is a client mistake (and would be an empty SQL SET)."""
        if all(getattr(self, name) is None for name in ITEM_CHANGES):
            raise ValueError(f"nothing to change: give at least one of {', '.join(ITEM_CHANGES)}")
        return self


class ItemRef(Strict):
    item_id: Id


class ItemAck(BaseModel):
    item_id: str
    status: Literal["created", "updated", "deleted"]
    indexed: bool


class ForgetRequest(Strict):
    """Erase everything the platform holds about one user (right to erasure)."""

    user_id: Id


class ForgetReceipt(BaseModel):
    """What was erased at once; ``offline_pending`` until the privacy asset has swept the warehouse."""

    request_id: str
    user_id: str
    requested_at: datetime
    new_request: bool  # false: an open request for this user already existed (the same receipt)
    events_erased: int
    online_feature_rows_deleted: int
    cached_responses_dropped: int
    user_controls_erased: int = 0  # blocks, "not interested" marks and an opt-out
    offline_pending: bool
