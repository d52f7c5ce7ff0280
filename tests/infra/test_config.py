"""Stage settings from CDK context: per-stage defaults, CLI strings, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from csms_infra.config import ConfigError, StageConfig

from .support import CERTIFICATE_ARN, CUSTOM_DOMAIN, EXTERNAL_SECRET_ARN

pytestmark = pytest.mark.infra


def config_from(**context: Any) -> StageConfig:
    if context.get("stage") == "prod" and "certificate_arn" not in context:
        # prod requires a custom domain (TLS 1.2): see test_prod_requires_a_custom_domain_certificate
        context = {"domain_name": CUSTOM_DOMAIN, "certificate_arn": CERTIFICATE_ARN, **context}
    return StageConfig.from_mapping(context.get)


def test_prod_requires_a_custom_domain_certificate() -> None:
    # (the default *.cloudfront.net certificate accepts TLS 1.0: issue 13)
    with pytest.raises(ConfigError, match="prod needs domain_name and certificate_arn"):
        StageConfig.from_mapping({"stage": "prod"}.get)
    assert config_from().certificate_arn == ""  # dev may use the default certificate


def test_prod_reserves_concurrency_and_rate_limits_addresses_by_default() -> None:
    dev, prod = config_from(), config_from(stage="prod")
    assert (dev.reserved_concurrency, dev.waf_api_rate_limit) == (False, 0)
    assert (prod.reserved_concurrency, prod.waf_api_rate_limit) == (True, 1500)


def test_dev_is_the_default_stage_with_disposable_state() -> None:
    config = config_from()

    assert config.stage == "dev"
    assert not config.is_prod
    assert config.nat_gateways == 1
    assert config.db_min_acu == 0
    assert not config.skip_bundling
    assert config.removal_policy.name == "DESTROY"


def test_prod_keeps_state_and_pays_for_no_idle_network_or_standby() -> None:
    config = config_from(stage="prod")

    assert config.is_prod
    assert config.removal_policy.name == "RETAIN"
    # ADR 0020: IPv6 egress, no NAT, no interface endpoint, one Aurora writer.
    assert (config.egress, config.nat_gateway_count, config.vpc_endpoints) == ("ipv6", 0, False)
    assert config.db_readers == 0
    assert config.log_retention_days == 90
    # Per-frame logs: sampled app lines, no access log, no Lambda START/REPORT records.
    assert (config.frame_log_sample_rate, config.ws_access_logs, config.system_log_level) == (
        0.01,
        False,
        "WARN",
    )


def test_the_fallbacks_are_one_setting_away() -> None:
    nat = config_from(stage="prod", egress="nat")
    assert (nat.ipv6_egress, nat.nat_gateway_count) == (False, 2)
    assert config_from(stage="prod", db_readers="1").db_readers == 1
    with pytest.raises(ConfigError, match="egress"):
        config_from(egress="ipv4")
    with pytest.raises(ConfigError, match="frame_log_sample_rate"):
        config_from(frame_log_sample_rate="2")


def test_command_line_strings_are_converted() -> None:
    # Given -c values, which the CLI delivers as strings
    config = config_from(
        tracing="true", nat_gateways="0", db_max_acu="8", skip_bundling="true", allow_unknown_chargers="yes"
    )

    assert config.tracing is True
    assert config.nat_gateways == 0
    assert config.db_max_acu == 8.0
    assert config.skip_bundling is True
    assert config.allow_unknown_chargers is True


@pytest.mark.parametrize(
    ("context", "complaint"),
    [
        ({"stage": "staging"}, "stage"),
        ({"tracing": "maybe"}, "true or false"),
        ({"nat_gateways": "two"}, "integer"),
        ({"log_retention_days": 10}, "log_retention_days"),
        ({"domain_name": "ocpp.example.com"}, "certificate_arn"),
        (
            {"domain_name": "ocpp.example.com", "certificate_arn": "arn:aws:acm:eu-west-1:1:certificate/x"},
            "us-east-1",
        ),
        ({"db_min_acu": 8, "db_max_acu": 4}, "db ACUs"),
        ({"rds_proxy": True}, "never pauses"),
        ({"heartbeat_interval": 900}, "10 min"),
        ({"nat_gateways": 3}, "nat_gateways"),
        ({"web_acl_arn_api": "arn:aws:wafv2:us-east-1:1:global/webacl/csms/x"}, "REGIONAL"),
        ({"user_pool_mfa": "sms"}, "user_pool_mfa"),
        ({"alarm_email": "ops"}, "e-mail"),
        ({"api_rate_limit": 0}, "api_rate_limit"),
        ({"db_connections_alarm": -1}, "db_connections_alarm"),
        ({"command_timeout_seconds": 4}, "command_timeout_seconds"),
        ({"command_timeout_seconds": "3601"}, "command_timeout_seconds"),
        ({"command_expiry_seconds": 9}, "command_expiry_seconds"),
        ({"command_expiry_seconds": "604801"}, "command_expiry_seconds"),
        ({"events_archive_days": -1}, "events_archive_days"),
        # a partial ARN (no -XXXXXX suffix) or something else entirely
        (
            {"external_database_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"},
            "complete",
        ),
        ({"external_database_secret_arn": "csms/timescale"}, "complete"),
        ({"external_database_secret_arn": EXTERNAL_SECRET_ARN, "rds_proxy": True, "db_min_acu": 1}, "Aurora"),
        ({"external_database_host": "db.example.com"}, "set both"),
    ],
)
def test_inconsistent_context_is_refused_with_the_reason(context: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        config_from(**context)


def test_the_operator_api_and_operations_knobs_have_stage_defaults() -> None:
    dev, prod = config_from(), config_from(stage="prod")

    assert (dev.api_rate_limit, dev.api_burst_limit) == (50, 100)
    assert (prod.api_rate_limit, prod.api_burst_limit) == (500, 1000)
    assert dev.user_pool_mfa == prod.user_pool_mfa == "optional"
    assert (dev.user_pool_threat_protection, prod.user_pool_threat_protection) == (False, True)
    assert dev.web_acl_arn_api == dev.alarm_email == ""


@pytest.mark.parametrize(
    ("context", "max_connections", "threshold"),
    [
        ({}, 901, 720),  # 4 ACU, ~2 GiB each
        ({"stage": "prod"}, 2000, 1600),  # 16 ACU, but min 0.5 ACU caps it at 2000
        ({"db_min_acu": 1, "db_max_acu": 64, "rds_proxy": True}, 5000, 4000),  # Aurora's ceiling
        ({"db_connections_alarm": "300"}, 901, 300),  # given explicitly
    ],
)
def test_the_connections_alarm_follows_the_estimated_max_connections(
    context: dict[str, Any], max_connections: int, threshold: int
) -> None:
    config = config_from(**context)

    assert config.db_max_connections == max_connections
    assert config.db_connections_alarm_threshold == threshold


def test_the_command_timeout_defaults_to_a_minute_within_the_bounds_the_code_accepts() -> None:
    from csms.settings import spec
    from csms_infra.config import COMMAND_TIMEOUT_RANGE

    declared = spec("command_timeout_seconds")

    assert (declared.ge, declared.le) == COMMAND_TIMEOUT_RANGE
    assert config_from().command_timeout_seconds == config_from(stage="prod").command_timeout_seconds == 60
    assert config_from(command_timeout_seconds="120").command_timeout_seconds == 120


def test_commands_wait_15_minutes_for_their_station_within_the_bounds_the_code_accepts() -> None:
    from csms.settings import spec
    from csms_infra.config import COMMAND_EXPIRY_RANGE

    declared = spec("command_expiry_seconds")

    assert (declared.ge, declared.le) == COMMAND_EXPIRY_RANGE
    assert config_from().command_expiry_seconds == config_from(stage="prod").command_expiry_seconds == 900
    assert config_from(command_expiry_seconds="86400").command_expiry_seconds == 86_400


def test_the_event_archive_keeps_a_month_in_dev_and_a_quarter_in_prod() -> None:
    assert config_from().events_archive_days == 30
    assert config_from(stage="prod").events_archive_days == 90
    assert config_from(events_archive_days="0").events_archive_days == 0  # EventBridge: keep forever


def test_aurora_is_the_default_and_an_external_secret_replaces_it() -> None:
    assert config_from().uses_aurora
    assert config_from(stage="prod").uses_aurora

    external = config_from(stage="prod", external_database_secret_arn=f" {EXTERNAL_SECRET_ARN} ")

    assert not external.uses_aurora
    assert external.external_database_secret_arn == EXTERNAL_SECRET_ARN
    assert external.external_database_region == "eu-west-1"
    assert external.external_database_host == ""
