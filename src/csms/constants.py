"""Names shared by the functions, the local stack and the CDK app.

Anything that both ``infra/`` and ``src/csms`` must agree on lives here, so a rename
happens in one place.
"""

from typing import Final

#: The OCPP-J subprotocols (WebSocket subprotocol names) of the versions we speak.
OCPP16: Final = "ocpp1.6"
OCPP201: Final = "ocpp2.0.1"
#: What we offer a station, best first: a station offering both gets 2.0.1.
SUPPORTED_SUBPROTOCOLS: Final = (OCPP201, OCPP16)

#: Header in which the front door (CloudFront Function in AWS, the gateway emulator
#: locally) passes the charge point id taken from the URL path ``/ocpp/{chargePointId}``.
CHARGE_POINT_ID_HEADER: Final = "X-Csms-Charge-Point-Id"

#: Header carrying the shared secret that only the front door knows. ``$connect`` trusts
#: CHARGE_POINT_ID_HEADER only when this header matches, so a client that connects to the
#: execute-api URL directly cannot claim another charger's identity.
ORIGIN_VERIFY_HEADER: Final = "X-Csms-Origin-Verify"

#: CloudFront's header with the viewer's address and port (``198.51.100.7:46532``), forwarded
#: by the origin request policy. Trusted only next to ORIGIN_VERIFY_HEADER (ADR 0023).
VIEWER_ADDRESS_HEADER: Final = "CloudFront-Viewer-Address"

#: URL path prefix chargers connect to: ``wss://host/ocpp/{chargePointId}``.
OCPP_PATH_PREFIX: Final = "/ocpp/"

#: API Gateway WebSocket limits (see docs: "Quotas for WebSocket APIs").
MAX_FRAME_BYTES: Final = 32 * 1024
MAX_MESSAGE_BYTES: Final = 128 * 1024
IDLE_TIMEOUT_SECONDS: Final = 10 * 60
MAX_CONNECTION_SECONDS: Final = 2 * 60 * 60

#: OCPP says the charger decides, but API Gateway closes idle sockets after 10 minutes,
#: so we never hand out an interval that would let the connection idle out.
MAX_HEARTBEAT_INTERVAL_SECONDS: Final = 300

DEFAULT_TENANT: Final = "default"

#: How long each function's units of work may wait for PostgreSQL, where the frame path's
#: defaults (a 5 s statement, a 6 s unit of work: csms.settings) are too short: the operator
#: API's reports (under API Gateway's 29 s) and the scheduled jobs' housekeeping (under the
#: function's 60 s). (statement timeout in ms, stall timeout in s.)
DATABASE_BOUNDS: Final = {"api": (20_000, 25.0), "scheduled": (50_000, 55.0)}

#: Function names (directories under ``functions/``) and their API Gateway route keys.
ROUTE_FUNCTIONS: Final = {"$connect": "connect", "$default": "message", "$disconnect": "disconnect"}

#: The verified token claims the REST API trusts (Cognito custom attributes; the local stack's
#: tokens carry the same): the operator's tenant and role, and the groups that may carry a role.
TENANT_CLAIM: Final = "custom:tenant"
ROLE_CLAIM: Final = "custom:role"
GROUPS_CLAIM: Final = "cognito:groups"

# --- Console live updates (ADR 0025) ---------------------------------------------------------
#: Where the console's live WebSocket is served: ``csms dev`` at ``ws://host:port/live``; on AWS
#: the operators' WebSocket API's stage of this name (``wss://{api}.execute-api.{region}.../live``).
LIVE_PATH: Final = "/live"
LIVE_STAGE: Final = "live"
#: The subprotocol the console offers and ``$connect`` echoes.
LIVE_SUBPROTOCOL: Final = "csms.live.v1"
#: The console's token rides as a second offered subprotocol, ``bearer.<JWT>`` (a browser's
#: WebSocket cannot send an Authorization header; a query string would land in access logs).
LIVE_TOKEN_PREFIX: Final = "bearer."
#: Function names (directories under ``functions/``) of the live path: the WebSocket routes (and
#: the $connect authorizer) and the fan-out of domain events to a tenant's consoles.
LIVE_FUNCTION: Final = "live"
FANOUT_FUNCTION: Final = "fanout"
#: The ``live`` function's routes on the operators' WebSocket API.
LIVE_ROUTES: Final = ("$connect", "$default", "$disconnect")
#: The operator console (issue 14): a single-page app under this path, on the API's origin
#: (``csms dev`` locally, CloudFront + S3 on AWS), reading its runtime settings from CONSOLE_CONFIG.
CONSOLE_PATH: Final = "/console/"
CONSOLE_CONFIG: Final = "/console/config.json"
#: Where the console's build writes the hashed, never-changing files (Vite's ``assets/``).
CONSOLE_ASSETS: Final = "/console/assets/"


def console_security_headers(connect_sources: tuple[str, ...] = ()) -> dict[str, str]:
    """The console's response security headers, the same locally and on CloudFront, so a page
    the browser tests pass is one the deployed policy lets run. ``connect_sources``: origins the
    page may call beyond its own (the live-update socket, the Cognito domain's token endpoint).
    Styles allow 'unsafe-inline' because component and chart libraries set style attributes;
    scripts come from the origin only."""
    connect = " ".join(("'self'", *connect_sources))
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; "
        f"connect-src {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
    }
