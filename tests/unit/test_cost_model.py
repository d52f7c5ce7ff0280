"""The cost model's arithmetic, with unit prices and a fixed message mix."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from csms.cli import main
from csms.cost.model import (
    MIX_PATH,
    PRICES_PATH,
    Assumptions,
    MessageMix,
    Price,
    PriceTable,
    estimate,
    targets,
    traffic,
)

HOURS = 730.0


def unit_prices(**overrides: float) -> PriceTable:
    """Every price 1.0 (so a line's dollars equal its billed quantity in its price unit)."""
    keys = [
        "api_gateway.websocket_messages",
        "api_gateway.websocket_messages_over_1b",
        "api_gateway.connection_minutes",
        "lambda.requests",
        "lambda.arm64_gb_second",
        "dynamodb.write_request_unit",
        "dynamodb.read_request_unit",
        "sqs.fifo_requests",
        "eventbridge.custom_events",
        "eventbridge.scheduler_invocations",
        "aurora.acu_hour",
        "aurora.storage_gb_month",
        "aurora.io_requests",
        "vpc.nat_gateway_hour",
        "vpc.nat_gateway_gb",
        "vpc.interface_endpoint_hour",
        "cloudfront.data_transfer_out_gb",
        "cloudfront.data_transfer_to_origin_gb",
        "cloudfront.https_requests",
        "cloudfront.function_invocations",
        "cloudwatch.logs_ingestion_gb",
        "cloudwatch.logs_storage_gb_month",
        "secrets_manager.secret_month",
        "reference.aws_ocpp_gateway_500",
    ]
    values = {key: 1.0 for key in keys} | {"eventbridge.scheduler_free_invocations": 0.0} | overrides
    return PriceTable({k: Price(v, "unit", "test", "2026-11-21", True) for k, v in values.items()}, HOURS)


def a_mix(**overrides: object) -> MessageMix:
    base = MessageMix(
        per_connection={"BootNotification": 1.0, "StatusNotification": 2.0},
        per_session={
            "StatusNotification": 4.0,
            "Authorize": 1.0,
            "StartTransaction": 1.0,
            "StopTransaction": 1.0,
        },
        frame_bytes={"Heartbeat": (20.0, 50.0), "MeterValues": (300.0, 10.0)},
        samples_per_meter_values=3.0,
        log_bytes_per_frame=1000.0,
        postgres_cpu_ms_per_frame=0.25,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def a_fleet(chargers: int = 100, **overrides: object) -> Assumptions:
    return replace(Assumptions(chargers=chargers), **overrides)  # type: ignore[arg-type]


def line(bill: object, service: str, item_start: str) -> float:
    (found,) = [x.usd for x in bill.lines if x.service == service and x.item.startswith(item_start)]  # type: ignore[attr-defined]
    return found


def test_a_charger_month_follows_the_intervals_and_the_two_hour_connection_limit() -> None:
    t = traffic(a_fleet(), a_mix(), HOURS)
    assert t.connections == 365  # API Gateway closes every connection after 2 h
    assert t.frames["Heartbeat"] == 730 * 3600 / 300
    assert t.frames["MeterValues"] == pytest.approx(0.25 * 730 * 3600 / 60)
    assert t.sessions == pytest.approx(0.25 * 730)  # one-hour sessions, a quarter of the time
    assert t.frames["BootNotification"] == 365
    assert t.frames["StatusNotification"] == pytest.approx(365 * 2 + 182.5 * 4)
    assert t.frames["StopTransaction"] == pytest.approx(182.5)
    assert t.samples == pytest.approx(t.frames["MeterValues"] * 3)
    assert t.commands == pytest.approx(730 / 24)


def test_heartbeats_can_pause_while_meter_values_flow() -> None:
    always = traffic(a_fleet(), a_mix(), HOURS).frames["Heartbeat"]
    on_inactivity = traffic(a_fleet(heartbeats_while_charging=0.0), a_mix(), HOURS).frames["Heartbeat"]
    assert on_inactivity == pytest.approx(always * 0.75)


def test_api_gateway_bills_every_frame_twice_and_every_connected_minute() -> None:
    fleet = a_fleet(chargers=10)
    bill = estimate(fleet, unit_prices(), a_mix())
    t = bill.traffic
    assert line(bill, "API Gateway", "WebSocket messages") == pytest.approx(
        2 * 10 * (t.frames_in + t.commands) / 1e6
    )
    assert line(bill, "API Gateway", "connection minutes") == pytest.approx(10 * 730 * 60 / 1e6)


def test_messages_above_a_billion_get_the_lower_tier() -> None:
    prices = unit_prices(**{"api_gateway.websocket_messages_over_1b": 0.5})
    bill = estimate(a_fleet(chargers=100_000), prices, a_mix())
    messages = 2 * 100_000 * (bill.traffic.frames_in + bill.traffic.commands)
    assert messages > 1e9
    assert line(bill, "API Gateway", "WebSocket messages") == pytest.approx(
        1000 + (messages - 1e9) / 1e6 * 0.5
    )


def test_lambda_duration_is_invocations_times_billed_ms_times_memory() -> None:
    fleet = a_fleet(chargers=1, commands_per_charger_day=0.0, password_share=0.0, scheduled_per_month=0.0)
    bill = estimate(fleet, unit_prices(), a_mix())
    t = bill.traffic
    # Frames that change state also publish their domain event (15 ms): all but Heartbeat, Authorize.
    publishing = t.frames_in - t.frames["Heartbeat"] - t.frames.get("Authorize", 0.0)
    expected = (t.frames_in * 20 + publishing * 15 + t.connections * 40 + t.connections * 10) / 1000 * 0.5
    assert line(bill, "Lambda", "duration") == pytest.approx(expected)
    assert line(bill, "Lambda", "requests") == pytest.approx((t.frames_in + 2 * t.connections) / 1e6)


def test_passwords_add_scrypt_to_every_connect() -> None:
    without = estimate(a_fleet(password_share=0.0), unit_prices(), a_mix())
    with_all = estimate(a_fleet(password_share=1.0), unit_prices(), a_mix())
    extra = line(with_all, "Lambda", "duration") - line(without, "Lambda", "duration")
    assert extra == pytest.approx(100 * 365 * 190 / 1000 * 0.5)


def test_dynamodb_writes_one_update_per_frame_with_its_index_and_four_items_per_connection() -> None:
    fleet = a_fleet(chargers=1, commands_per_charger_day=0.0)
    bill = estimate(fleet, unit_prices(), a_mix())
    t = bill.traffic
    assert line(bill, "DynamoDB", "write") == pytest.approx((t.frames_in * 2 + 365 * 8) / 1e6)
    lean = estimate(replace(fleet, dynamodb_wru_per_frame=1.0), unit_prices(), a_mix())
    assert line(lean, "DynamoDB", "write") == pytest.approx((t.frames_in + 365 * 8) / 1e6)


def test_every_state_change_is_one_domain_event() -> None:
    fleet = a_fleet(chargers=1)
    bill = estimate(fleet, unit_prices(), a_mix())
    t = bill.traffic
    changes = t.frames_in - t.frames["Heartbeat"] - t.frames.get("Authorize", 0.0)
    expected = changes + 2 * t.connections + t.commands  # + connected/disconnected, command finished
    assert line(bill, "EventBridge", "domain events") == pytest.approx(expected / 1e6)


def test_fixed_costs_do_not_grow_with_the_fleet_and_are_spread_over_it() -> None:
    small = estimate(a_fleet(chargers=100), unit_prices(), a_mix())
    large = estimate(a_fleet(chargers=10_000), unit_prices(), a_mix())
    assert small.fixed == large.fixed
    # NAT (2 x 730 h) + Aurora minimum (2 x 0.5 ACU x 730 h) + 3 endpoints (x 2 AZ x 730 h)
    # + 2 secrets + the schedules (four a minute, one every 5, one every 15, one an hour)
    schedules = 730 * (4 * 60 + 12 + 4 + 1)
    assert small.fixed == pytest.approx(2 * 730 + 730 + 3 * 2 * 730 + 2 + schedules / 1e6)
    assert large.per_charger < small.per_charger


def test_the_writer_scales_above_its_minimum_with_the_database_cpu() -> None:
    prices = unit_prices()
    idle = estimate(a_fleet(chargers=1000), prices, a_mix())
    busy = estimate(a_fleet(chargers=1000), prices, a_mix(postgres_cpu_ms_per_frame=100.0))
    assert line(idle, "Aurora", "ACU-hours above") == 0.0
    frames_per_second = 1000 * (busy.traffic.frames_in + busy.traffic.commands) / (730 * 3600)
    acu = frames_per_second * 0.1 / (0.25 * 0.5)  # vCPU needed / (vCPU per ACU x utilisation)
    assert line(busy, "Aurora", "ACU-hours above") == pytest.approx(
        (round(acu * 2 + 0.5) / 2 - 0.5) * 730, rel=0.01
    )


def test_logs_are_the_measured_bytes_per_frame_plus_lambdas_own_records() -> None:
    fleet = a_fleet(chargers=1, commands_per_charger_day=0.0, scheduled_per_month=0.0)
    bill = estimate(fleet, unit_prices(), a_mix())
    t = bill.traffic
    invocations = t.frames_in + 2 * t.connections
    expected = (t.frames_in * 1000 + invocations * 700 + 2 * t.connections * 500) / 1e9
    assert line(bill, "CloudWatch Logs", "ingestion") == pytest.approx(expected)
    one_line = estimate(
        replace(fleet, log_lines_per_frame=1.0, platform_log_bytes=0.0), unit_prices(), a_mix()
    )
    assert line(one_line, "CloudWatch Logs", "ingestion") == pytest.approx(
        (t.frames_in * 500 + 2 * t.connections * 500) / 1e9
    )


def test_the_total_is_the_sum_of_the_lines_by_service() -> None:
    bill = estimate(a_fleet(chargers=500), unit_prices(), a_mix())
    assert sum(bill.by_service().values()) == pytest.approx(bill.total)
    assert bill.per_charger == pytest.approx(bill.total / 500)


def test_the_targets_compare_with_the_reference_gateway() -> None:
    prices = unit_prices(**{"reference.aws_ocpp_gateway_500": 1e9})
    result = targets(prices, a_mix())
    assert result["500_limit"] == 5e8
    assert result["500_met"] is True


def test_the_shipped_price_table_is_dated_and_sourced() -> None:
    prices = PriceTable.load(PRICES_PATH)
    assert prices.checked
    for key, price in prices.prices.items():
        assert price.value >= 0, key
        assert price.source, key
        assert price.checked, key
        assert price.unit, key


def test_the_shipped_message_mix_is_the_load_benchmarks() -> None:
    raw = json.loads(MIX_PATH.read_text())
    assert "bench_load.py" in raw["command"]
    mix = MessageMix.load(MIX_PATH)
    assert mix.per_connection["BootNotification"] == pytest.approx(1.0)
    assert mix.per_session["StartTransaction"] == pytest.approx(1.0)
    assert all(request < 32 * 1024 for request, _ in mix.frame_bytes.values())  # one API Gateway message each


def test_csms_cost_prints_the_bill_by_service(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "cost",
                "--chargers",
                "500",
                "--heartbeat",
                "300",
                "--meter-interval",
                "60",
                "--charging-share",
                "0.25",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    for service in ("API Gateway", "Lambda", "DynamoDB", "SQS", "EventBridge", "Aurora", "VPC", "CloudFront"):
        assert service in out
    assert "CloudWatch Logs" in out
    assert "per charger" in out


def test_csms_cost_prints_one_column_per_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--chargers", "100", "--fleets", "100,500,10000,100000"]) == 0
    out = capsys.readouterr().out
    assert "100,000 chargers" in out
    assert "per charger / month" in out
