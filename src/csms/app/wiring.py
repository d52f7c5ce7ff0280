"""The composition root: builds each collaborator once per process (Lambda container).

Imports are local to each factory so a function only pays for what it uses at cold start
(the disconnect function never imports SQLAlchemy). The entry logic in this package asks the
factories for what it needs; the REST routers and the scheduled jobs never import this
module: they get what they use through :mod:`csms.app.containers`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from csms.clock import Clock, SystemClock
from csms.settings import Settings, get_settings

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from csms.aws.connections import DynamoConnectionStore
    from csms.aws.gateway import ApiGatewaySender
    from csms.aws.limits import DynamoCounters
    from csms.aws.live import DynamoLiveSubscribers
    from csms.aws.tokens import CognitoIdTokens
    from csms.aws.users import CognitoUsers
    from csms.data.database import PgDatabase
    from csms.data.events import PgEventLog
    from csms.domain.events import DomainEvent, EventParking
    from csms.domain.stations import ChargerContext
    from csms.ocppj.dispatcher import Dispatcher
    from csms.ocppj.frames import CallError, CallResult
    from csms.services.admission import AdmissionService
    from csms.services.api_access import ApiAccess
    from csms.services.charging_limits import ChargingLimitService
    from csms.services.commands import CommandService
    from csms.services.console_live import ConsoleLive
    from csms.services.credentials import CredentialService
    from csms.services.device_model import DeviceModelService
    from csms.services.diagnostics import DiagnosticsService
    from csms.services.event_feed import EventFeedService
    from csms.services.event_parking import ParkedEvents
    from csms.services.event_relay import EventRelay
    from csms.services.file_urls import FileUrlRules
    from csms.services.firmware import FirmwareService
    from csms.services.fleet import FleetService
    from csms.services.fleet_gauges import FleetGauges
    from csms.services.frame_limits import FrameLimiter
    from csms.services.id_tokens import IdTokenService
    from csms.services.liveness import LivenessService
    from csms.services.load_management import LoadManagementService
    from csms.services.load_sites import SiteService
    from csms.services.local_list import LocalListService
    from csms.services.locations import LocationService
    from csms.services.login_limits import LoginLimiter
    from csms.services.meter_housekeeping import MeterHousekeepingService
    from csms.services.meter_series import MeterSeriesService
    from csms.services.reports import ReportService
    from csms.services.reservations import ReservationService
    from csms.services.security import SecurityEventService
    from csms.services.sessions import SessionService
    from csms.services.smart_charging import SmartChargingService
    from csms.services.station_reports import StationReportService
    from csms.services.stations import Stations
    from csms.services.stuck_transactions import StuckTransactionService
    from csms.services.tenant_settings import TenantSettingsService
    from csms.services.users import UserService


def settings() -> Settings:
    return get_settings()


@cache
def database() -> PgDatabase:
    from csms.data.database import PgDatabase, Timeouts, make_engine

    s = settings()
    url = s.database_url
    from_secret = url is None and bool(s.database_secret_arn)
    if url is None and s.database_secret_arn:
        from csms.aws.clients import database_url_from_secret

        url = database_url_from_secret(
            s.database_secret_arn, s.aws_region, host=s.database_host, ca_file=s.database_ca_file
        )
    if url is None:
        raise RuntimeError("no database configured: set DATABASE_URL (or CSMS_DATABASE_SECRET_ARN on AWS)")
    timeouts = Timeouts(
        statement_ms=s.database_statement_timeout_ms,
        lock_ms=s.database_lock_timeout_ms,
        connect_seconds=s.database_connect_timeout_seconds,
        stall_seconds=s.database_stall_timeout_seconds,
    )
    engine = make_engine(
        url, pool_size=s.database_pool_size, max_overflow=s.database_max_overflow, timeouts=timeouts
    )
    if from_secret and s.database_secret_arn:
        from csms.aws.clients import secret_value
        from csms.data.database import reread_password_on_auth_failure

        # The secret rotates (every 30 days on AWS): a new connection refused with the password
        # this container read at its start reads the secret again and retries once.
        arn, region = s.database_secret_arn, s.aws_region
        reread_password_on_auth_failure(engine, lambda: str(secret_value(arn, region)["password"]))
    db = PgDatabase(engine, stall_seconds=timeouts.stall_seconds)
    db.on_unavailable = _count_database_unavailable
    # Each committed transaction's domain events go to the relay, published at flush_events().
    db.on_commit = lambda events: event_relay().committed(events)
    return db


def _count_database_unavailable() -> None:
    """Metric DatabaseUnavailable (alarm database-unavailable): chargers get InternalError
    and retry, operators 503, but someone must know PostgreSQL is down or stalled."""
    from csms.observability import add_count

    add_count("DatabaseUnavailable", 1)


@cache
def event_log() -> PgEventLog:
    from csms.data.events import PgEventLog

    return PgEventLog(database())


@cache
def event_relay() -> EventRelay:
    from datetime import timedelta

    from csms.services.event_relay import EventRelay, echo_tap

    s = settings()
    publisher = None
    if s.event_bus_name:
        from csms.aws.clients import lean
        from csms.aws.eventbus import EventBridgePublisher

        publisher = EventBridgePublisher(lean("events", s.aws_region), s.event_bus_name)
    dead_letter = None
    if s.events_dead_letter_queue_url:
        from csms.aws.clients import client
        from csms.aws.eventbus import SqsDeadLetter

        dead_letter = SqsDeadLetter(client("sqs", s.aws_region), s.events_dead_letter_queue_url)
    return EventRelay(
        event_log(),
        publisher,
        lambda: clock().now(),
        max_attempts=s.event_publish_max_attempts,
        dead_letter=dead_letter,
        taps=[echo_tap(s.events_echo)] if s.events_echo else [],
        retention=timedelta(days=s.event_retention_days),
    )


def flush_events() -> None:
    """Publish the events of this request's committed transactions (a no-op if the
    database was never used). Call once the caller has its answer. Never raises."""
    if not event_relay.cache_info().currsize:
        return  # created at the first commit: nothing committed, nothing to publish
    try:
        event_relay().flush()
    except Exception:  # the rows are durable: the event-delivery job publishes them
        log.exception("could not flush domain events")


def emit(events: Sequence[DomainEvent]) -> bool:
    """Record events that belong to no database change of ours (a WebSocket connected or
    closed: that state lives in DynamoDB) in their own transaction, then publish them.

    When PostgreSQL cannot record them they are parked (metric EventsParked) and recorded by
    the event-delivery job later, exactly once; only if they cannot be parked either are they
    lost (metric EventsNotRecorded, which alarms). Never raises; False when not recorded now."""
    from csms.observability import add_count

    try:
        from csms.data.outbox import append

        with database().begin() as conn:
            append(conn, events)
    except Exception:
        log.warning(
            "could not record domain events now; parking them", extra={"types": [e.type for e in events]}
        )
        try:
            event_parking().park(events)
        except Exception:
            log.exception(
                "could not record nor park domain events", extra={"types": [e.type for e in events]}
            )
            add_count("EventsNotRecorded", len(events))
        else:
            add_count("EventsParked", len(events))
        return False
    flush_events()
    return True


@cache
def event_parking() -> EventParking:
    from csms.aws.clients import client
    from csms.aws.eventbus import SqsEventParking

    s = settings()
    if not s.events_parking_queue_url:
        raise RuntimeError("no parking queue configured: set CSMS_EVENTS_PARKING_QUEUE_URL")
    return SqsEventParking(client("sqs", s.aws_region), s.events_parking_queue_url)


def parked_events() -> ParkedEvents:
    from csms.services.event_parking import ParkedEvents

    return ParkedEvents(event_parking(), event_log().record_once)


@cache
def connections() -> DynamoConnectionStore:
    from csms.aws.clients import lean
    from csms.aws.connections import DynamoConnectionStore

    s = settings()
    # The lean client: one call per frame, without boto3's CPU and import cost (signed.py).
    return DynamoConnectionStore(
        lean("dynamodb", s.aws_region),
        s.connections_table,
        # last_seen lags by at most the liveness slack (the job allows 2 x interval + slack).
        refresh=timedelta(seconds=s.liveness_slack_seconds),
    )


def management_endpoint(event: dict[str, Any]) -> str:
    """Where @connections lives: configured, or derived from the event like AWS's samples."""
    configured = settings().ws_management_endpoint
    if configured:
        return configured
    context = event.get("requestContext", {})
    return f"https://{context.get('domainName')}/{context.get('stage')}"


