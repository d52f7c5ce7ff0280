"""boto3 clients, created once per process (per Lambda container) and reused.

Endpoints come from boto3's own configuration (``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>``), so moto or LocalStack need no code path of their own.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config

_lock = threading.Lock()
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@cache
def _session(region: str) -> Any:
    return boto3.session.Session(region_name=region)


def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """A shared, thread-safe boto3 client."""
    with _lock:  # boto3 sessions are not thread safe while creating clients
        return _cached_client(service, region, endpoint_url)


@cache
def _cached_client(service: str, region: str, endpoint_url: str | None) -> Any:
    return _session(region).client(service, endpoint_url=endpoint_url, config=_CONFIG)


def database_url_from_secret(secret_arn: str, region: str, host: str | None = None) -> str:
    """A SQLAlchemy URL from an RDS-style Secrets Manager secret (``host`` overrides its host)."""
    secret = json.loads(
        client("secretsmanager", region).get_secret_value(SecretId=secret_arn)["SecretString"]
    )
    user = quote(secret["username"], safe="")
    password = quote(secret["password"], safe="")
    host, port = host or secret["host"], secret.get("port", 5432)
    dbname = secret.get("dbname", "postgres")
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{dbname}?sslmode=require"
