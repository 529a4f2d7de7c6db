"""Editorial and new-arrival lists: the curated retrieval source, driven by ``config/editorial.yaml``.

The business team edits a YAML file, not code. It is validated strictly (unknown keys, unknown
surfaces, empty or inverted windows are errors naming the file and the field), because a silently
ignored typo means a campaign that never shows. The build resolves the rules against the current
catalogue; pins keep their time windows so serving starts and ends a campaign on time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.schemas import SURFACES
from contracts.settings import REPO_ROOT

EDITORIAL_FILE = REPO_ROOT / "config" / "editorial.yaml"
LISTS_FILE = "editorial.json"


class EditorialConfigError(ValueError):
    """The editorial file is unreadable or invalid; the message names the file and fields."""


class Pin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    items: list[str] = Field(default_factory=list)
    surfaces: list[str] = Field(default_factory=list)  # empty: every surface
    start: datetime | None = None
    end: datetime | None = None

    @model_validator(mode="after")
    def _check(self) -> Pin:
        unknown = sorted(set(self.surfaces) - set(SURFACES))
        if unknown:
            raise ValueError(f"unknown surfaces {unknown}; known: {list(SURFACES)}")
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("start and end need a time zone (e.g. 2026-12-01T00:00:00Z)")
        if self.start and self.end and self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self

    def live(self, surface: str, now: datetime) -> bool:
        in_window = (self.start is None or self.start <= now) and (self.end is None or now < self.end)
        return in_window and (not self.surfaces or surface in self.surfaces)


class NewArrivalRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age_days: float = Field(default=14, gt=0)
    size: int = Field(default=100, ge=0)
    per_category: int = Field(default=20, ge=0)
    in_stock_only: bool = True
    include_sponsored: bool = True


class EditorialConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pins: list[Pin] = Field(default_factory=list)
    new_arrivals: NewArrivalRules = Field(default_factory=NewArrivalRules)

    @model_validator(mode="after")
    def _unique_names(self) -> EditorialConfig:
        names = [p.name for p in self.pins]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"pin names must be unique, repeated: {duplicates}")
        return self


def load_editorial(path: str | Path = EDITORIAL_FILE) -> EditorialConfig:
    """Parse and validate the editorial file; :class:`EditorialConfigError` says what is wrong."""
    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise EditorialConfigError(f"{source}: cannot read editorial config: {error}") from error
    try:
        return EditorialConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()
        )
        raise EditorialConfigError(f"{source}: invalid editorial config: {problems}") from error


@dataclass(frozen=True)
class EditorialLists:
    """Resolved lists: pins (with their windows) and new arrivals, overall and per category."""

    pins: list[Pin]
    new_overall: list[str]
    new_by_category: dict[str, list[str]] = field(default_factory=dict)

    def pinned(self, surface: str, now: datetime | None = None) -> list[str]:
        """Items of every pin live on ``surface`` at ``now``, in file order, deduplicated."""
        at = now or datetime.now(UTC)
        return list(dict.fromkeys(i for p in self.pins if p.live(surface, at) for i in p.items))

    def new_arrivals(self, k: int, categories: Sequence[str] = ()) -> list[str]:
        """Newest items of the given categories first (in the order given), then overall."""
        out = dict.fromkeys(i for c in dict.fromkeys(categories) for i in self.new_by_category.get(c, []))
        out.update((i, None) for i in self.new_overall if i not in out)
        return list(out)[: max(k, 0)]

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        data = {
            "pins": [p.model_dump(mode="json") for p in self.pins],
            "new_overall": self.new_overall,
            "new_by_category": self.new_by_category,
        }
        (out / LISTS_FILE).write_text(json.dumps(data))
        return out / LISTS_FILE

    @classmethod
    def load(cls, path: str | Path) -> EditorialLists:
        data = json.loads(Path(path).read_text())
        pins = [Pin.model_validate(p) for p in data["pins"]]
        return cls(pins, list(data["new_overall"]), {k: list(v) for k, v in data["new_by_category"].items()})


def editorial_lists(
    config: EditorialConfig, items: pd.DataFrame, now: datetime
) -> tuple[EditorialLists, list[str]]:
    """Resolve the rules against the catalogue at ``now``; also returns pinned ids that are not
    in the live catalogue (dropped, reported so the team can fix the file)."""
    stock = items[items["in_stock"].astype(bool)]
    live = set(items["item_id"].astype(str))
    servable = set(stock["item_id"].astype(str))
    missing = sorted({i for p in config.pins for i in p.items} - live)
    pins = [p.model_copy(update={"items": [i for i in p.items if i in servable]}) for p in config.pins]

    rules = config.new_arrivals
    created = pd.to_datetime(items["created_at"], utc=True)
    at = pd.Timestamp(now).tz_convert("UTC") if pd.Timestamp(now).tzinfo else pd.Timestamp(now, tz="UTC")
    fresh = items[(created > at - timedelta(days=rules.max_age_days)) & (created <= at)]
    if rules.in_stock_only:
        fresh = fresh[fresh["in_stock"].astype(bool)]
    if not rules.include_sponsored:
        fresh = fresh[~fresh["sponsored"].astype(bool)]
    fresh = fresh.assign(_created=created.loc[fresh.index], item_id=fresh["item_id"].astype(str))
    fresh = fresh.sort_values(["_created", "item_id"], ascending=[False, True], kind="stable")
    by_category = {
        str(cat): group["item_id"].head(rules.per_category).tolist()
        for cat, group in fresh.groupby("category", sort=True)
    }
    return EditorialLists(pins, fresh["item_id"].head(rules.size).tolist(), by_category), missing
