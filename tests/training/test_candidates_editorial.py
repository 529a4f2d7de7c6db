"""Editorial config: strict validation with clear errors; pins by surface and window; new arrivals."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from training.candidates.editorial import (
    EDITORIAL_FILE,
    EditorialConfigError,
    EditorialLists,
    editorial_lists,
    load_editorial,
)

NOW = datetime(2026, 3, 10, tzinfo=UTC)
ITEMS = pd.DataFrame(
    {
        "item_id": ["a", "b", "c", "d", "e"],
        "category": ["shoes", "shoes", "lamps", "lamps", "shoes"],
        "created_at": pd.to_datetime(
            [
                "2026-03-09 00:00",
                "2026-03-08 00:00",
                "2026-03-07 00:00",
                "2026-01-01 00:00",
                "2026-03-09 12:00",
            ],
            utc=True,
        ),
        "in_stock": [True, True, True, True, False],
        "sponsored": [False, True, False, False, False],
    }
)


def _write(tmp_path, text: str):
    path = tmp_path / "editorial.yaml"
    path.write_text(text)
    return path


def test_the_shipped_file_is_valid() -> None:
    config = load_editorial(EDITORIAL_FILE)
    assert config.new_arrivals.max_age_days > 0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("pins:\n  - {name: x, items: [a], surfaces: [homefeed]}\n", "pins.0: Value error, unknown surfaces"),
        (
            "pins:\n  - {name: x, start: 2026-03-02T00:00:00Z, end: 2026-03-01T00:00:00Z}\n",
            "is not after start",
        ),
        ("pins:\n  - {name: x}\n  - {name: x}\n", "repeated: ['x']"),
        ("new_arrivals: {max_age_dayz: 3}\n", "new_arrivals.max_age_dayz: Extra inputs are not permitted"),
        ("new_arrivals: {size: -1}\n", "new_arrivals.size"),
        ("pins:\n  - {name: x, start: 2026-03-02T00:00:00}\n", "need a time zone"),
        ("pins: [unclosed\n", "cannot read"),
    ],
)
def test_invalid_files_fail_with_the_field_at_fault(tmp_path, text: str, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(EditorialConfigError) as error:
        load_editorial(path)
    assert fragment in str(error.value) and str(path) in str(error.value)


def test_pins_follow_surface_and_window_and_drop_unservable_items(tmp_path) -> None:
    config = load_editorial(
        _write(
            tmp_path,
            """
pins:
  - {name: sale, items: [c, gone, e, a], surfaces: [home_feed], start: 2026-03-01T00:00:00Z,
     end: 2026-03-20T00:00:00Z}
  - {name: always, items: [b, c]}
  - {name: later, items: [d], start: 2026-04-01T00:00:00Z}
""",
        )
    )
    lists, missing = editorial_lists(config, ITEMS, NOW)
    assert missing == ["gone"]
    assert lists.pinned("home_feed", NOW) == ["c", "a", "b"]  # e is out of stock; file order kept
    assert lists.pinned("notifications", NOW) == ["b", "c"]
    assert lists.pinned("home_feed", datetime(2026, 4, 2, tzinfo=UTC)) == ["b", "c", "d"]


def test_new_arrivals_newest_first_by_rule(tmp_path) -> None:
    config = load_editorial(_write(tmp_path, "new_arrivals: {max_age_days: 5, include_sponsored: false}\n"))
    lists, _ = editorial_lists(config, ITEMS, NOW)
    assert lists.new_overall == ["a", "c"]  # d too old, e out of stock, b sponsored
    assert lists.new_arrivals(5, categories=["lamps"]) == ["c", "a"]
    assert EditorialLists.load(lists.save(tmp_path)) == lists