def sender(event: dict[str, Any]) -> ApiGatewaySender:
    return _sender_for(management_endpoint(event))


@cache
def dispatcher(protocol: str) -> Dispatcher[Any]:
    """The dispatcher for stations speaking ``protocol`` (a negotiated subprotocol). Each
    adapter is imported the first time a station of its version speaks in this container."""
    from csms.constants import OCPP16, OCPP201
    from csms.ocppj.dispatcher import Dispatcher
    from csms.services.authorization import AuthorizationService
    from csms.services.core import ChargePointService, DataTransferService
    from csms.vendors import load as load_vendor_extensions

    s = settings()
    db = database()
    load_vendor_extensions()
    charge_points = ChargePointService(db, connections(), s.heartbeat_interval)
    authorization = AuthorizationService(db)
    data_transfer = DataTransferService(s.data_transfer_vendors)
    from csms.services.transactions import TransactionService

    if protocol == OCPP201:
        from csms.ocpp201 import registry as v201
        from csms.ocpp201.adapter import ADAPTER as ADAPTER_201

        return Dispatcher(
            ADAPTER_201,
            v201.Services(
                charge_points=charge_points,
                authorization=authorization,
                data_transfer=data_transfer,
                security=security_events(),
                diagnostics=diagnostics(),
                firmware=firmware(),
                reservations=reservations(),
                charging_limits=charging_limits(),
                transactions=TransactionService(db),
                reports=station_reports(),
            ),
            answers=_answer,
        )
    if protocol != OCPP16:
        raise ValueError(f"no adapter for the subprotocol {protocol!r}")
    from csms.ocpp16 import registry as v16
    from csms.ocpp16.adapter import ADAPTER as ADAPTER_16

    return Dispatcher(
        ADAPTER_16,
        v16.Services(
            charge_points=charge_points,
            authorization=authorization,
            transactions=TransactionService(db),
            data_transfer=data_transfer,
            firmware=firmware(),
        ),
        answers=_answer,
    )


