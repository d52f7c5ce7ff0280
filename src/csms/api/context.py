"""What the routers work with: the services of one process, handed to every request.

The API function (:mod:`csms.app.api`) puts the composition root's :class:`ApiServices` into
the resolver's context before each request; a router reads it with :func:`services`. Routers
import neither the composition root nor an adapter: these Protocols list all they may use.
Every operation on them takes the caller's :class:`~csms.domain.tenancy.TenantScope`; where a
service also serves the command pipeline or the jobs (operations by charger, command or
reservation id, across tenants), the router sees it through a narrower Protocol without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from datetime import datetime

    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from csms.clock import Clock
    from csms.domain.charging_limits import StoredChargingLimit
    from csms.domain.commands import Command, CommandStatus
    from csms.domain.diagnostics import StoredDeviceEvent
    from csms.domain.firmware import ChargePointEvent, EventKind
    from csms.domain.load import RecordedAllocation
    from csms.domain.local_list import LocalListState
    from csms.domain.reservations import Reservation, ReservationStatus
    from csms.domain.security import StoredSecurityEvent
    from csms.domain.smart_charging import ChargingProfile, ProfileQuery
    from csms.domain.tenancy import TenantScope
    from csms.services.api_access import ApiAccess
    from csms.services.commands import CommandFollowUps
    from csms.services.device_model import DeviceModelService
    from csms.services.event_feed import EventFeedService
    from csms.services.fleet import FleetService
    from csms.services.id_tokens import IdTokenService
    from csms.services.load_sites import SiteService
    from csms.services.locations import LocationService
    from csms.services.meter_series import MeterSeriesService
    from csms.services.reports import ReportService
    from csms.services.sessions import SessionService
    from csms.services.tenant_settings import TenantSettingsService
    from csms.services.users import UserService

#: The key of the resolver's context that holds the :class:`ApiServices`.
SERVICES = "services"


class CommandRequests(Protocol):
    """The operator's side of the command pipeline (csms.services.commands.CommandService)."""

    def submit_all(
        self,
        scope: TenantScope,
        charge_point_id: str,
        action: str,
        request: dict[str, Any],
        *,
        expires_in: timedelta | None = None,
    ) -> list[Command]: ...

    def get(self, scope: TenantScope, command_id: str) -> Command: ...

    def follow_ups(self, command: Command) -> CommandFollowUps:
        """What the station sent about a command the caller read with :meth:`get`."""
        ...

    def search(
        self,
        scope: TenantScope,
        charge_point_id: str,
        status: CommandStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Command], int]: ...


class FirmwareTimelines(Protocol):
    """csms.services.firmware.FirmwareService, as operators read it."""

    def timeline(
        self, scope: TenantScope, charge_point_id: str, kind: EventKind, limit: int, offset: int
    ) -> tuple[list[ChargePointEvent], int]: ...


class SecurityEvents(Protocol):
    """csms.services.security.SecurityEventService, as operators read it."""

    def events(
        self, scope: TenantScope, charge_point_id: str, limit: int, offset: int
    ) -> tuple[list[StoredSecurityEvent], int]: ...


class DeviceEvents(Protocol):
    """csms.services.diagnostics.DiagnosticsService, as operators read it."""

    def events(
        self, scope: TenantScope, charge_point_id: str, component: str | None, limit: int, offset: int
    ) -> tuple[list[StoredDeviceEvent], int]: ...


class ChargingLimits(Protocol):
    """csms.services.charging_limits.ChargingLimitService, as operators read it."""

    def limits(self, scope: TenantScope, charge_point_id: str) -> list[StoredChargingLimit]: ...


class LocalListStates(Protocol):
    """csms.services.local_list.LocalListService, as operators read it."""

    def state(self, scope: TenantScope, charge_point_id: str) -> LocalListState: ...


class ReservationRecords(Protocol):
    """csms.services.reservations.ReservationService, as operators read it."""

    def search(
        self,
        scope: TenantScope,
        charge_point_id: str,
        status: ReservationStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Reservation], int]: ...

    def get(self, scope: TenantScope, reservation_id: int) -> Reservation: ...


class ChargingProfileRecords(Protocol):
    """csms.services.smart_charging.SmartChargingService, as operators read it."""

    def search(
        self, scope: TenantScope, charge_point_id: str, query: ProfileQuery
    ) -> tuple[list[ChargingProfile], int]: ...


class Reallocation(Protocol):
    """csms.services.load_management.LoadManagementService, as operators use it."""

    def reallocate(
        self, scope: TenantScope, site_id: str, now: datetime, cause: str
    ) -> RecordedAllocation: ...


class ApiServices(Protocol):
    """Each collaborator is built on first use and then kept for the process."""

    @property
    def clock(self) -> Clock: ...
    @property
    def fleet(self) -> FleetService: ...
    @property
    def id_tokens(self) -> IdTokenService: ...
    @property
    def locations(self) -> LocationService: ...
    @property
    def sites(self) -> SiteService: ...
    @property
    def load_management(self) -> Reallocation: ...
    @property
    def sessions(self) -> SessionService: ...
    @property
    def meter_series(self) -> MeterSeriesService: ...
    @property
    def reports(self) -> ReportService: ...
    @property
    def commands(self) -> CommandRequests: ...
    @property
    def device_model(self) -> DeviceModelService: ...
    @property
    def firmware(self) -> FirmwareTimelines: ...
    @property
    def local_lists(self) -> LocalListStates: ...
    @property
    def reservations(self) -> ReservationRecords: ...
    @property
    def smart_charging(self) -> ChargingProfileRecords: ...
    @property
    def users(self) -> UserService: ...
    @property
    def tenant_settings(self) -> TenantSettingsService: ...
    @property
    def security_events(self) -> SecurityEvents: ...
    @property
    def diagnostics(self) -> DeviceEvents: ...
    @property
    def charging_limits(self) -> ChargingLimits: ...
    @property
    def events(self) -> EventFeedService: ...
    @property
    def idempotency(self) -> BasePersistenceLayer:
        """Where ``Idempotency-Key`` answers are kept (DynamoDB)."""
        ...

    @property
    def access(self) -> ApiAccess:
        """Revoked tokens and rate limits, checked before every route."""
        ...

    def dependencies(self) -> Dependencies:
        """Whether PostgreSQL and DynamoDB answer, within a bound (the deep health check)."""
        ...


@dataclass(frozen=True)
class Dependencies:
    """What the deep health check found."""

    database: bool
    dynamodb: bool

    @property
    def healthy(self) -> bool:
        return self.database and self.dynamodb


def services(router: Any) -> ApiServices:
    """The services of the request a router (or the resolver) is resolving."""
    found = router.context.get(SERVICES)
    if found is None:
        raise RuntimeError("no services in the resolver's context: csms.app.api puts them there")
    return cast("ApiServices", found)
