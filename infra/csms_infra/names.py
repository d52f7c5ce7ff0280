"""Every name the CDK app hands out, in one place.

Environment variable names are derived from :class:`csms.settings.Settings` so a renamed
setting breaks ``cdk synth`` instead of silently deploying a function that reads a
variable nobody sets. Names shared with the functions (headers, route keys, table
layout) come from :mod:`csms.constants` and :mod:`csms.aws.schema`.
"""

from __future__ import annotations

from typing import Final

from csms.api import API_PREFIX
from csms.api.app import DEEP_HEALTH_PATH as DEEP_HEALTH_API_PATH
from csms.api.app import PUBLIC_PATHS
from csms.api.problems import PROBLEM_JSON
from csms.constants import (
    CHARGE_POINT_ID_HEADER,
    FANOUT_FUNCTION,
    LIVE_FUNCTION,
    LIVE_STAGE,
    OCPP_PATH_PREFIX,
    ORIGIN_VERIFY_HEADER,
    ROLE_CLAIM,
    ROUTE_FUNCTIONS,
    TENANT_CLAIM,
)
from csms.domain.tenancy import Role
from csms.schedules import SCHEDULES, Schedule
from csms.settings import env_vars

PROJECT: Final = "csms"
STAGES: Final = ("dev", "prod")


def stack_name(stage: str) -> str:
    """CloudFormation stack name of one stage, e.g. ``Csms-dev``."""
    return f"Csms-{stage}"


def setting_env_var(field: str) -> str:
    """The environment variable :class:`~csms.settings.Settings` reads ``field`` from.

    The first one when the field lists several (``POWERTOOLS_SERVICE_NAME`` before
    ``CSMS_SERVICE_NAME``), otherwise it is the ``CSMS_`` prefix plus the field name.
    """
    try:
        return env_vars(field)[0]
    except KeyError:
        raise KeyError(
            f"csms.settings.Settings has no field {field!r}; infra and settings disagree"
        ) from None


class Env:
    """Environment variables the functions read (all through ``csms.settings``)."""

    CONNECTIONS_TABLE: Final = setting_env_var("connections_table")
    IDEMPOTENCY_TABLE: Final = setting_env_var("idempotency_table")
    USER_POOL_ID: Final = setting_env_var("user_pool_id")
    DATABASE_SECRET_ARN: Final = setting_env_var("database_secret_arn")
    WS_MANAGEMENT_ENDPOINT: Final = setting_env_var("ws_management_endpoint")
    ORIGIN_VERIFY_SECRET: Final = setting_env_var("origin_verify_secret")
    ALLOW_UNKNOWN_CHARGERS: Final = setting_env_var("allow_unknown_chargers")
    HEARTBEAT_INTERVAL: Final = setting_env_var("heartbeat_interval")
    DATA_TRANSFER_VENDORS: Final = setting_env_var("data_transfer_vendors")
    SERVICE_NAME: Final = setting_env_var("service_name")
    LOG_LEVEL: Final = setting_env_var("log_level")
    TRACING: Final = setting_env_var("tracing")
    #: ``POWERTOOLS_METRICS_NAMESPACE``: Settings and Powertools Metrics both read it.
    METRICS_NAMESPACE: Final = setting_env_var("metrics_namespace")
    #: Set only with the RDS Proxy: the host to connect to instead of the secret's ``host``.
    DATABASE_HOST: Final = setting_env_var("database_host")
    PENDING_CALLS_TABLE: Final = setting_env_var("pending_calls_table")
    LIMITS_TABLE: Final = setting_env_var("limits_table")
    COMMANDS_QUEUE_URL: Final = setting_env_var("commands_queue_url")
    #: The KMS key that encrypts a command's secret (rotate-password's new password).
    COMMAND_SECRETS_KEY_ID: Final = setting_env_var("command_secrets_key_id")
    COMMAND_TIMEOUT_SECONDS: Final = setting_env_var("command_timeout_seconds")
    COMMAND_EXPIRY_SECONDS: Final = setting_env_var("command_expiry_seconds")
    #: The domain-event bus the functions publish to.
    EVENT_BUS_NAME: Final = setting_env_var("event_bus_name")
    #: Where the event-delivery job puts events it could never publish.
    EVENTS_DEAD_LETTER_QUEUE_URL: Final = setting_env_var("events_dead_letter_queue_url")
    #: The bounds of a unit of work on PostgreSQL (csms.constants.DATABASE_BOUNDS).
    DATABASE_STATEMENT_TIMEOUT_MS: Final = setting_env_var("database_statement_timeout_ms")
    DATABASE_STALL_TIMEOUT_SECONDS: Final = setting_env_var("database_stall_timeout_seconds")
    #: The RDS CA bundle in the code asset: connections verify the server.
    DATABASE_CA_FILE: Final = setting_env_var("database_ca_file")
    #: The migration: the runtime roles' secrets.
    DATABASE_ROLE_SECRET_ARNS: Final = setting_env_var("database_role_secret_arns")
    #: Where events PostgreSQL could not record wait (SQS).
    EVENTS_PARKING_QUEUE_URL: Final = setting_env_var("events_parking_queue_url")
    #: The operators' live WebSocket API (ADR 0025): its @connections and the token issuer.
    LIVE_MANAGEMENT_ENDPOINT: Final = setting_env_var("live_management_endpoint")
    LIVE_TOKEN_ISSUER: Final = setting_env_var("live_token_issuer")
    #: Share of routine frames the message function logs.
    FRAME_LOG_SAMPLE_RATE: Final = setting_env_var("frame_log_sample_rate")
    #: The SDKs' (and the lean client's) endpoint override: EventBridge's dual-stack endpoint.
    EVENTBRIDGE_ENDPOINT: Final = "AWS_ENDPOINT_URL_EVENTBRIDGE"
    KMS_ENDPOINT: Final = "AWS_ENDPOINT_URL_KMS"


