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


def database_url_from_secret(secret_arn: str, region: str, host: str | None = None) -> str:
    """A SQLAlchemy URL from an RDS-style Secrets Manager secret (``host`` overrides its host)."""
    secret = json.loads(lean("secretsmanager", region).get_secret_value(SecretId=secret_arn)["SecretString"])
    user = quote(secret["username"], safe="")
    password = quote(secret["password"], safe="")
    host, port = host or secret["host"], secret.get("port", 5432)
    dbname = secret.get("dbname", "postgres")
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{dbname}?sslmode=require"
