"""The cost model's arithmetic, with unit prices, a fixed message mix and fixed frame costs."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from csms.cli import main
from csms.cost.model import (
    MEASURED_PATH,
    MIX_PATH,
    PRESETS,
    PRICES_PATH,
    Assumptions,
    Bill,
    FrameCost,
    FrameCosts,
    MessageMix,
    Price,
    PriceTable,
    estimate,
    preset,
    targets,
    traffic,
)

HOURS = 730.0


def unit_prices(**overrides: float) -> PriceTable:
    """Every price of the shipped table set to 1.0 (a line's dollars = its billed quantity)."""
    keys = list(PriceTable.load(PRICES_PATH).prices)
    values = {key: 1.0 for key in keys} | {"eventbridge.scheduler_free_invocations": 0.0} | overrides
    return PriceTable({k: Price(v, "unit", "test", "2026-12-07", True) for k, v in values.items()}, HOURS)


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
        postgres_cpu_ms_per_frame=0.25,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def a_frame_cost(**overrides: object) -> FrameCost:
    """What the message path measures for a state-changing frame (measure_frames.py)."""
    base = FrameCost(
        dynamodb_fresh={"GetItem": 1.0},
        dynamodb_stale={"GetItem": 1.0, "UpdateItem": 1.0},
        db_statements=3.0,
        db_transactions=2.0,
        events=1.0,
        put_events_calls=1.0,
        log_lines=1.0,
        log_bytes=500.0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def frame_costs() -> FrameCosts:
    quiet = a_frame_cost(db_statements=0.0, db_transactions=0.0, events=0.0, put_events_calls=0.0)
    return FrameCosts(
        {
            "Heartbeat": quiet,
            "Authorize": replace(quiet, db_statements=1.0, db_transactions=1.0),
            "StatusNotification": a_frame_cost(),
            "MeterValues": a_frame_cost(),
        }
    )


def a_fleet(chargers: int = 100, **overrides: object) -> Assumptions:
    """A fleet without the consoles' live updates unless asked (their own test below)."""
    return replace(Assumptions(chargers=chargers), **{"console_live": 0.0, **overrides})  # type: ignore[arg-type]


def bill_of(fleet: Assumptions, prices: PriceTable | None = None, mix: MessageMix | None = None) -> Bill:
    return estimate(fleet, prices or unit_prices(), mix or a_mix(), frame_costs())


def line(bill: Bill, service: str, item_start: str) -> float:
    (found,) = [x.usd for x in bill.lines if x.service == service and x.item.startswith(item_start)]
    return found


def quantity(bill: Bill, service: str, item_start: str) -> float:
    (found,) = [x.quantity for x in bill.lines if x.service == service and x.item.startswith(item_start)]
    return found


def test_a_charger_month_follows_the_intervals_and_the_two_hour_connection_limit() -> None:
    t = traffic(a_fleet(), a_mix(), HOURS)
    assert t.connections == 365  # API Gateway closes every connection after 2 h
    assert t.frames["Heartbeat"] == 730 * 3600 / 300
    assert t.frames["MeterValues"] == pytest.approx(0.25 * 730 * 3600 / 60)
    assert t.sessions == pytest.approx(0.25 * 730)  # one-hour sessions, a quarter of the time
    assert t.frames["BootNotification"] == 365
    assert t.frames["StatusNotification"] == pytest.approx(365 * 2 + 182.5 * 4)
    assert t.samples == pytest.approx(t.frames["MeterValues"] * 3)
    assert t.commands == pytest.approx(730 / 24)


def test_liveness_is_written_once_last_seen_is_older_than_the_refresh_period() -> None:
    # Given Heartbeats every 300 s (idle) and, while charging, MeterValues every 60 s with them
    t = traffic(a_fleet(liveness_refresh_s=60.0), a_mix(), HOURS)
    idle = 0.75 * 730 * 3600 / 300  # every idle Heartbeat finds last_seen older than 60 s
    charging_gap = 1 / (1 / 60 + 1 / 300)  # 50 s between frames: every other frame writes
    assert t.liveness_writes == pytest.approx(idle + 0.25 * 730 * 3600 / (2 * charging_gap))
    # Without a refresh period every frame writes (the design before issue 16)
    every = traffic(a_fleet(liveness_refresh_s=0.0), a_mix(), HOURS)
    assert every.liveness_writes == pytest.approx(every.frames_in)


def test_api_gateway_bills_every_frame_twice_and_every_connected_minute() -> None:
    bill = bill_of(a_fleet(chargers=10))
    t = bill.traffic
    assert line(bill, "API Gateway", "WebSocket messages") == pytest.approx(
        2 * 10 * (t.frames_in + t.commands) / 1e6
    )
    assert line(bill, "API Gateway", "connection minutes") == pytest.approx(10 * 730 * 60 / 1e6)


def test_messages_above_a_billion_get_the_lower_tier() -> None:
    prices = unit_prices(**{"api_gateway.websocket_messages_over_1b": 0.5})
    bill = bill_of(a_fleet(chargers=100_000), prices)
    messages = 2 * 100_000 * (bill.traffic.frames_in + bill.traffic.commands)
    assert messages > 1e9
    assert line(bill, "API Gateway", "WebSocket messages") == pytest.approx(
        1000 + (messages - 1e9) / 1e6 * 0.5
    )


def test_dynamodb_reads_one_item_per_frame_and_writes_only_stale_liveness() -> None:
    fleet = a_fleet(chargers=1, commands_per_charger_day=0.0)
    bill = bill_of(fleet)
    t = bill.traffic
    scans = 730 * 60 + 730 * 12  # gauge (every minute) and liveness (every 5) scans of one 4 KB page
    # Client limits (ADR 0023): a handshake reads two counters; an operator request updates
    # two and reads one revocation stamp.
    requests = fleet.operator_requests
    assert quantity(bill, "DynamoDB", "read") == pytest.approx(
        t.frames_in + scans * 0.5 + 2 * t.connections + requests
    )
    # A connection writes 10 units: $connect's two items, its first frame's flag, $disconnect's
    # two, each with its index entry.
    assert quantity(bill, "DynamoDB", "write") == pytest.approx(t.liveness_writes + 365 * 10 + 2 * requests)
    # Before: one UpdateItem per frame, mirrored in an index that projected last_seen
    before = bill_of(preset("before", 1, commands_per_charger_day=0.0))
    assert quantity(before, "DynamoDB", "write") == pytest.approx(2 * before.traffic.frames_in + 365 * 10)


def test_domain_events_are_the_measured_events_per_frame_plus_connections_and_commands() -> None:
    bill = bill_of(a_fleet(chargers=1))
    t = bill.traffic
    changes = t.frames_in - t.frames["Heartbeat"] - t.frames["Authorize"]
    assert quantity(bill, "EventBridge", "custom events") == pytest.approx(
        changes + 2 * t.connections + t.commands
    )


def test_the_proposed_meter_events_come_per_transaction_and_quarter_hour() -> None:
    per_frame = bill_of(a_fleet(chargers=1))
    quarter = bill_of(a_fleet(chargers=1, meter_events="quarter-hour"))
    saved = per_frame.traffic.frames["MeterValues"] - per_frame.traffic.sessions * 60 / 15
    assert quantity(per_frame, "EventBridge", "custom events") - quantity(
        quarter, "EventBridge", "custom events"
    ) == pytest.approx(saved)


def test_the_archive_leaves_out_meter_values_unless_asked() -> None:
    fleet = a_fleet(chargers=1, event_bytes=1e9)  # one GB an event: the line counts events
    bill = bill_of(fleet)
    t = bill.traffic
    events = quantity(bill, "EventBridge", "custom events")
    assert quantity(bill, "EventBridge", "archive: events") == pytest.approx(events - t.frames["MeterValues"])
    everything = bill_of(replace(fleet, archive_meter_values=1.0))
    assert quantity(everything, "EventBridge", "archive: events") == pytest.approx(events)


def test_lambda_duration_is_invocations_times_billed_ms_times_memory() -> None:
    fleet = a_fleet(
        chargers=1,
        commands_per_charger_day=0.0,
        password_share=0.0,
        scheduled_per_month=0.0,
        operator_requests=0.0,
    )
    bill = bill_of(fleet)
    t = bill.traffic
    writing = t.liveness_writes  # frames whose liveness write is a second DynamoDB round trip (5 ms)
    publishing = t.frames_in - t.frames["Heartbeat"] - t.frames["Authorize"]
    expected = (
        (t.frames_in * 20 + publishing * 15 + writing * 5 + t.connections * 40 + t.connections * 10)
        / 1000
        * 0.5
    )
    assert line(bill, "Lambda", "duration") == pytest.approx(expected)
    assert line(bill, "Lambda", "requests") == pytest.approx((t.frames_in + 2 * t.connections) / 1e6)


def test_passwords_add_scrypt_to_every_connect() -> None:
    without = bill_of(a_fleet(password_share=0.0))
    with_all = bill_of(a_fleet(password_share=1.0))
    extra = line(with_all, "Lambda", "duration") - line(without, "Lambda", "duration")
    assert extra == pytest.approx(100 * 365 * 190 / 1000 * 0.5)


def test_the_fixed_floor_is_one_writer_and_the_alarms_without_nat_or_endpoints() -> None:
    small = bill_of(a_fleet(chargers=100))
    large = bill_of(a_fleet(chargers=10_000))
    assert small.fixed == large.fixed
    schedules = 730 * (5 * 60 + 12 + 4 + 1)  # five a minute, one every 5, one every 15, one an hour
    rotations = 3 * 4 * 730 / (30 * 24)  # three database secrets, four steps, every 30 days
    # Aurora writer minimum + 45 alarm metrics + 4 gauges + 1 dashboard + 4 secrets + a web ACL
    # with one rule + the command-secrets key + schedules + secret rotations
    assert small.fixed == pytest.approx(
        0.5 * 730 + 45 + 4 + 1 + 4 + 1 + 1 + 1 + (schedules + rotations) / 1e6
    )
    assert large.per_charger < small.per_charger


def test_the_nat_fallback_pays_gateways_and_their_public_addresses() -> None:
    nat = bill_of(preset("nat", 100))
    assert line(nat, "VPC", "NAT gateway hours") == 2 * 730
    assert line(nat, "VPC", "public IPv4") == 2 * 730
    assert line(bill_of(a_fleet()), "VPC", "NAT gateway hours") == 0


def test_a_reader_doubles_the_aurora_minimum_and_follows_the_writer() -> None:
    assert line(bill_of(preset("ha", 100)), "Aurora", "ACU-hours, minimum") == 2 * 0.5 * 730
    busy = bill_of(preset("ha", 100_000))
    one = bill_of(a_fleet(chargers=100_000))
    assert line(busy, "Aurora", "ACU-hours above") == pytest.approx(
        2 * line(one, "Aurora", "ACU-hours above")
    )


def test_the_writer_scales_with_the_database_cpu_or_the_fleet() -> None:
    idle = bill_of(a_fleet(chargers=1000))
    assert line(idle, "Aurora", "ACU-hours above") == 0.0
    assert line(bill_of(a_fleet(chargers=10_000)), "Aurora", "ACU-hours above") == pytest.approx(0.5 * 730)
    busy = bill_of(a_fleet(chargers=1000), mix=a_mix(postgres_cpu_ms_per_frame=100.0))
    frames_per_second = 1000 * (busy.traffic.frames_in + busy.traffic.commands) / (730 * 3600)
    acu = frames_per_second * 0.1 / (0.25 * 0.5)  # vCPU needed / (vCPU per ACU x utilisation)
    assert line(busy, "Aurora", "ACU-hours above") == pytest.approx(
        (round(acu * 2 + 0.5) / 2 - 0.5) * 730, rel=0.01
    )


def test_raw_samples_are_stored_for_the_retention_period() -> None:
    kept_90 = bill_of(a_fleet(chargers=1))
    forever = bill_of(a_fleet(chargers=1, meter_retention_days=0.0))
    samples = kept_90.traffic.samples * 360
    extra = quantity(forever, "Aurora", "storage") - quantity(kept_90, "Aurora", "storage")
    assert extra == pytest.approx(samples * (12 - 90 / (365 / 12)) / 1e9)


def test_routine_frame_lines_are_sampled_and_the_rest_always_logged() -> None:
    fleet = a_fleet(
        chargers=1,
        commands_per_charger_day=0.0,
        scheduled_per_month=0.0,
        frame_log_sample_rate=0.01,
        non_routine_frame_share=0.0,
        function_log_bytes_per_connect=0.0,
        operator_requests=0.0,
    )
    t = bill_of(fleet).traffic
    assert quantity(bill_of(fleet), "CloudWatch Logs", "ingestion") == pytest.approx(
        t.frames_in * 500 * 0.01 / 1e9
    )
    before = replace(
        fleet,
        frame_log_sample_rate=1.0,
        frame_log_lines=2.0,
        platform_log_bytes=700.0,
        access_log_bytes=252.0,
    )
    invocations = t.frames_in + 2 * t.connections
    assert quantity(bill_of(before), "CloudWatch Logs", "ingestion") == pytest.approx(
        (t.frames_in * 1000 + invocations * 700 + 2 * t.frames_in * 252) / 1e9
    )


def test_consoles_cost_a_fanout_per_event_and_a_message_per_event_and_open_console() -> None:
    # Given one console open around the clock (730 hours) and the same fleet without consoles
    without = bill_of(a_fleet())
    fleet = a_fleet(console_live=1.0, console_hours=730.0, console_keepalive_s=300.0)
    bill = bill_of(fleet)
    events = quantity(bill, "EventBridge", "custom events")
    # Then every event invokes the fan-out and is one message to the open console
    assert quantity(bill, "API Gateway", "consoles' live updates: WebSocket messages") == pytest.approx(
        events + 730 * 3600 / 300
    )
    assert quantity(bill, "API Gateway", "consoles' live updates: connection minutes") == 730 * 60
    connections = 730 / 2.0
    assert quantity(bill, "Lambda", "requests") - quantity(without, "Lambda", "requests") == pytest.approx(
        events + 3 * connections + 730 * 3600 / 300
    )
    assert quantity(bill, "DynamoDB", "read request units") - quantity(
        without, "DynamoDB", "read request units"
    ) == pytest.approx(events * 0.5)


def test_a_busy_fleet_reaches_consoles_in_batches_of_a_second_not_a_message_an_event() -> None:
    fleet = a_fleet(chargers=20_000, console_live=1.0, console_hours=730.0, console_keepalive_s=1e12)
    bill = bill_of(fleet)
    events = quantity(bill, "EventBridge", "custom events")
    seconds = 730 * 3600
    assert events > seconds  # busier than an event a second
    per_batch_kb = events / seconds * fleet.event_bytes / 32768
    assert quantity(bill, "API Gateway", "consoles' live updates: WebSocket messages") == pytest.approx(
        seconds * max(1.0, per_batch_kb), rel=1e-6
    )


def test_every_line_names_a_price_of_the_table_or_says_why_it_is_zero() -> None:
    prices = PriceTable.load(PRICES_PATH)
    for name in PRESETS:
        for item in estimate(preset(name, 500), prices, MessageMix.load(), FrameCosts.load()).lines:
            assert item.price in prices.prices or (item.usd == 0 and item.note), item


def test_the_total_is_the_sum_of_the_lines_by_service() -> None:
    bill = bill_of(a_fleet(chargers=500))
    assert sum(bill.by_service().values()) == pytest.approx(bill.total)
    assert bill.per_charger == pytest.approx(bill.total / 500)


def test_the_targets_compare_with_the_reference_gateway() -> None:
    prices = unit_prices(**{"reference.aws_ocpp_gateway_500": 1e9})
    result = targets(prices, a_mix(), costs=frame_costs())
    assert result["500_limit"] == 5e8
    assert result["500_met"] is True
    assert result["10000_limit"] == 0.08


def test_the_shipped_price_table_is_dated_and_sourced() -> None:
    prices = PriceTable.load(PRICES_PATH)
    assert prices.checked
    for key, price in prices.prices.items():
        assert price.value >= 0, key
        assert price.source, key
        assert price.checked, key
        assert price.unit, key


def test_the_shipped_traffic_is_measured_not_typed() -> None:
    assert "bench_load.py" in json.loads(MIX_PATH.read_text())["command"]
    mix = MessageMix.load(MIX_PATH)
    assert mix.per_connection["BootNotification"] == pytest.approx(1.0)
    assert all(request < 32 * 1024 for request, _ in mix.frame_bytes.values())  # one API Gateway message each
    measured = json.loads(MEASURED_PATH.read_text())
    assert "measure_frames.py" in measured["command"]
    costs = FrameCosts.load(MEASURED_PATH)
    assert costs.of("Heartbeat").events == 0  # a Heartbeat changes nothing
    assert costs.of("MeterValues").dynamodb_fresh == {"GetItem": 1.0}  # no write on a fresh connection


def test_csms_cost_prints_each_line_with_its_unit_price_date_and_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cost", "--chargers", "500", "--heartbeat", "300", "--meter-interval", "60"]) == 0
    out = capsys.readouterr().out
    for service in ("API Gateway", "Lambda", "DynamoDB", "SQS", "EventBridge", "Aurora", "VPC", "CloudFront"):
        assert service in out
    assert "unit price" in out
    assert "[1] api_gateway.websocket_messages: $1 " in out
    prices = PriceTable.load(PRICES_PATH)
    assert prices.prices["api_gateway.websocket_messages"].checked in out
    assert "per charger" in out


def test_csms_cost_prints_one_column_per_fleet_and_takes_a_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--chargers", "100", "--fleets", "100,500,10000,100000", "--preset", "before"]) == 0
    out = capsys.readouterr().out
    assert "100,000 chargers" in out
    assert "per charger / month" in out
    assert "egress nat (2 NAT gateways)" in out
