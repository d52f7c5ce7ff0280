"""What the scheduled jobs work with: the composition root hands it to each run
(:mod:`csms.app.scheduled`). Jobs work across tenants: they call the services' job operations
(sweeps, expiry, liveness), which the operator API's :class:`csms.api.context.ApiServices`
does not offer. A job that acts for one tenant (the reservations job asking a charger for its
status) does it in that tenant's :class:`~csms.domain.tenancy.TenantScope`, as an operator would."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from csms.domain.connections import ConnectionStore
    from csms.services.commands import CommandService
    from csms.services.event_parking import ParkedEvents
    from csms.services.event_relay import EventRelay
    from csms.services.fleet_gauges import FleetGauges
    from csms.services.liveness import LivenessService
    from csms.services.load_management import LoadManagementService
    from csms.services.meter_housekeeping import MeterHousekeepingService
    from csms.services.reservations import ReservationService
    from csms.services.stuck_transactions import StuckTransactionService


class JobServices(Protocol):
    """Each collaborator is built when a job asks for it; those configured by settings are
    built anew for every run, so a run always follows the current settings."""

    @property
    def connections(self) -> ConnectionStore: ...
    @property
    def commands(self) -> CommandService: ...
    @property
    def reservations(self) -> ReservationService: ...
    @property
    def liveness(self) -> LivenessService: ...
    @property
    def stuck_transactions(self) -> StuckTransactionService: ...
    @property
    def meter_housekeeping(self) -> MeterHousekeepingService: ...
    @property
    def event_relay(self) -> EventRelay: ...
    @property
    def parked_events(self) -> ParkedEvents: ...
    @property
    def fleet_gauges(self) -> FleetGauges: ...
    @property
    def load_management(self) -> LoadManagementService: ...