def _answer(ctx: ChargerContext, frame: CallResult | CallError) -> None:
    """A charger's CALLRESULT/CALLERROR to one of our commands (imports the pipeline lazily:
    most frames are the charger's own CALLs)."""
    from csms.ocppj.frames import CallResult

    if isinstance(frame, CallResult):
        commands().complete(ctx.charge_point_id, frame.unique_id, frame.payload, None)
    else:
        commands().complete(ctx.charge_point_id, frame.unique_id, None, (frame.error_code, frame.description))


def clock() -> Clock:
    return SystemClock()


@cache
def stations() -> Stations:
    """The one check that a charge point is in a tenant scope, for every service that needs it."""
    from csms.data.fleet import PgFleetQueries
    from csms.services.stations import Stations

    return Stations(PgFleetQueries(database()))


@cache
def fleet() -> FleetService:
    from csms.data.fleet import PgFleetQueries
    from csms.services.fleet import FleetService
    from csms.services.provisioning import ProvisioningService

    db = database()
    endpoint = settings().ws_management_endpoint
    return FleetService(
        PgFleetQueries(db),
        stations(),
        ProvisioningService(db),
        connections(),
        _sender_for(endpoint) if endpoint else None,
        clock(),
    )


def management_sender() -> ApiGatewaySender:
    """The @connections client for code that has no API Gateway event to derive the endpoint
    from (scheduled jobs): the configured ``ws_management_endpoint``."""
    endpoint = settings().ws_management_endpoint
    if not endpoint:
        raise RuntimeError("no @connections endpoint configured: set CSMS_WS_MANAGEMENT_ENDPOINT")
    return _sender_for(endpoint)