# --- Functions ----------------------------------------------------------------------------
#: Reserved concurrency per function with ``reserved_concurrency`` (prod), ADR 0021. A
#: reservation is a guarantee and a cap: the charger path (connect, message, disconnect) keeps
#: 350 whatever the operator path does, and the operator path (api, users, and the consoles' live
#: and fanout, ADR 0025) can never hold more than 70 of the account's executions. 445 in all,
#: leaving 555 of the default 1,000 (at least 100 must stay unreserved).
RESERVED_CONCURRENCY: Final = {
    "connect": 100,  # a 2-hour cut of the fleet: 500 handshakes/s (the account quota) x 0.2 s
    "message": 200,  # the stage admits 1,000 frames/s (burst 2,000); at 0.1-0.2 s p99 that is 100-200
    "disconnect": 50,
    "api": 50,  # the stage admits 500 requests/s; a 20 s long poll holds one each: 50 watchers
    "users": 5,
    "commands": 20,
    "scheduled": 5,  # seven schedules, a minute apart at most
    "live": 5,  # consoles connecting (and a keep-alive every few minutes): a few per second at most
    "fanout": 10,  # one short invocation per domain event; EventBridge retries what is throttled
}
#: Directory names under ``functions/`` of the WebSocket route handlers.
CONNECT: Final = ROUTE_FUNCTIONS["$connect"]
MESSAGE: Final = ROUTE_FUNCTIONS["$default"]
DISCONNECT: Final = ROUTE_FUNCTIONS["$disconnect"]
#: The operator REST API (``functions/api``).
API: Final = "api"
#: Command delivery (``functions/commands``, SQS FIFO trigger).
COMMANDS: Final = "commands"
#: The scheduled jobs (``functions/scheduled``, EventBridge Scheduler).
SCHEDULED: Final = "scheduled"
#: The operators' live WebSocket API (ADR 0025): its authorizer and routes, and the fan-out.
LIVE: Final = LIVE_FUNCTION
FANOUT: Final = FANOUT_FUNCTION
FUNCTIONS_DIR: Final = "functions"
#: The migration runs from the shared package, not from a ``functions/`` entry point.
MIGRATE_HANDLER: Final = "csms.app.migrate.lambda_handler"
ROTATE_HANDLER: Final = "csms.app.rotate.lambda_handler"
SERVICE_NAME: Final = PROJECT


