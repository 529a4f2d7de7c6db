"""The Recommender's user-control routes (a mixin: BentoML collects a service's API methods from
its whole class): block or unblock an item or a category, mark an item "not interested", turn
personalisation off or on, see what is set. Client routes: the product calls them for its users.
Each costs the caller one event token (429 past the event limit)."""

from __future__ import annotations

from typing import Any

import bentoml

from bento.controls.desk import ControlsDesk
from contracts.controls_api import (
    BlockRequest,
    ControlsRequest,
    ControlsView,
    NotInterestedRequest,
    PersonalisationRequest,
)


class UserControlEndpoints:
    controls: ControlsDesk

    def _rate_limited(self, ctx: bentoml.Context, cost: int) -> Any:
        """The service's own event limit (``Recommender._rate_limited``): a 429 response, or None."""
        raise NotImplementedError("the service that mixes these routes in limits their callers")

    @bentoml.api(input_spec=BlockRequest, route="/users/block")
    def block(self, ctx: bentoml.Context, **request: object) -> ControlsView:
        """Never show the user this item or category again (every worker, from the next request)."""
        return self._rate_limited(ctx, cost=1) or self.controls.block(BlockRequest.model_validate(request))

    @bentoml.api(input_spec=BlockRequest, route="/users/unblock")
    def unblock(self, ctx: bentoml.Context, **request: object) -> ControlsView:
        return self._rate_limited(ctx, cost=1) or self.controls.unblock(BlockRequest.model_validate(request))

    @bentoml.api(input_spec=NotInterestedRequest, route="/users/not-interested")
    def not_interested(self, ctx: bentoml.Context, **request: object) -> ControlsView:
        parsed = NotInterestedRequest.model_validate(request)
        return self._rate_limited(ctx, cost=1) or self.controls.not_interested(parsed)

    @bentoml.api(input_spec=PersonalisationRequest, route="/users/personalisation")
    def personalisation(self, ctx: bentoml.Context, **request: object) -> ControlsView:
        """``enabled: false``: non-personalised lists from the next request on; true: back again."""
        parsed = PersonalisationRequest.model_validate(request)
        return self._rate_limited(ctx, cost=1) or self.controls.personalise(parsed)

    @bentoml.api(input_spec=ControlsRequest, route="/users/controls")
    def user_controls_view(self, ctx: bentoml.Context, **request: object) -> ControlsView:
        user_id = ControlsRequest.model_validate(request).user_id
        return self._rate_limited(ctx, cost=1) or self.controls.show(user_id)