def _sender_for(endpoint: str) -> ApiGatewaySender:
    from csms.aws.clients import lean
    from csms.aws.gateway import ApiGatewaySender

    return ApiGatewaySender(lean("apigatewaymanagementapi", settings().aws_region, endpoint))


@cache
def device_model() -> DeviceModelService:
    from csms.data.device_model import PgDeviceModelStore
    from csms.services.device_model import DeviceModelService

    return DeviceModelService(PgDeviceModelStore(database()), stations())


@cache
def commands(clock_override: Clock | None = None) -> CommandService:
    """The command pipeline (API: submit; commands function: deliver; message: complete).
    ``clock_override`` is for tests that move time (deadline sweeps)."""
    from datetime import timedelta

    from csms.aws.clients import client
    from csms.aws.pending import DynamoPendingCalls
    from csms.aws.queue import SqsCommandQueue
    from csms.data.commands import PgCommandStore, PgFollowUps
    from csms.ocpp16 import outbound as v16
    from csms.ocpp201 import outbound as v201
    from csms.ocppj.frames import call
    from csms.services.commands import CommandService
    from csms.services.neutral_commands import Preparations

    s = settings()
    if not s.commands_queue_url:
        raise RuntimeError("no command queue configured: set CSMS_COMMANDS_QUEUE_URL")
    endpoint = s.ws_management_endpoint
    store = PgCommandStore(database())
    preparations = Preparations(store.next_request_id, reservations(), smart_charging())
    registries = [
        adapter.registry(
            device_model(), local_lists=local_lists(), preparations=preparations, credentials=credentials()
        )
        for adapter in (v16, v201)
    ]
    return CommandService(
        store,
        DynamoPendingCalls(client("dynamodb", s.aws_region), s.pending_calls_table),
        SqsCommandQueue(client("sqs", s.aws_region), s.commands_queue_url),
        connections(),
        (lambda: _sender_for(endpoint)) if endpoint else _no_sender,
        {r.protocol: r for r in registries},
        clock_override or clock(),
        stations=stations(),
        timeout=timedelta(seconds=s.command_timeout_seconds),
        call_frame=call,
        follow_ups=PgFollowUps(database()),
        file_url_rules=file_url_rules,
        expiry=timedelta(seconds=s.command_expiry_seconds),
        on_finished=_load_command_finished,
    )


def deliver_waiting_commands(charge_point_id: str) -> None:
    """A station's first frame on a new connection was answered: send what waited for it. One
    indexed read first, so a container that never handles a command does not build the command
    pipeline (both protocols' command registries) for every station that connects."""
    from csms.data.commands import PgCommandStore

    if PgCommandStore(database()).oldest_queued(charge_point_id, clock().now()) is None:
        return
    commands().deliver_next(charge_point_id)


@cache
def tenant_settings() -> TenantSettingsService:
    """A tenant's settings as its admins read and change them."""
    from csms.data.tenants import PgTenantSettings
    from csms.services.tenant_settings import TenantSettingsService

    return TenantSettingsService(PgTenantSettings(database()), clock(), settings().file_url_schemes)


def _load_command_finished(command: Any) -> None:
    """A load-management profile ended: its site's plan may go on (ADR 0024 §9)."""
    from csms.domain.load import LOAD_MANAGER

    if command.requested_by == LOAD_MANAGER:
        load_management().command_finished(command, clock().now())


