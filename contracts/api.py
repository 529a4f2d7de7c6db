"""Request and response models of the serving API (validated at the edge)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.schemas import DEVICES, EVENT_TYPES, SURFACES

Surface = Literal["home_feed", "related_items", "notifications"]
EventType = Literal["impression", "view", "click", "purchase", "skip", "dwell", "share"]
Device = Literal["mobile", "desktop", "tablet"]

assert set(Surface.__args__) == set(SURFACES)  # type: ignore[attr-defined]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]
assert set(Device.__args__) == set(DEVICES)  # type: ignore[attr-defined]

MAX_PAGE_SIZE = 100
MAX_ID_LENGTH = 128


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RequestContext(Strict):
    device: Device | None = None
    hour_of_day: int | None = Field(default=None, ge=0, le=23)
    session_id: str | None = Field(default=None, max_length=MAX_ID_LENGTH)


class RecommendRequest(Strict):
    user_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    surface: Surface = "home_feed"
    page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)
    context: RequestContext = Field(default_factory=RequestContext)


class RelatedRequest(Strict):
    item_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    user_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    page_size: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)


class EventIn(Strict):
    """One behaviour event as a client posts it."""

    event_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    user_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    item_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    event_type: EventType
    timestamp: datetime | None = None
    surface: Surface | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)
    session_id: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    device: Device | None = None
    value: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("timestamp")
    @classmethod
    def _aware_and_not_future(cls, ts: datetime | None) -> datetime | None:
        if ts is None:
            return None
        if ts.tzinfo is None:
            raise ValueError("timestamp must carry a timezone, e.g. 2026-01-01T12:00:00Z")
        ts = ts.astimezone(UTC)
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


class ResponseMetadata(BaseModel):
    request_id: str
    latency_ms: float
    model_version: str
    variant: str = "control"
    candidates_retrieved: int
    candidates_scored: int
    fallback_level: int
    fallback_reason: str | None = None
    cache_hit: bool = False
    batch_features_age_s: float | None = None  # batch features age, never expire: this says how old


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

    item_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    category: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    title: str = Field(min_length=1, max_length=1_000)
    brand: str = Field(default="unknown", min_length=1, max_length=MAX_ID_LENGTH)
    price: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    in_stock: bool = True
    sponsored: bool = False
    created_at: datetime | None = None


class ItemUpdate(Strict):
    """A partial change: only the fields given (not null) are changed. ``policy_flag`` removes the
    item from every surface until it is cleared with an empty string."""

    item_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    price: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    in_stock: bool | None = None
    title: str | None = Field(default=None, min_length=1, max_length=1_000)
    policy_flag: str | None = Field(default=None, max_length=MAX_ID_LENGTH)


class ItemRef(Strict):
    item_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)


class ItemAck(BaseModel):
    item_id: str
    status: Literal["created", "updated", "deleted"]
    indexed: bool


class ForgetRequest(Strict):
    """Erase everything the platform holds about one user (right to erasure)."""

    user_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)


class ForgetReceipt(BaseModel):
    """What was erased at once; ``offline_pending`` until the privacy asset has swept the warehouse."""

    request_id: str
    user_id: str
    requested_at: datetime
    new_request: bool  # false: an open request for this user already existed (the same receipt)
    events_erased: int
    online_feature_rows_deleted: int
    cached_responses_dropped: int
    offline_pending: bool