def function_handler(name: str) -> str:
    """Lambda handler string of ``functions/<name>/handler.py``.

    The code asset holds ``functions/`` as a namespace package next to ``csms/``, so the
    runtime imports ``functions.<name>.handler``.
    """
    return f"{FUNCTIONS_DIR}/{name}/handler.lambda_handler"


def metrics_namespace(stage: str) -> str:
    """CloudWatch namespace of the product's metrics; one per stage keeps dev out of prod graphs."""
    return f"Csms/{stage}"


class Metric:
    """Custom metrics the dashboard graphs and alarms watch (Powertools EMF, dimension ``service``).

    The scheduled function emits them: the gauges from its ``fleet-gauges`` job once a minute,
    the count from its ``command-timeouts`` sweep (``csms.app.scheduled``). A rename here
    must go together with the code that emits them (``tests/infra`` runs those jobs and
    compares the names).
    """

    CHARGERS_ONLINE: Final = "ChargersOnline"
    OPEN_TRANSACTIONS: Final = "OpenTransactions"
    #: Count of commands the sweeper timed out (charger gave no answer by the deadline).
    COMMANDS_TIMED_OUT: Final = "CommandsTimedOut"
    #: Domain events the event-delivery job gave up publishing (now in the dead-letter queue).
    EVENTS_DEAD_LETTERED: Final = "EventsDeadLettered"
    #: Domain events that could not even be recorded (a connect/disconnect whose database
    #: write failed): lost, so an alarm fires on the first.
    EVENTS_NOT_RECORDED: Final = "EventsNotRecorded"
    #: PostgreSQL could not be reached or did not answer in time (any function): chargers got
    #: InternalError, operators 503 (csms.app.wiring counts every StorageUnavailable).
    DATABASE_UNAVAILABLE: Final = "DatabaseUnavailable"
    #: Handshakes refused for identity (unknown id, missing or wrong password) by connect.
    CHARGER_LOGIN_FAILURES: Final = "ChargerLoginFailures"
    #: Handshakes refused because their station id or address used up its failures (ADR 0023).
    CHARGER_LOGINS_LOCKED_OUT: Final = "ChargerLoginsLockedOut"
    #: REST requests refused with 429 (per-tenant or per-principal limit).
    API_REQUESTS_THROTTLED: Final = "ApiRequestsThrottled"
    #: Frames refused (InternalError) or connections closed because a station flooded.
    FRAMES_THROTTLED: Final = "FramesThrottled"
    #: Recorded events not yet on the bus (gauge from the event-delivery job).
    EVENT_BACKLOG: Final = "EventBacklog"
    #: Powertools Metrics adds ``service=<service name>`` to every metric it emits.
    DIMENSIONS: Final = {"service": SERVICE_NAME}


# --- Front door ---------------------------------------------------------------------------
#: CloudFront Functions see header names in lower case only.
CF_CHARGE_POINT_ID_HEADER: Final = CHARGE_POINT_ID_HEADER.lower()
CF_ORIGIN_VERIFY_HEADER: Final = ORIGIN_VERIFY_HEADER.lower()
ORIGIN_VERIFY_HEADER_NAME: Final = ORIGIN_VERIFY_HEADER
OCPP_PATH: Final = OCPP_PATH_PREFIX


def charger_url(host: str) -> str:
    """The URL a charger is configured with (``{chargePointId}`` stays a placeholder)."""
    return f"wss://{host}{OCPP_PATH_PREFIX}{{chargePointId}}"


def websocket_api_name(stage: str) -> str:
    return f"{PROJECT}-{stage}-chargers"


# --- Console live updates (ADR 0025) -----------------------------------------------------------
#: The stage of the operators' live WebSocket API: ``wss://{api}.execute-api.{region}.../live``.
LIVE_STAGE_NAME: Final = LIVE_STAGE


def live_api_name(stage: str) -> str:
    return f"{PROJECT}-{stage}-console-live"


def live_queue_name(stage: str) -> str:
    """Every domain event on its way to the consoles' fan-out (batches of up to a second)."""
    return f"{PROJECT}-{stage}-console-live"