def file_url_rules(tenant_id: str) -> FileUrlRules:
    """The URL schemes and hosts the tenant's firmware and diagnostics URLs may use."""
    from csms.data.tenants import PgTenantSettings
    from csms.services.file_urls import rules_for

    return rules_for(PgTenantSettings(database()), tenant_id, settings().file_url_schemes)


@cache
def credentials() -> CredentialService:
    """Password rotations; the new password is encrypted with the command-secrets KMS key."""
    from csms.aws.clients import client
    from csms.aws.secrets import KmsCipher
    from csms.data.credentials import PgCommandSecrets, PgCredentialStore
    from csms.services.credentials import CredentialService

    s = settings()
    cipher = (
        KmsCipher(client("kms", s.aws_region), s.command_secrets_key_id) if s.command_secrets_key_id else None
    )
    return CredentialService(
        PgCredentialStore(database()), PgCommandSecrets(database()), cipher or _NoCipher()
    )


class _NoCipher:
    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        from csms.errors import StorageUnavailable

        raise StorageUnavailable("no command-secrets key configured: set CSMS_COMMAND_SECRETS_KEY_ID")

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str:
        return self.encrypt("", context).decode()


def _no_sender() -> ApiGatewaySender:
    raise RuntimeError("no @connections endpoint configured: set CSMS_WS_MANAGEMENT_ENDPOINT")


@cache
def user_directory() -> CognitoUsers:
    from csms.aws.clients import client
    from csms.aws.users import CognitoUsers
    from csms.errors import StorageUnavailable

    s = settings()
    if not s.user_pool_id:
        raise StorageUnavailable("no user directory configured: set CSMS_USER_POOL_ID")
    return CognitoUsers(client("cognito-idp", s.aws_region), s.user_pool_id)


@cache
def users() -> UserService:
    from csms.services.users import UserService

    return UserService(user_directory(), limits())


@cache
def limits() -> DynamoCounters:
    """The limits table: per-client counters and revocation stamps (lean client: cheap to
    import on the charger path)."""
    from csms.aws.clients import lean
    from csms.aws.limits import DynamoCounters

    s = settings()
    return DynamoCounters(lean("dynamodb", s.aws_region), s.limits_table)


@cache
def api_access() -> ApiAccess:
    from csms.services.api_access import ApiAccess

    s = settings()
    return ApiAccess(
        limits(),
        limits(),
        clock(),
        window_seconds=s.api_rate_window_seconds,
        per_principal=s.api_rate_per_principal,
        per_tenant=s.api_rate_per_tenant,
        cache_seconds=s.revocation_cache_seconds,
    )


@cache
def frame_limiter() -> FrameLimiter:
    from csms.services.frame_limits import FrameLimiter

    s = settings()
    return FrameLimiter(
        limits(),
        window_seconds=s.frame_rate_window_seconds,
        limit=s.frame_rate_limit,
        batch=s.frame_count_batch,
    )


@cache
def login_limiter() -> LoginLimiter:
    from csms.services.login_limits import LoginLimiter

    s = settings()
    return LoginLimiter(
        limits(),
        window_seconds=s.auth_failure_window_seconds,
        per_station=s.auth_failures_per_station,
        per_address=s.auth_failures_per_address,
    )


@cache
def admission() -> AdmissionService:
    from csms.services.admission import AdmissionService

    s = settings()
    return AdmissionService(
        database(), allow_unknown=s.allow_unknown_chargers, default_tenant=s.default_tenant
    )


# --- the feature profiles beyond Core (FirmwareManagement, LocalAuthList, Reservation, SmartCharging)


@cache
def firmware() -> FirmwareService:
    from csms.data.firmware import PgChargePointEvents
    from csms.services.firmware import FirmwareService

    return FirmwareService(PgChargePointEvents(database()), stations())


