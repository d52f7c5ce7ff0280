"""What each edge gets from the composition root: the operator API's routers an
:class:`~csms.api.context.ApiServices` (handed to every request by :mod:`csms.app.api`), the
scheduled jobs a :class:`~csms.jobs.context.JobServices` (handed to every run by
:mod:`csms.app.scheduled`). Each property asks its factory in :mod:`csms.app.wiring` when it
is used, so an edge builds only what it uses, and what the factory keeps is built once per
process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csms.app import health, wiring

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from csms.api.context import ApiServices, Dependencies
    from csms.clock import Clock
    from csms.domain.connections import ConnectionStore
    from csms.jobs.context import JobServices
    from csms.services.api_access import ApiAccess
    from csms.services.charging_limits import ChargingLimitService
    from csms.services.commands import CommandService
    from csms.services.device_model import DeviceModelService
    from csms.services.diagnostics import DiagnosticsService
    from csms.services.event_feed import EventFeedService
    from csms.services.event_parking import ParkedEvents
    from csms.services.event_relay import EventRelay
    from csms.services.firmware import FirmwareService
    from csms.services.fleet import FleetService
    from csms.services.fleet_gauges import FleetGauges
    from csms.services.id_tokens import IdTokenService
    from csms.services.liveness import LivenessService
    from csms.services.load_management import LoadManagementService
    from csms.services.load_sites import SiteService
    from csms.services.local_list import LocalListService
    from csms.services.locations import LocationService
    from csms.services.meter_housekeeping import MeterHousekeepingService
    from csms.services.meter_series import MeterSeriesService
    from csms.services.reports import ReportService
    from csms.services.reservations import ReservationService
    from csms.services.security import SecurityEventService
    from csms.services.sessions import SessionService
    from csms.services.smart_charging import SmartChargingService
    from csms.services.stuck_transactions import StuckTransactionService
    from csms.services.tenant_settings import TenantSettingsService
    from csms.services.users import UserService


class _ApiServices:
    """:class:`csms.api.context.ApiServices` over the factories of :mod:`csms.app.wiring`: each property asks
    its factory when a router uses it, so a request builds only what it needs."""

    @property
    def clock(self) -> Clock:
        return wiring.clock()

    @property
    def fleet(self) -> FleetService:
        return wiring.fleet()

    @property
    def id_tokens(self) -> IdTokenService:
        return wiring.id_tokens()

    @property
    def locations(self) -> LocationService:
        return wiring.locations()

    @property
    def sites(self) -> SiteService:
        return wiring.sites()

    @property
    def load_management(self) -> LoadManagementService:
        return wiring.load_management()

    @property
    def sessions(self) -> SessionService:
        return wiring.sessions()

    @property
    def meter_series(self) -> MeterSeriesService:
        return wiring.meter_series()

    @property
    def reports(self) -> ReportService:
        return wiring.reports()

    @property
    def commands(self) -> CommandService:
        return wiring.commands()

    @property
    def device_model(self) -> DeviceModelService:
        return wiring.device_model()

    @property
    def firmware(self) -> FirmwareService:
        return wiring.firmware()

    @property
    def local_lists(self) -> LocalListService:
        return wiring.local_lists()

    @property
    def reservations(self) -> ReservationService:
        return wiring.reservations()

    @property
    def smart_charging(self) -> SmartChargingService:
        return wiring.smart_charging()

    @property
    def users(self) -> UserService:
        return wiring.users()

    @property
    def tenant_settings(self) -> TenantSettingsService:
        return wiring.tenant_settings()

    @property
    def security_events(self) -> SecurityEventService:
        return wiring.security_events()

    @property
    def diagnostics(self) -> DiagnosticsService:
        return wiring.diagnostics()

    @property
    def charging_limits(self) -> ChargingLimitService:
        return wiring.charging_limits()

    @property
    def events(self) -> EventFeedService:
        return wiring.event_feed()

    @property
    def idempotency(self) -> BasePersistenceLayer:
        return wiring.idempotency_store()

    @property
    def access(self) -> ApiAccess:
        return wiring.api_access()

    def dependencies(self) -> Dependencies:
        return health.dependencies()


_API_SERVICES = _ApiServices()


def api_services() -> ApiServices:
    """What the operator API's routers use (the API function hands it to every request)."""
    return _API_SERVICES


class _JobServices:
    """:class:`csms.jobs.context.JobServices` over the factories of :mod:`csms.app.wiring`."""

    @property
    def connections(self) -> ConnectionStore:
        return wiring.connections()

    @property
    def commands(self) -> CommandService:
        return wiring.commands()

    @property
    def reservations(self) -> ReservationService:
        return wiring.reservations()

    @property
    def liveness(self) -> LivenessService:
        return wiring.liveness()

    @property
    def stuck_transactions(self) -> StuckTransactionService:
        return wiring.stuck_transactions()

    @property
    def meter_housekeeping(self) -> MeterHousekeepingService:
        return wiring.meter_housekeeping()

    @property
    def event_relay(self) -> EventRelay:
        return wiring.event_relay()

    @property
    def parked_events(self) -> ParkedEvents:
        return wiring.parked_events()

    @property
    def fleet_gauges(self) -> FleetGauges:
        return wiring.fleet_gauges()

    @property
    def load_management(self) -> LoadManagementService:
        return wiring.load_management()


_JOB_SERVICES = _JobServices()


def job_services() -> JobServices:
    """What the scheduled jobs use (the scheduled function hands it to every run)."""
    return _JOB_SERVICES
