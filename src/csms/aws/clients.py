"""AWS clients, created once per process (per Lambda container) and reused.

:func:`client` gives boto3 clients. :func:`lean` gives the clients of :mod:`csms.aws.signed`
for the calls the WebSocket functions make on every frame (DynamoDB, @connections) and at
cold start (Secrets Manager): same calling convention, a fraction of the CPU per call, and
no boto3 import. Endpoints come from the standard configuration (``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>``) for both, so moto or LocalStack need no code path of their own.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import Any
from urllib.parse import quote

_lock = threading.Lock()


@cache
def _session(region: str) -> Any:
    import boto3  # imported on first use: ~200 ms the WebSocket functions do not pay

    return boto3.session.Session(region_name=region)


def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """A shared, thread-safe boto3 client."""
    with _lock:  # boto3 sessions are not thread safe while creating clients
        return _cached_client(service, region, endpoint_url)


@cache
def _cached_client(service: str, region: str, endpoint_url: str | None) -> Any:
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return _session(region).client(service, endpoint_url=endpoint_url, config=config)


def lean(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """A shared lean client (``dynamodb``, ``apigatewaymanagementapi``, ``secretsmanager``,
    ``events``)
    with the boto3 client's calling convention; see :mod:`csms.aws.signed`."""
    with _lock:
        return _cached_lean(service, region, endpoint_url)


@cache
def _cached_lean(service: str, region: str, endpoint_url: str | None) -> Any:
    from csms.aws import signed

    if service == "dynamodb":
        return signed.DynamoDB(region, endpoint_url)
    if service == "secretsmanager":
        return signed.SecretsManager(region, endpoint_url)
    if service == "events":
        return signed.EventBridge(region, endpoint_url)
    if service == "apigatewaymanagementapi":
        if endpoint_url is None:
            raise ValueError("the @connections client needs the stage's endpoint URL")
        return signed.ApiGatewayManagement(region, endpoint_url)
    raise ValueError(f"no lean client for {service!r}: use client()")


def secret_value(secret_arn: str, region: str, stage: str | None = None) -> dict[str, Any]:
    """An RDS-style secret's JSON (``stage``: a version stage, AWSCURRENT when None)."""
    request: dict[str, Any] = {"SecretId": secret_arn}
    if stage:
        request["VersionStage"] = stage
    found: dict[str, Any] = json.loads(
        lean("secretsmanager", region).get_secret_value(**request)["SecretString"]
    )
    return found


def database_url_from_secret(
    secret_arn: str, region: str, host: str | None = None, ca_file: str | None = None
) -> str:
    """A SQLAlchemy URL from an RDS-style Secrets Manager secret (``host`` overrides its host).

    With ``ca_file`` (the RDS CA bundle the code asset ships) the server's certificate and
    name are verified (``verify-full``); without it the connection is encrypted but the
    server is not authenticated (``require``: an external database whose CA we do not ship).
    """
    return database_url(secret_value(secret_arn, region), host=host, ca_file=ca_file)


def database_url(
    secret: dict[str, Any], *, host: str | None = None, ca_file: str | None = None, sslmode: str | None = None
) -> str:
    """The URL of an RDS-style secret's database: ``verify-full`` against ``ca_file`` when
    given, else ``require``; ``sslmode`` overrides both (tests against a local server)."""
    user = quote(secret["username"], safe="")
    password = quote(secret["password"], safe="")
    host, port = host or secret["host"], secret.get("port", 5432)
    dbname = secret.get("dbname", "postgres")
    if sslmode:
        tls = f"sslmode={sslmode}"
    elif ca_file:
        tls = f"sslmode=verify-full&sslrootcert={quote(ca_file, safe='/')}"
    else:
        tls = "sslmode=require"
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{dbname}?{tls}"