@cache
def local_lists() -> LocalListService:
    from csms.data.local_list import PgLocalListStore
    from csms.services.local_list import LocalListService

    return LocalListService(PgLocalListStore(database()), stations())


@cache
def reservations() -> ReservationService:
    """Also the reservation expiry job: ``reservations().expire_reservations(clock().now())``."""
    from csms.data.reservations import PgReservationStore
    from csms.services.reservations import ReservationService

    return ReservationService(PgReservationStore(database()), stations())


@cache
def smart_charging() -> SmartChargingService:
    from csms.data.smart_charging import PgChargingProfileStore
    from csms.services.smart_charging import SmartChargingService

    return SmartChargingService(PgChargingProfileStore(database()), stations())


# --- what the operator API reads (csms.services behind the routers) ---------------------------


@cache
def id_tokens() -> IdTokenService:
    from csms.data.id_tokens import PgIdTokenQueries
    from csms.services.id_tokens import IdTokenService
    from csms.services.provisioning import ProvisioningService

    db = database()
    return IdTokenService(PgIdTokenQueries(db), ProvisioningService(db), clock())


@cache
def locations() -> LocationService:
    from csms.data.locations import PgLocationQueries
    from csms.services.locations import LocationService

    return LocationService(PgLocationQueries(database()), clock())


@cache
def sessions() -> SessionService:
    from csms.data.sessions import PgSessionQueries
    from csms.services.sessions import SessionService

    return SessionService(PgSessionQueries(database()), clock())


@cache
def meter_series() -> MeterSeriesService:
    from csms.data.meter_series import PgMeterSeriesQueries
    from csms.services.meter_series import MeterSeriesService

    return MeterSeriesService(PgMeterSeriesQueries(database()), stations(), clock())


@cache
def reports() -> ReportService:
    from csms.data.reports import PgReportQueries
    from csms.services.reports import ReportService

    return ReportService(PgReportQueries(database()), stations(), clock())


def event_feed() -> EventFeedService:
    """Not kept: the longest wait is read from the settings at every request."""
    from csms.services.event_feed import EventFeedService

    return EventFeedService(event_log(), settings().feed_max_wait_seconds)


@cache
def idempotency_store() -> BasePersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from csms.aws.clients import client

    s = settings()
    return DynamoDBPersistenceLayer(
        table_name=s.idempotency_table, boto3_client=client("dynamodb", s.aws_region)
    )


# --- what the scheduled jobs use (built for every run where settings configure them) ----------


def liveness() -> LivenessService:
    from csms.data.liveness import PgHeartbeatIntervals
    from csms.services.liveness import LivenessService

    s = settings()
    return LivenessService(
        connections(),
        management_sender,
        PgHeartbeatIntervals(database()),
        emit,
        heartbeat_interval=s.heartbeat_interval,
        slack_seconds=s.liveness_slack_seconds,
    )


def stuck_transactions() -> StuckTransactionService:
    from datetime import timedelta

    from csms.data.stuck_transactions import PgStuckTransactions
    from csms.services.stuck_transactions import StuckTransactionPolicy, StuckTransactionService

    s = settings()
    return StuckTransactionService(
        PgStuckTransactions(database()),
        StuckTransactionPolicy(
            idle=timedelta(hours=s.stuck_transaction_idle_hours),
            reboot_grace=timedelta(minutes=s.reboot_grace_minutes),
            deauthorized_grace=timedelta(minutes=s.deauthorized_grace_minutes),
        ),
    )


def meter_housekeeping() -> MeterHousekeepingService:
    from csms.data.housekeeping import PgMeterHousekeeping
    from csms.services.meter_housekeeping import MeterHousekeepingService

    return MeterHousekeepingService(PgMeterHousekeeping(database()), settings())


def fleet_gauges() -> FleetGauges:
    from csms.services.fleet_gauges import FleetGauges

    return FleetGauges(connections(), database())


