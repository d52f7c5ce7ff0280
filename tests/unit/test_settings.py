"""Settings: read once from the environment, every problem reported together."""

from __future__ import annotations

from pathlib import Path

import pytest

from csms.settings import Settings, SettingsError, env_vars, get_settings, spec


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_env({})

    assert settings == Settings()
    assert settings.heartbeat_interval == 300
    assert settings.connections_table == "csms-connections"
    assert settings.aws_region == "us-east-1"
    assert settings.database_url is None
    assert settings.data_transfer_vendors == ()
    assert settings.log_format == "json"


def test_variables_are_prefixed_and_typed() -> None:
    settings = Settings.from_env(
        {
            "CSMS_HEARTBEAT_INTERVAL": "60",
            "CSMS_ALLOW_UNKNOWN_CHARGERS": "true",
            "CSMS_TRACING": "0",
            "CSMS_STUCK_TRANSACTION_IDLE_HOURS": "1.5",
            "CSMS_STATE_DIR": "/var/lib/csms",
            "CSMS_METER_RETENTION_DAYS": "400",
            "CSMS_LOG_FORMAT": "console",
        }
    )

    assert settings.heartbeat_interval == 60
    assert settings.allow_unknown_chargers is True
    assert settings.tracing is False
    assert settings.stuck_transaction_idle_hours == 1.5
    assert settings.state_dir == Path("/var/lib/csms")
    assert settings.meter_retention_days == 400
    assert settings.log_format == "console"


@pytest.mark.parametrize(
    ("raw", "expected"), [("yes", True), ("On", True), ("1", True), ("off", False), ("N", False)]
)
def test_booleans_read_the_usual_spellings(raw: str, expected: bool) -> None:
    assert Settings.from_env({"CSMS_ALLOW_UNKNOWN_CHARGERS": raw}).allow_unknown_chargers is expected


def test_names_match_whatever_their_case_and_empty_means_unset() -> None:
    settings = Settings.from_env(
        {"csms_heartbeat_interval": "120", "CSMS_METER_RETENTION_DAYS": " ", "DATABASE_URL": ""}
    )

    assert settings.heartbeat_interval == 120
    assert settings.meter_retention_days == 90  # the default, as if the variable were absent
    assert settings.database_url is None


def test_the_standard_names_come_first_and_the_first_one_set_wins() -> None:
    assert env_vars("database_url") == ("DATABASE_URL", "CSMS_DATABASE_URL")
    assert env_vars("heartbeat_interval") == ("CSMS_HEARTBEAT_INTERVAL",)

    both = Settings.from_env(
        {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2", "POWERTOOLS_SERVICE_NAME": "x"}
    )
    fallback = Settings.from_env({"AWS_DEFAULT_REGION": "us-west-2", "CSMS_SERVICE_NAME": "y"})

    assert (both.aws_region, both.service_name) == ("eu-west-1", "x")
    assert (fallback.aws_region, fallback.service_name) == ("us-west-2", "y")


@pytest.mark.parametrize(("raw", "expected"), [("60.0", 60), ("120.00", 120), ("+90", 90), ("1_000", 1000)])
def test_a_whole_number_may_be_written_with_a_zero_fraction(raw: str, expected: int) -> None:
    # pydantic-settings read "60.0" as 60: a deployment that sets it so must keep starting
    assert Settings.from_env({"CSMS_COMMAND_TIMEOUT_SECONDS": raw}).command_timeout_seconds == expected


@pytest.mark.parametrize("raw", ["60.5", "60.", ".0", "6e1", "0x3c"])
def test_a_number_with_a_fraction_is_not_a_whole_number(raw: str) -> None:
    with pytest.raises(SettingsError, match=r"CSMS_COMMAND_TIMEOUT_SECONDS=.*: expected a whole number"):
        Settings.from_env({"CSMS_COMMAND_TIMEOUT_SECONDS": raw})


@pytest.mark.parametrize(
    ("variable", "why"),
    [
        ("CSMS_STUCK_TRANSACTION_IDLE_HOURS", "must be more than 0"),
        ("CSMS_REBOOT_GRACE_MINUTES", "must be at least 0"),
    ],
)
def test_nan_is_outside_every_bound(variable: str, why: str) -> None:
    # float("nan") compares False with everything: it must not slip through the bounds
    with pytest.raises(SettingsError, match=f"{variable}='nan': {why}"):
        Settings.from_env({variable: "nan"})
    with pytest.raises(SettingsError, match="reboot_grace_minutes: must be at least 0"):
        Settings(reboot_grace_minutes=float("nan"))


def test_a_list_is_comma_separated() -> None:
    settings = Settings.from_env({"CSMS_DATA_TRANSFER_VENDORS": " com.acme, org.example ,,"})

    assert settings.data_transfer_vendors == ("com.acme", "org.example")


def test_every_invalid_variable_is_named_in_one_error() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            {
                "CSMS_HEARTBEAT_INTERVAL": "5",
                "CSMS_TRACING": "maybe",
                "CSMS_LOG_FORMAT": "xml",
                "CSMS_DATABASE_POOL_SIZE": "two",
                "CSMS_STUCK_TRANSACTION_IDLE_HOURS": "0",
            }
        )

    assert sorted(raised.value.problems) == [
        "CSMS_DATABASE_POOL_SIZE='two': expected a whole number",
        "CSMS_HEARTBEAT_INTERVAL='5': must be at least 10",
        "CSMS_LOG_FORMAT='xml': must be one of json, console",
        "CSMS_STUCK_TRANSACTION_IDLE_HOURS='0': must be more than 0",
        "CSMS_TRACING='maybe': expected a boolean (true/false, 1/0, yes/no, on/off)",
    ]


