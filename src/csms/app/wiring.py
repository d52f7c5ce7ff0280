"""The composition root: builds each collaborator once per process (Lambda container).

Imports are local to each factory so a function only pays for what it uses at cold start
(the disconnect function never imports SQLAlchemy).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from csms.clock import Clock, SystemClock
from csms.settings import Settings, get_settings

if TYPE_CHECKING:
    from csms.aws.connections import DynamoConnectionStore
    from csms.aws.gateway import ApiGatewaySender
    from csms.aws.users import CognitoUsers
    from csms.data.configuration import PgConfigurationStore
    from csms.data.database import PgDatabase
    from csms.domain import ChargerContext
    from csms.ocpp16.dispatcher import Dispatcher
    from csms.ocpp16.frames import CallError, CallResult
    from csms.services.admission import AdmissionService
    from csms.services.commands import CommandService
    from csms.services.firmware import FirmwareService
    from csms.services.fleet import FleetService
    from csms.services.local_list import LocalListService
    from csms.services.reservations import ReservationService
    from csms.services.smart_charging import SmartChargingService


def settings() -> Settings:
    return get_settings()


@cache
def database() -> PgDatabase:
    from csms.data.database import PgDatabase, make_engine

    s = settings()
    url = s.database_url
    if url is None and s.database_secret_arn:
        from csms.aws.clients import database_url_from_secret

        url = database_url_from_secret(s.database_secret_arn, s.aws_region, host=s.database_host)
    if url is None:
        raise RuntimeError("no database configured: set DATABASE_URL (or CSMS_DATABASE_SECRET_ARN on AWS)")
    return PgDatabase(make_engine(url, pool_size=s.database_pool_size, max_overflow=s.database_max_overflow))


@cache
def connections() -> DynamoConnectionStore:
    from csms.aws.clients import lean
    from csms.aws.connections import DynamoConnectionStore

    s = settings()
    # The lean client: one call per frame, without boto3's CPU and import cost (signed.py).
    return DynamoConnectionStore(lean("dynamodb", s.aws_region), s.connections_table)


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
def dispatcher() -> Dispatcher:
    from csms.ocpp16.dispatcher import Dispatcher
    from csms.ocpp16.registry import Services
    from csms.services.authorization import AuthorizationService
    from csms.services.core import ChargePointService, DataTransferService
    from csms.services.transactions import TransactionService
    from csms.vendors import load as load_vendor_extensions

    s = settings()
    db = database()
    load_vendor_extensions()
    return Dispatcher(
        Services(
            charge_points=ChargePointService(db, connections(), s.heartbeat_interval),
            authorization=AuthorizationService(db),
            transactions=TransactionService(db),
            data_transfer=DataTransferService(s.data_transfer_vendors),
            firmware=firmware(),
        ),
        answers=_answer,
    )


def _answer(ctx: ChargerContext, frame: CallResult | CallError) -> None:
    """A charger's CALLRESULT/CALLERROR to one of our commands (imports the pipeline lazily:
    most frames are the charger's own CALLs)."""
    from csms.ocpp16.frames import CallResult

    if isinstance(frame, CallResult):
        commands().complete(ctx.charge_point_id, frame.unique_id, frame.payload, None)
    else:
        commands().complete(ctx.charge_point_id, frame.unique_id, None, (frame.error_code, frame.description))


def clock() -> Clock:
    return SystemClock()


@cache
def fleet() -> FleetService:
    from csms.data.fleet import PgFleetQueries
    from csms.services.fleet import FleetService
    from csms.services.provisioning import ProvisioningService

    db = database()
    endpoint = settings().ws_management_endpoint
    return FleetService(
        PgFleetQueries(db),
        ProvisioningService(db),
        connections(),
        _sender_for(endpoint) if endpoint else None,
        clock(),
    )


def _sender_for(endpoint: str) -> ApiGatewaySender:
    from csms.aws.clients import lean
    from csms.aws.gateway import ApiGatewaySender

    return ApiGatewaySender(lean("apigatewaymanagementapi", settings().aws_region, endpoint))


@cache
def configuration() -> PgConfigurationStore:
    from csms.data.configuration import PgConfigurationStore

    return PgConfigurationStore(database())


@cache
def commands(clock_override: Clock | None = None) -> CommandService:
    """The command pipeline (API: submit; commands function: deliver; message: complete).
    ``clock_override`` is for tests that move time (deadline sweeps)."""
    from datetime import timedelta

    from csms.aws.clients import client
    from csms.aws.pending import DynamoPendingCalls
    from csms.aws.queue import SqsCommandQueue
    from csms.data.commands import PgCommandStore
    from csms.ocpp16.commands import registry, validate_request, validate_response
    from csms.services.commands import CommandService

    s = settings()
    if not s.commands_queue_url:
        raise RuntimeError("no command queue configured: set CSMS_COMMANDS_QUEUE_URL")
    endpoint = s.ws_management_endpoint
    return CommandService(
        PgCommandStore(database()),
        DynamoPendingCalls(client("dynamodb", s.aws_region), s.pending_calls_table),
        SqsCommandQueue(client("sqs", s.aws_region), s.commands_queue_url),
        connections(),
        (lambda: _sender_for(endpoint)) if endpoint else _no_sender,
        registry(
            configuration(),
            local_lists=local_lists(),
            reservations=reservations(),
            charging_profiles=smart_charging(),
        ),
        clock_override or clock(),
        timeout=timedelta(seconds=s.command_timeout_seconds),
        validate_request=validate_request,
        validate_response=validate_response,
    )


def _no_sender() -> ApiGatewaySender:
    raise RuntimeError("no @connections endpoint configured: set CSMS_WS_MANAGEMENT_ENDPOINT")


@cache
def users() -> CognitoUsers:
    from csms.aws.clients import client
    from csms.aws.users import CognitoUsers
    from csms.errors import StorageUnavailable

    s = settings()
    if not s.user_pool_id:
        raise StorageUnavailable("no user directory configured: set CSMS_USER_POOL_ID")
    return CognitoUsers(client("cognito-idp", s.aws_region), s.user_pool_id)


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

    return FirmwareService(PgChargePointEvents(database()))


@cache
def local_lists() -> LocalListService:
    from csms.data.local_list import PgLocalListStore
    from csms.services.local_list import LocalListService

    return LocalListService(PgLocalListStore(database()))


@cache
def reservations() -> ReservationService:
    """Also the reservation expiry job: ``reservations().expire_reservations(clock().now())``."""
    from csms.data.reservations import PgReservationStore
    from csms.services.reservations import ReservationService

    return ReservationService(PgReservationStore(database()))


@cache
def smart_charging() -> SmartChargingService:
    from csms.data.smart_charging import PgChargingProfileStore
    from csms.services.smart_charging import SmartChargingService

    return SmartChargingService(PgChargingProfileStore(database()))
