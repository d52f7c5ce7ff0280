"""Lean clients for the AWS calls the WebSocket functions make on every frame.

The ``$default`` function makes two AWS calls per frame (DynamoDB ``UpdateItem`` and the
``@connections`` POST), ``$connect`` and ``$disconnect`` two each. Through boto3 each costs
about 1 ms of CPU in botocore's generic request pipeline (parameter validation, event hooks,
endpoint rules, serialisation, parsing) and the functions pay ~250 ms of cold start to
import boto3 and build its clients. These clients send the same requests themselves: the
wire format is DynamoDB's own JSON (the low-level client's keyword arguments *are* the
request body) and the @connections REST calls, signed with Signature Version 4 on a
kept-alive HTTPS connection per thread. That is ~0.25 ms per call and ~30 ms to import.

They are duck-type compatible with the boto3 clients for what the adapters use
(``client.update_item(**kwargs)``, ``client.exceptions.ConditionalCheckFailedException``,
``post_to_connection(ConnectionId=..., Data=...)``), so the adapters and their tests work
with either. Everything else in the product keeps using boto3.

Configuration follows boto3's: credentials from ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` (what Lambda sets), else botocore's
credential chain (profiles, SSO, instance roles: imported only then); endpoints from
``AWS_ENDPOINT_URL_<SERVICE>`` / ``AWS_ENDPOINT_URL``, else the regional endpoint. Retries
follow botocore's "standard" mode: 3 attempts with jittered exponential backoff on
connection errors, 5xx answers and throttling.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, Final, NamedTuple
from urllib.parse import quote, urlsplit

import csms

MAX_ATTEMPTS: Final = 3
CONNECT_TIMEOUT: Final = 2.0
READ_TIMEOUT: Final = 5.0
_MAX_BACKOFF: Final = 20.0
_RETRYABLE_STATUS: Final = frozenset({500, 502, 503, 504})
#: botocore's standard-mode throttling codes (plus DynamoDB's and @connections' own).
_THROTTLING: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
_USER_AGENT: Final = f"csms/{csms.__version__} (lean-sigv4)"


# --- credentials ------------------------------------------------------------------------------


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None = None


CredentialSource = Callable[[], Credentials]


def default_credentials() -> CredentialSource:
    """Lambda's environment credentials, else botocore's chain (refreshed as botocore does)."""
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        static = Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
        return lambda: static
    import botocore.session  # only off Lambda: profiles, SSO, container and instance roles

    resolved = botocore.session.get_session().get_credentials()
    if resolved is None:
        raise RuntimeError("no AWS credentials found")

    def frozen() -> Credentials:
        current = resolved.get_frozen_credentials()
        return Credentials(current.access_key, current.secret_key, current.token)

    return frozen


def endpoint_for(service_id: str, region: str, hostname_prefix: str) -> str:
    """``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, else the regional endpoint."""
    configured = os.environ.get(f"AWS_ENDPOINT_URL_{service_id.upper()}") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    if configured:
        return configured.rstrip("/")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{hostname_prefix}.{region}.{suffix}"


# --- Signature Version 4 -----------------------------------------------------------------------


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


@lru_cache(maxsize=16)
def _signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    """SigV4's derived key: valid for a day, so computed once per day and service."""
    return _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request")


def sign(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    service: str,
    region: str,
    credentials: Credentials,
    now: datetime | None = None,
) -> dict[str, str]:
    """``headers`` plus ``X-Amz-Date``, ``X-Amz-Security-Token`` and ``Authorization``.

    Every header passed in is signed, with ``host``. The path is URI-encoded twice, as
    SigV4 wants for every service but S3; the query string is not supported (not needed).
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None and not (
        (parts.scheme == "https" and parts.port == 443) or (parts.scheme == "http" and parts.port == 80)
    ):
        host = f"{host}:{parts.port}"
    signed = {**headers, "X-Amz-Date": amz_date}
    if credentials.token:
        signed["X-Amz-Security-Token"] = credentials.token
    canonical_headers = {name.lower(): " ".join(value.split()) for name, value in signed.items()}
    canonical_headers["host"] = host
    names = sorted(canonical_headers)
    canonical_request = "\n".join(
        [
            method,
            quote(parts.path or "/", safe="/~"),
            "",
            "".join(f"{name}:{canonical_headers[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    key = _signing_key(credentials.secret_key, day, region, service)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    signed["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return signed


# --- errors -----------------------------------------------------------------------------------


class AwsError(Exception):
    """An error answer from AWS; subclasses are named after the error code (like botocore's
    modelled exceptions), and ``response`` has botocore's ``ClientError`` shape."""

    def __init__(self, code: str, message: str, status: int, operation: str) -> None:
        super().__init__(f"An error occurred ({code}) when calling the {operation} operation: {message}")
        self.code = code
        self.status = status
        self.response = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        self.operation_name = operation


