"""Request and response models of the user-control endpoints: block an item or a category, mark an
item "not interested", turn personalisation off, and see what is set (validated at the edge)."""

from __future__ import annotations

from pydantic import BaseModel, model_validator

from contracts.api import Id, Label, Strict, StrictBool


class BlockRequest(Strict):
    """One item or one category, never shown to the user again (until unblocked)."""

    user_id: Id
    item_id: Id | None = None
    category: Label | None = None

    @model_validator(mode="after")
    def _one_target(self) -> BlockRequest:
        if (self.item_id is None) == (self.category is None):
            raise ValueError("give exactly one of item_id or category")
        return self


class NotInterestedRequest(Strict):
    user_id: Id
    item_id: Id


class PersonalisationRequest(Strict):
    """``enabled`` false: from the next request on, the user's pages are non-personalised lists."""

    user_id: Id
    enabled: StrictBool


class ControlsRequest(Strict):
    user_id: Id


class ControlsView(BaseModel):
    """What the user has set, as every worker applies it from the next request on."""

    user_id: str
    blocked_items: list[str]
    blocked_categories: list[str]
    not_interested: list[str]
    personalised: bool
