"""The URL the functions build from their database secret verifies the server (issue 13:
sslmode=require encrypted without checking who answers)."""

from __future__ import annotations

from csms.aws.clients import database_url

SECRET = {
    "username": "csms_charger",
    "password": "p@ss/w:rd",
    "host": "db.example",
    "port": 5432,
    "dbname": "csms",
}


def test_with_the_rds_ca_bundle_the_server_is_verified() -> None:
    url = database_url(SECRET, ca_file="/var/task/csms/rds-ca-bundle.pem")
    assert url == (
        "postgresql+psycopg://csms_charger:p%40ss%2Fw%3Ard@db.example:5432/csms"
        "?sslmode=verify-full&sslrootcert=/var/task/csms/rds-ca-bundle.pem"
    )


def test_without_a_bundle_the_connection_is_only_encrypted() -> None:
    assert database_url(SECRET, host="proxy.example").endswith("@proxy.example:5432/csms?sslmode=require")