# --- Operator REST API -------------------------------------------------------------------
#: Everything the operator API serves lives under these paths (see ``csms.api``).
API_BASE_PATH: Final = API_PREFIX
#: Paths the API serves without a token (GET only): health, Swagger UI, OpenAPI document.
PUBLIC_API_PATHS: Final = tuple(sorted(PUBLIC_PATHS))
#: The deep health check (a token needed), a child of the public health path.
DEEP_HEALTH_PATH: Final = DEEP_HEALTH_API_PATH
#: Errors are RFC 9457 problem details, from the function and from the gateway alike.
PROBLEM_CONTENT_TYPE: Final = PROBLEM_JSON
#: Cognito custom attributes behind the claims ``csms.api.auth`` reads (``custom:<name>``).
TENANT_ATTRIBUTE: Final = TENANT_CLAIM.removeprefix("custom:")
ROLE_ATTRIBUTE: Final = ROLE_CLAIM.removeprefix("custom:")
ROLES: Final = tuple(role.value for role in Role)


def rest_api_name(stage: str) -> str:
    return f"{PROJECT}-{stage}-operator-api"


def user_pool_name(stage: str) -> str:
    return f"{PROJECT}-{stage}-operators"


# --- Commands and scheduled jobs ---------------------------------------------------------
def commands_queue_name(stage: str) -> str:
    """The FIFO queue that triggers command delivery (FIFO names must end in ``.fifo``)."""
    return f"{PROJECT}-{stage}-commands.fifo"


def commands_dead_letter_queue_name(stage: str) -> str:
    """A FIFO queue's dead-letter queue must be FIFO too."""
    return f"{PROJECT}-{stage}-commands-dlq.fifo"


def schedule_group_name(stage: str) -> str:
    """EventBridge Scheduler group of one stage; schedules in it are named after the job."""
    return f"{PROJECT}-{stage}"


#: The scheduled jobs, defined once in :mod:`csms.schedules` (``csms dev`` runs the same).
JOBS: Final[tuple[Schedule, ...]] = tuple(SCHEDULES)
#: The key of the event ``functions/scheduled`` receives: ``{"job": <schedule name>}``.
JOB_INPUT_KEY: Final = "job"


def job_input(job: Schedule) -> dict[str, str]:
    """The event a schedule sends to ``functions/scheduled`` (``csms.app.scheduled.handle``)."""
    return {JOB_INPUT_KEY: job.name}


# --- Domain events ------------------------------------------------------------------------
def event_bus_name(stage: str) -> str:
    """The EventBridge bus of one stage's domain events (integrators subscribe with rules)."""
    return f"{PROJECT}-{stage}-events"


def events_parking_queue_name(stage: str) -> str:
    """Events PostgreSQL could not record when they happened, until the event-delivery job does."""
    return f"{PROJECT}-{stage}-events-parked"


def load_triggers_queue_name(stage: str) -> str:
    """The domain events that reallocate a site, for the scheduled function (ADR 0024 §3)."""
    return f"{PROJECT}-{stage}-load-triggers"


def events_dead_letter_queue_name(stage: str) -> str:
    """Events the event-delivery job could never publish (an alarm fires on the first)."""
    return f"{PROJECT}-{stage}-events-dlq"


def event_archive_name(stage: str) -> str:
    """The archive of the bus (replay); archive names are unique per account and region."""
    return f"{PROJECT}-{stage}-events"


# --- Operations ---------------------------------------------------------------------------
def dashboard_name(stage: str) -> str:
    return f"{PROJECT}-{stage}"


def alarm_name(stage: str, subject: str) -> str:
    """``csms-dev-message-errors``: alarms sort by stage, then by what they watch."""
    return f"{PROJECT}-{stage}-{subject}"


# --- Database -----------------------------------------------------------------------------
DATABASE_NAME: Final = PROJECT
DATABASE_ADMIN_USER: Final = "csms_admin"
#: The runtime database roles (ADR 0021), by the path that logs in with them: rows only.
DATABASE_ROLES: Final = {"charger": "csms_charger", "operator": "csms_operator"}
#: Where the code asset carries the RDS CA bundle (sslmode=verify-full), relative to its root.
RDS_CA_BUNDLE: Final = "csms/rds-ca-bundle.pem"
#: Days between rotations of the database secrets.
SECRET_ROTATION_DAYS: Final = 30

# --- Custom resources ---------------------------------------------------------------------
MIGRATION_RESOURCE_TYPE: Final = "Custom::CsmsMigration"
