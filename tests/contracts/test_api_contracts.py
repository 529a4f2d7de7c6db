"""The API contracts refuse hostile values with a ValidationError (BentoML's 400 naming the field),
never an exception of another kind that would surface as a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from contracts.api import EventIn, ForgetRequest, ItemIn, ItemUpdate, RecommendRequest, RelatedRequest


def _fields(error: ValidationError) -> set[str]:
    return {str(part) for e in error.errors() for part in e["loc"]}


def test_an_update_must_change_something() -> None:
    with pytest.raises(ValidationError, match="nothing to change"):
        ItemUpdate.model_validate({"item_id": "i1"})
    # BentoML hands every field over, the absent ones as None: still nothing to change.
    with pytest.raises(ValidationError, match="nothing to change"):
        ItemUpdate.model_validate({"item_id": "i1", "price": None, "in_stock": None, "title": None})
    assert ItemUpdate.model_validate({"item_id": "i1", "in_stock": False}).in_stock is False
    assert ItemUpdate.model_validate({"item_id": "i1", "policy_flag": ""}).policy_flag == "", "clears a flag"


@pytest.mark.parametrize(
    "user_id",
    [
        "u0017188", "catalogue-user", "flood-0", "3f2b7c1e-9d4a-4c8e-b1f0-2a6d5e7c8b90", "a@b.c", "x:y/z",
        "caf\u00e9", "\u7528\u6237-42", "first last",  # real ids are not always ASCII or one word
    ],
)  # fmt: skip
def test_ordinary_ids_pass(user_id: str) -> None:
    assert RecommendRequest(user_id=user_id).user_id == user_id


@pytest.mark.parametrize(
    "user_id",
    ["u\x001", "u\n1", "u\t1", "\u202eevil", "\u200fx", "\ud800", "u" * 129, "", "   "],
)
@pytest.mark.parametrize("model", [RecommendRequest, ForgetRequest])
def test_hostile_ids_are_refused(model: type[BaseModel], user_id: str) -> None:
    with pytest.raises(ValidationError) as error:
        model.model_validate({"user_id": user_id})
    assert _fields(error.value) == {"user_id"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"item_id": "i\x00"}, "item_id"),
        ({"item_id": "i1", "user_id": "u\u202e1"}, "user_id"),
    ],
)
def test_related_ids_are_checked_too(body: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        RelatedRequest.model_validate(body)
    assert field in _fields(error.value)


def _event(**changes: object) -> dict:
    return {"user_id": "u1", "item_id": "i1", "event_type": "click", **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timestamp": "9999-12-31T23:59:59-23:59"}, "timestamp"),  # overflows when moved to UTC
        ({"timestamp": "0001-01-01T00:00:00+14:00"}, "timestamp"),  # underflows
        ({"timestamp": "1969-12-31T23:59:59Z"}, "timestamp"),
        ({"value": 1e300}, "value"),
        ({"session_id": "s\x00"}, "session_id"),
        ({"event_id": "e" * 200}, "event_id"),
    ],
)
def test_hostile_event_values_are_refused(changes: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        EventIn.model_validate(_event(**changes))
    assert _fields(error.value) == {field}


def test_an_event_in_range_passes() -> None:
    event = EventIn.model_validate(_event(timestamp="2025-01-01T12:00:00+02:00", value=3.5, session_id=""))
    assert event.timestamp == datetime(2025, 1, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "c\x00"}, "category"),
        ({"brand": "b\x1b[31m"}, "brand"),
        ({"title": "t" * 1001}, "title"),
        ({"title": "line\nbreak"}, "title"),
        ({"price": 1e12}, "price"),
        ({"created_at": "9999-12-31T00:00:00Z"}, "created_at"),  # pandas cannot hold it
    ],
)
def test_hostile_item_values_are_refused(changes: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        ItemIn.model_validate({"item_id": "i1", "category": "c", "title": "t", **changes})
    assert _fields(error.value) == {field}


def test_item_text_may_be_any_printable_unicode_and_naive_times_are_utc() -> None:
    item = ItemIn.model_validate(
        {
            "item_id": "i1",
            "category": "Home & Garden",
            "title": "Café ☕ 東京",
            "created_at": "2024-05-01T08:00:00",
        }
    )
    assert item.title == "Café ☕ 東京" and item.created_at == datetime(2024, 5, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"user_id": "\\ud800"}',  # a lone surrogate escape
        b'{"user_id": "u1", "context": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",  # deeper than the parser goes
        b"\xff\xfe",  # not UTF-8
        b'{"user_id": "u1",',
    ],
)
def test_json_the_parser_refuses_is_a_validation_error(raw: bytes) -> None:
    with pytest.raises(ValidationError, match="Invalid JSON"):
        RecommendRequest.model_validate_json(raw)


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (ItemUpdate, {"item_id": "i1", "price": True}, "price"),
        (ItemUpdate, {"item_id": "i1", "in_stock": 1}, "in_stock"),
        (ItemIn, {"item_id": "i1", "category": "c", "title": "t", "sponsored": "yes"}, "sponsored"),
        (RecommendRequest, {"user_id": "u1", "page_size": "20"}, "page_size"),
        (RecommendRequest, {"user_id": "u1", "page_size": True}, "page_size"),
        (RecommendRequest, {"user_id": "u1", "context": {"hour_of_day": 3.5}}, "hour_of_day"),
        (EventIn, _event(position="1"), "position"),
    ],
)
def test_numbers_and_flags_are_not_coerced(model: type[BaseModel], body: dict, field: str) -> None:
    """A bool is not a price and a string not a page size: wrong types are refused, not guessed."""
    with pytest.raises(ValidationError) as error:
        model.model_validate(body)
    assert field in _fields(error.value)
    assert ItemUpdate.model_validate({"item_id": "i1", "price": 3}).price == 3.0, "an int is a number"