def reset() -> None:
    """Forget every collaborator built so far (the local stack, after changing the
    environment the settings are read from)."""
    for factory in list(globals().values()):
        if callable(factory) and hasattr(factory, "cache_clear") and factory.__module__ == __name__:
            factory.cache_clear()


# --- what stations report on their own (2.0.1): security, diagnostics, external limits ----------


@cache
def security_events() -> SecurityEventService:
    from csms.data.security import PgSecurityEvents
    from csms.services.security import SecurityEventService

    return SecurityEventService(PgSecurityEvents(database()), stations())


@cache
def diagnostics() -> DiagnosticsService:
    from csms.data.diagnostics import PgDeviceEvents
    from csms.services.diagnostics import DiagnosticsService

    return DiagnosticsService(PgDeviceEvents(database()), stations())


@cache
def station_reports() -> StationReportService:
    from csms.data.station_reports import PgReportParts
    from csms.services.station_reports import StationReportService

    return StationReportService(PgReportParts(database()), device_model(), stations())


@cache
def charging_limits() -> ChargingLimitService:
    from csms.data.charging_limits import PgChargingLimits
    from csms.services.charging_limits import ChargingLimitService

    return ChargingLimitService(PgChargingLimits(database()), stations())


# --- load management (ADR 0024) -----------------------------------------------------------------


@cache
def sites() -> SiteService:
    from csms.data.load import PgLoadStore
    from csms.services.load_sites import SiteService

    service = SiteService(PgLoadStore(database()), stations(), clock())
    # A change the allocator must see reallocates the site at once (ADR 0024 §3).
    service.on_change = lambda scope, site_id, cause: _reallocate_quietly(scope, site_id, cause)
    return service


@cache
def load_management() -> LoadManagementService:
    from datetime import timedelta

    from csms.data.load import PgLoadStore
    from csms.services.load_management import LoadManagementService
    from csms.services.load_profiles import CommandLimitSender

    return LoadManagementService(
        PgLoadStore(database()),
        connections(),
        CommandLimitSender(commands()),
        retry_after=timedelta(minutes=settings().load_retry_minutes),
        retention=timedelta(days=settings().load_allocation_retention_days),
    )


def _reallocate_quietly(scope: Any, site_id: str, cause: str) -> None:
    """Reallocate after an operator's change; a failure leaves it to the job (within a minute)."""
    try:
        load_management().reallocate(scope, site_id, clock().now(), cause)
    except Exception:
        log.exception("reallocation after a change failed", extra={"site_id": site_id, "cause": cause})


# --- console live updates (ADR 0025) -------------------------------------------------------------


@cache
def live_subscribers() -> DynamoLiveSubscribers:
    from csms.aws.clients import lean
    from csms.aws.live import DynamoLiveSubscribers

    s = settings()
    return DynamoLiveSubscribers(lean("dynamodb", s.aws_region), s.connections_table)


@cache
def console_live() -> ConsoleLive:
    """Admits and forgets consoles (the ``live`` function): no @connections needed."""
    from csms.services.console_live import ConsoleLive

    return ConsoleLive(live_subscribers(), None, clock().now)


@cache
def console_fanout() -> ConsoleLive:
    """Fans published events out to the tenant's consoles (the ``fanout`` function) through
    the operators' WebSocket API's @connections."""
    from csms.services.console_live import ConsoleLive

    endpoint = settings().live_management_endpoint
    if not endpoint:
        raise RuntimeError("no live @connections endpoint configured: set CSMS_LIVE_MANAGEMENT_ENDPOINT")
    return ConsoleLive(live_subscribers(), _sender_for(endpoint), clock().now)


@cache
def live_tokens() -> CognitoIdTokens:
    """The $connect authorizer's verifier of the user pool's ID tokens."""
    from csms.aws.tokens import CognitoIdTokens

    issuer = settings().live_token_issuer
    if not issuer:
        raise RuntimeError("no token issuer configured: set CSMS_LIVE_TOKEN_ISSUER")
    return CognitoIdTokens(issuer)
