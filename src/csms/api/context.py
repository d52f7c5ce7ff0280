"""What the routers work with: the services of one process, handed to every request.

The API function (:mod:`csms.app.api`) puts the composition root's :class:`ApiServices` into
the resolver's context before each request; a router reads it with :func:`services`. Routers
import neither the composition root nor an adapter: this Protocol lists all they may use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from csms.clock import Clock
    from csms.services.commands import CommandService
    from csms.services.configuration import ConfigurationService
    from csms.services.event_feed import EventFeedService
    from csms.services.firmware import FirmwareService
    from csms.services.fleet import FleetService
    from csms.services.id_tags import IdTagService
    from csms.services.local_list import LocalListService
    from csms.services.locations import LocationService
    from csms.services.meter_series import MeterSeriesService
    from csms.services.reports import ReportService
    from csms.services.reservations import ReservationService
    from csms.services.sessions import SessionService
    from csms.services.smart_charging import SmartChargingService
    from csms.services.users import UserService

#: The key of the resolver's context that holds the :class:`ApiServices`.
SERVICES = "services"


class ApiServices(Protocol):
    """Each collaborator is built on first use and then kept for the process."""

    @property
    def clock(self) -> Clock: ...
    @property
    def fleet(self) -> FleetService: ...
    @property
    def id_tags(self) -> IdTagService: ...
    @property
    def locations(self) -> LocationService: ...
    @property
    def sessions(self) -> SessionService: ...
    @property
    def meter_series(self) -> MeterSeriesService: ...
    @property
    def reports(self) -> ReportService: ...
    @property
    def commands(self) -> CommandService: ...
    @property
    def configuration(self) -> ConfigurationService: ...
    @property
    def firmware(self) -> FirmwareService: ...
    @property
    def local_lists(self) -> LocalListService: ...
    @property
    def reservations(self) -> ReservationService: ...
    @property
    def smart_charging(self) -> SmartChargingService: ...
    @property
    def users(self) -> UserService: ...
    @property
    def events(self) -> EventFeedService: ...
    @property
    def idempotency(self) -> BasePersistenceLayer:
        """Where ``Idempotency-Key`` answers are kept (DynamoDB)."""
        ...

    def database_reachable(self) -> bool: ...
    def dynamodb_reachable(self) -> bool: ...


def services(router: Any) -> ApiServices:
    """The services of the request a router (or the resolver) is resolving."""
    found = router.context.get(SERVICES)
    if found is None:
        raise RuntimeError("no services in the resolver's context: csms.app.api puts them there")
    return cast("ApiServices", found)