def test_values_given_in_code_are_checked_like_the_environment() -> None:
    assert Settings(meter_retention_days=30).meter_retention_days == 30
    with pytest.raises(SettingsError, match="heartbeat_interval: must be at most"):
        Settings(heartbeat_interval=100_000)
    with pytest.raises(SettingsError, match="tracing: must be bool, not str"):
        Settings(tracing="yes")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="connections_table: must be set"):
        Settings(connections_table=None)  # type: ignore[arg-type]


def test_settings_are_frozen_and_do_not_show_secrets() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://csms:hunter2@db/csms", origin_verify_secret="s3cret"
    )

    with pytest.raises(AttributeError):
        settings.heartbeat_interval = 10  # type: ignore[misc]
    assert "hunter2" not in repr(settings)
    assert "s3cret" not in repr(settings)


def test_bounds_and_meaning_are_declared_with_the_field() -> None:
    declared = spec("command_timeout_seconds")

    assert (declared.ge, declared.le) == (5, 3600)
    assert "charger" in declared.doc
    with pytest.raises(KeyError):
        spec("no_such_setting")


def test_the_process_reads_its_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSMS_HEARTBEAT_INTERVAL", "90")
    get_settings.cache_clear()
    try:
        first = get_settings()
        monkeypatch.setenv("CSMS_HEARTBEAT_INTERVAL", "120")

        assert get_settings() is first
        assert first.heartbeat_interval == 90
    finally:
        get_settings.cache_clear()


def test_every_field_has_a_type_the_environment_can_set() -> None:
    import typing

    simple = {str, int, float, bool, Path}
    for name, kind in typing.get_type_hints(Settings).items():
        members = [arg for arg in typing.get_args(kind) if arg is not type(None)] or [kind]
        (inner,) = members if len(members) == 1 else (kind,)
        origin = typing.get_origin(inner)
        assert inner in simple or origin is typing.Literal or inner == tuple[str, ...], (
            f"{name}: {kind} needs a branch in csms.settings._parse and _check"
        )


def test_the_cli_names_an_invalid_variable_instead_of_a_traceback() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "CSMS_HEARTBEAT_INTERVAL": "5", "CSMS_TRACING": "maybe"}
    done = subprocess.run(
        [sys.executable, "-m", "csms.cli", "run-job", "liveness"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "CSMS_HEARTBEAT_INTERVAL='5': must be at least 10" in done.stderr
    assert "CSMS_TRACING='maybe'" in done.stderr