class ErrorClasses:
    """``client.exceptions``: one :class:`AwsError` subclass per code, made on first use."""

    def __init__(self) -> None:
        self._classes: dict[str, type[AwsError]] = {}
        self._lock = threading.Lock()

    def __getattr__(self, code: str) -> type[AwsError]:
        if code.startswith("_"):
            raise AttributeError(code)
        return self.of(code)

    def of(self, code: str) -> type[AwsError]:
        with self._lock:
            found = self._classes.get(code)
            if found is None:
                found = self._classes[code] = type(code, (AwsError,), {})
            return found


# --- transport ------------------------------------------------------------------------------------


class _Response(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes


@cache
def tls_context() -> ssl.SSLContext:
    """The process's one client TLS context, made on the first HTTPS connection.

    Making one loads the system's CA bundle (~40 ms of CPU on the benchmark machine), so the
    clients of a function share it instead of each paying for it while the function starts.
    (Two threads racing on the first call may each make one; one of them is kept.)
    """
    return ssl.create_default_context()


class SignedHttp:
    """SigV4-signed requests to one AWS endpoint over one kept-alive connection per thread."""

    def __init__(
        self,
        endpoint: str,
        *,
        service: str,
        region: str,
        credentials: CredentialSource,
        max_attempts: int = MAX_ATTEMPTS,
        read_timeout: float = READ_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {endpoint!r}")
        self.endpoint = endpoint.rstrip("/")
        self.base_path = parts.path.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._service = service
        self._region = region
        self._credentials = credentials
        self._max_attempts = max_attempts
        self._read_timeout = read_timeout
        self._sleep = sleep
        self._local = threading.local()
        self.exceptions = ErrorClasses()

    def request(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        *,
        operation: str,
        error_code: Callable[[_Response], tuple[str, str]],
    ) -> _Response:
        """Send with retries; return a 2xx answer or raise the coded :class:`AwsError`."""
        url = f"{self.endpoint}{path}"
        for attempt in range(1, self._max_attempts + 1):
            signed = sign(
                method,
                url,
                headers,
                body,
                service=self._service,
                region=self._region,
                credentials=self._credentials(),
            )
            signed["User-Agent"] = _USER_AGENT
            try:
                response = self._send(method, self.base_path + path, body, signed)
            except (OSError, http.client.HTTPException):
                # Connection refused/reset, a keep-alive connection the server had closed
                # (common after a Lambda freeze), or a timeout: retried like botocore does.
                self._drop_connection()
                if attempt == self._max_attempts:
                    raise
                self._backoff(attempt)
                continue
            if 200 <= response.status < 300:
                return response
            code, message = error_code(response)
            retryable = response.status in _RETRYABLE_STATUS or code in _THROTTLING
            if not retryable or attempt == self._max_attempts:
                raise self.exceptions.of(code)(code, message, response.status, operation)
            self._backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> _Response:
        connection = self._connection()
        connection.request(method, path or "/", body=body, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        if answer.will_close:
            self._drop_connection()
        return _Response(answer.status, answer.headers, data)

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=CONNECT_TIMEOUT, context=tls_context()
                )
            else:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_TIMEOUT)
            connection.connect()
            if connection.sock is not None:
                connection.sock.settimeout(self._read_timeout)
            self._local.connection = connection
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def _backoff(self, attempt: int) -> None:
        self._sleep(min(_MAX_BACKOFF, random.random() * (2**attempt)))  # noqa: S311 (jitter)


# --- JSON-protocol services (DynamoDB, Secrets Manager) -------------------------------------


def _json_error(response: _Response) -> tuple[str, str]:
    try:
        payload = json.loads(response.body or b"{}")
    except ValueError:
        payload = {}
    code = str(payload.get("__type", "")).rsplit("#", 1)[-1] or f"Http{response.status}"
    message = str(payload.get("message") or payload.get("Message") or "")
    return code, message


class JsonService:
    """An AWS JSON-protocol service with the low-level boto3 client's calling convention:
    ``client.update_item(TableName=..., Key={...})`` returns the answer's JSON as a dict.
    Any operation name works (``query``, ``get_item``, ``describe_table``...); values are
    passed as they are (DynamoDB JSON, ``{"S": "..."}``; binary values are not converted)."""

    service = ""
    #: The botocore service id, as in ``AWS_ENDPOINT_URL_<ID>`` (defaults to ``service``).
    service_id = ""
    target_prefix = ""
    json_version = "1.0"
    max_attempts = MAX_ATTEMPTS
    read_timeout = READ_TIMEOUT

    def __init__(
        self, region: str, endpoint_url: str | None = None, credentials: CredentialSource | None = None
    ) -> None:
        self._http = SignedHttp(
            endpoint_url or endpoint_for(self.service_id or self.service, region, self.service),
            service=self.service,
            region=region,
            credentials=credentials or default_credentials(),
            max_attempts=self.max_attempts,
            read_timeout=self.read_timeout,
        )
        self.exceptions = self._http.exceptions
        self._content_type = f"application/x-amz-json-{self.json_version}"

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """One operation (``UpdateItem``...) with its JSON request."""
        body = json.dumps(params, separators=(",", ":")).encode("utf-8")
        response = self._http.request(
            "POST",
            "/",
            body,
            {"Content-Type": self._content_type, "X-Amz-Target": f"{self.target_prefix}.{operation}"},
            operation=operation,
            error_code=_json_error,
        )
        result: dict[str, Any] = json.loads(response.body) if response.body else {}
        return result

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        operation = "".join(part.capitalize() for part in name.split("_"))
        return lambda **params: self.call(operation, params)


class DynamoDB(JsonService):
    service = "dynamodb"
    target_prefix = "DynamoDB_20120810"
    json_version = "1.0"


class SecretsManager(JsonService):
    service = "secretsmanager"
    target_prefix = "secretsmanager"
    json_version = "1.1"


class EventBridge(JsonService):
    """Publishing domain events after a request's answer: one attempt with a short read
    timeout, so an EventBridge outage does not hold every frame's Lambda for the retries.
    The outbox keeps what failed and the event-delivery job retries it (ADR 0014)."""

    service = "events"
    service_id = "eventbridge"
    target_prefix = "AWSEvents"
    json_version = "1.1"
    max_attempts = 1
    read_timeout = 2.0


# --- API Gateway @connections ---------------------------------------------------------------------


def _connections_error(response: _Response) -> tuple[str, str]:
    code = (response.headers.get("x-amzn-ErrorType") or "").split(":", 1)[0]
    try:
        message = str(json.loads(response.body or b"{}").get("message", ""))
    except ValueError:
        message = ""
    if not code:
        code = {
            403: "ForbiddenException",
            410: "GoneException",
            413: "PayloadTooLargeException",
            429: "LimitExceededException",
        }.get(response.status, f"Http{response.status}")
    return code, message


class ApiGatewayManagement:
    """The ``@connections`` API of one WebSocket stage (``endpoint_url`` =
    ``https://{api}.execute-api.{region}.amazonaws.com/{stage}``), boto3-style."""

    def __init__(self, region: str, endpoint_url: str, credentials: CredentialSource | None = None) -> None:
        self._http = SignedHttp(
            endpoint_url,
            service="execute-api",
            region=region,
            credentials=credentials or default_credentials(),
        )
        self.exceptions = self._http.exceptions

    def _path(self, connection_id: str) -> str:
        return "/@connections/" + quote(connection_id, safe="")

    def post_to_connection(self, *, ConnectionId: str, Data: bytes | str) -> dict[str, Any]:
        data = Data.encode("utf-8") if isinstance(Data, str) else bytes(Data)
        self._http.request(
            "POST",
            self._path(ConnectionId),
            data,
            {},
            operation="PostToConnection",
            error_code=_connections_error,
        )
        return {}

    def delete_connection(self, *, ConnectionId: str) -> dict[str, Any]:
        self._http.request(
            "DELETE",
            self._path(ConnectionId),
            b"",
            {},
            operation="DeleteConnection",
            error_code=_connections_error,
        )
        return {}

    def get_connection(self, *, ConnectionId: str) -> dict[str, Any]:
        """The connection's description as boto3 returns it (``ConnectedAt``, ``LastActiveAt``
        as datetimes, ``Identity`` with ``SourceIp`` and ``UserAgent``); ``GoneException``
        when API Gateway no longer knows it."""
        response = self._http.request(
            "GET",
            self._path(ConnectionId),
            b"",
            {},
            operation="GetConnection",
            error_code=_connections_error,
        )
        payload = json.loads(response.body or b"{}")
        described: dict[str, Any] = {}
        for wire, name in (("connectedAt", "ConnectedAt"), ("lastActiveAt", "LastActiveAt")):
            value = payload.get(wire)
            if isinstance(value, int | float):
                described[name] = datetime.fromtimestamp(value, UTC)
            elif value:
                described[name] = datetime.fromisoformat(str(value))
        identity = payload.get("identity")
        if isinstance(identity, dict):
            described["Identity"] = {
                key: identity[wire]
                for wire, key in (("sourceIp", "SourceIp"), ("userAgent", "UserAgent"))
                if identity.get(wire) is not None
            }
        return described
