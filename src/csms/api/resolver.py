"""Powertools' REST resolver with per-request state, so concurrent requests stay apart.

Powertools keeps the request being resolved in shared places: ``BaseRouter.current_event`` and
``lambda_context`` are class attributes, ``context`` (the matched route, its arguments) is one
dict per resolver. On Lambda that is harmless: an instance serves one request at a time. The
local stack (``csms.local.restapi``) runs the same resolver for concurrent requests in threads,
and long polls (``GET /api/v1/events?wait=N``) make overlapping requests the normal case: a
request could read another's event, claims and tenant included. Here each of these attributes
is a property over the state of the request that the calling thread is resolving (a
ContextVar), as Powertools' own ``HttpResolverLocal`` does for ASGI.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent


@dataclass
class _RequestState:
    event: APIGatewayProxyEvent | None = None
    lambda_context: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    processed_stack_frames: list[str] = field(default_factory=list)


#: The request the current thread is resolving. One for every resolver: routers are module-level
#: and point at the resolver that included them last, which need not be the one resolving (two
#: first requests at once may each build one).
_REQUEST: ContextVar[_RequestState | None] = ContextVar("csms_api_request", default=None)


class RestResolver(APIGatewayRestResolver):
    """:class:`APIGatewayRestResolver` whose request state is private to each resolve()."""

    def __init__(self, **kwargs: Any) -> None:
        # Before super().__init__, which assigns context and processed_stack_frames.
        self._startup_state = _RequestState()
        super().__init__(**kwargs)

    @property
    def _state(self) -> _RequestState:
        return _REQUEST.get() or self._startup_state

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        # Context a router added before the first request (Powertools allows it) starts each one.
        token = _REQUEST.set(_RequestState(context=dict(self._startup_state.context)))
        try:
            state = self._state
            state.event = self._to_proxy_event(event)  # type: ignore[assignment]
            state.lambda_context = context
            # (Powertools also stores the event in its class attributes: nothing reads them.)
            response: dict[str, Any] = super().resolve(event, context)
            return response
        finally:
            _REQUEST.reset(token)

    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEvent:
        event = self._state.event
        if event is None:
            raise RuntimeError("no request is being resolved")
        return event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEvent) -> None:
        self._state.event = value

    @property
    def lambda_context(self) -> Any:
        return self._state.lambda_context

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._state.lambda_context = value

    @property
    def context(self) -> dict[str, Any]:
        return self._state.context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._state.context = value

    @property
    def processed_stack_frames(self) -> list[str]:
        return self._state.processed_stack_frames

    @processed_stack_frames.setter
    def processed_stack_frames(self, value: list[str]) -> None:
        self._state.processed_stack_frames = value
