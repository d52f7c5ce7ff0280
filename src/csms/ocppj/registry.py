"""A version's table of inbound actions: one handler per OCPP action, registered with ``on``.

Each adapter keeps one table (``INBOUND = InboundTable[Services]()``) and registers its
handlers with ``@INBOUND.on(action)``; no ``if/elif`` ladder on the action anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from csms.domain.stations import ChargerContext

S = TypeVar("S")

#: (services, station, validated request payload, now) -> response payload (camelCase).
Handler = Callable[[S, ChargerContext, dict[str, Any], datetime], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class InboundAction(Generic[S]):
    name: str
    handler: Handler[S]
    #: May a station that is not (yet) Accepted send this (Pending or Rejected)?
    before_acceptance: bool


class InboundTable(Mapping[str, InboundAction[S]]):
    """The actions a version's stations may send, by name."""

    def __init__(self) -> None:
        self._actions: dict[str, InboundAction[S]] = {}

    def on(self, action: str, *, before_acceptance: bool = False) -> Callable[[Handler[S]], Handler[S]]:
        """Register ``handler`` for the CALL ``action`` sent by stations."""

        def register(handler: Handler[S]) -> Handler[S]:
            if action in self._actions:
                raise RuntimeError(f"two handlers for {action}")
            self._actions[action] = InboundAction(action, handler, before_acceptance)
            return handler

        return register

    def __getitem__(self, action: str) -> InboundAction[S]:
        return self._actions[action]

    def __iter__(self) -> Iterator[str]:
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)
