"""The user-control endpoints' logic: write the control, drop this worker's cached pages of the
user (the other workers check every cached page against the controls before showing it), and
answer with what is set now."""

from __future__ import annotations

from collections.abc import Callable

from bento.controls.store import NOT_INTERESTED, BlockKind, UserControls, UserControlStore
from contracts.controls_api import BlockRequest, ControlsView, NotInterestedRequest, PersonalisationRequest


def _target(request: BlockRequest) -> tuple[BlockKind, str]:
    if request.item_id is not None:
        return "item", request.item_id
    assert request.category is not None  # BlockRequest validates exactly one
    return "category", request.category


def view(user_id: str, controls: UserControls) -> ControlsView:
    return ControlsView(
        user_id=user_id,
        blocked_items=sorted(controls.items - controls.not_interested),
        blocked_categories=sorted(controls.categories),
        not_interested=sorted(controls.not_interested),
        personalised=not controls.opted_out,
    )


class ControlsDesk:
    def __init__(self, store: UserControlStore, drop_cached: Callable[[str], int]) -> None:
        self.store, self.drop_cached = store, drop_cached

    def block(self, request: BlockRequest) -> ControlsView:
        return self._done(request.user_id, self.store.block(request.user_id, *_target(request)))

    def unblock(self, request: BlockRequest) -> ControlsView:
        return self._done(request.user_id, self.store.unblock(request.user_id, *_target(request)))

    def not_interested(self, request: NotInterestedRequest) -> ControlsView:
        controls = self.store.block(request.user_id, "item", request.item_id, why=NOT_INTERESTED)
        return self._done(request.user_id, controls)

    def personalise(self, request: PersonalisationRequest) -> ControlsView:
        return self._done(request.user_id, self.store.personalise(request.user_id, request.enabled))

    def show(self, user_id: str) -> ControlsView:
        return view(user_id, self.store.of(user_id))

    def _done(self, user_id: str, controls: UserControls) -> ControlsView:
        self.drop_cached(user_id)
        return view(user_id, controls)
