"""The event catalogue: its schemas are valid, docs/events.md is generated from it, and each
service emits exactly what the schemas say (checked per event in tests/integration)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import fastjsonschema
import pytest

from csms.domain.events import CATALOGUE, ENVELOPE_SCHEMA, correlation, new_event
from csms.eventsdoc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_docs_events_md_is_generated_from_the_catalogue() -> None:
    assert DOC.read_text() == render(), "run: csms events-doc --output docs/events.md"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_schema_compiles_and_forbids_unknown_fields(name: str) -> None:
    schema = CATALOGUE[name].data_schema
    fastjsonschema.compile(schema)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])  # nulls are explicit


def test_the_issue_s_event_types_are_all_catalogued() -> None:
    assert {
        "ChargerConnected",
        "ChargerDisconnected",
        "ChargerBooted",
        "ChargerWentOffline",
        "ConnectorStatusChanged",
        "TransactionStarted",
        "TransactionStopped",
        "MeterValuesReceived",
        "CommandFinished",
        "UnknownTransactionStopRecorded",
        "ReservationStateChanged",
    } <= set(CATALOGUE)


def test_an_event_carries_the_current_correlation_and_a_valid_envelope() -> None:
    at = datetime(2026, 11, 21, 10, tzinfo=UTC)
    with correlation("ocpp:CP-1:42"):
        event = new_event(
            "ChargerDisconnected",
            "t1",
            "CP-1",
            at,
            {"connectionId": "c", "closeCode": None, "closeReason": None},
        )
    outside = new_event(
        "ChargerDisconnected", "t1", "CP-1", at, {"connectionId": "c", "closeCode": None, "closeReason": None}
    )

    envelope = event.envelope(7)
    fastjsonschema.compile(ENVELOPE_SCHEMA)(envelope)
    assert envelope["correlationId"] == "ocpp:CP-1:42"
    assert envelope["occurredAt"] == "2026-11-21T10:00:00.000Z"
    assert envelope["sequence"] == 7
    assert outside.correlation_id.startswith("csms:")
    assert outside.id != event.id


def test_an_uncatalogued_type_is_refused() -> None:
    with pytest.raises(ValueError, match="not in the event catalogue"):
        new_event("Nope", "t1", None, datetime.now(UTC), {})


def test_an_envelope_reads_back_as_the_same_event() -> None:
    """Events parked during a PostgreSQL outage travel as envelopes and are recorded later:
    nothing of the event, its station above all, may be lost on the way."""
    event = new_event(
        "ChargerConnected",
        "t1",
        "CP-9",
        datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
        {"connectionId": "c1", "protocol": "ocpp2.0.1"},
    )
    assert type(event).from_envelope(event.envelope()) == event
