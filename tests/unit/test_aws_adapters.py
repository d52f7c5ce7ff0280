"""The DynamoDB connection store and the pending-call slots against moto, and the @connections
sender with Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from csms.aws.connections import DynamoConnectionStore
from csms.aws.gateway import ApiGatewaySender
from csms.aws.pending import DynamoPendingCalls
from csms.aws.provisioning import ensure_connections_table, ensure_pending_calls_table
from csms.domain.commands import Answer, PendingCall
from csms.domain.connections import ConnectionRecord
from csms.domain.stations import RegistrationStatus
from csms.errors import ConnectionGone

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[DynamoConnectionStore]:
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        ensure_connections_table(None, "connections", "us-east-1", client=client)
        yield DynamoConnectionStore(client, "connections")


def a_record(connection_id: str = "c1", **overrides: Any) -> ConnectionRecord:
    return ConnectionRecord(
        **{
            "connection_id": connection_id,
            "charge_point_id": "CP-1",
            "tenant_id": "t1",
            "protocol": "ocpp1.6",
            "connected_at": NOW,
            **overrides,
        }
    )


def test_touch_finds_the_charger_and_records_liveness(store: DynamoConnectionStore) -> None:
    store.register(a_record())
    later = datetime(2026, 11, 21, 12, 5, tzinfo=UTC)
    record = store.touch("c1", later)
    assert record is not None
    assert (record.charge_point_id, record.tenant_id, record.protocol, record.last_seen) == (
        "CP-1",
        "t1",
        "ocpp1.6",
        later,
    )
    assert store.touch("unknown", later) is None


def test_liveness_is_written_only_once_the_stored_last_seen_is_older_than_the_refresh_period() -> None:
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        ensure_connections_table(None, "connections", "us-east-1", client=client)
        store = DynamoConnectionStore(client, "connections", refresh=timedelta(seconds=60))
        store.register(a_record())

        # Given a record last seen when it connected
        # When frames arrive within the refresh period, Then the stored last_seen stays
        soon = store.touch("c1", NOW + timedelta(seconds=60))
        assert soon is not None
        assert soon.last_seen == NOW
        # When one arrives after it, Then it is written (and returned)
        later = store.touch("c1", NOW + timedelta(seconds=61))
        assert later is not None
        assert later.last_seen == NOW + timedelta(seconds=61)
        assert store.open_connection("c1").record.last_seen == NOW + timedelta(seconds=61)  # type: ignore[union-attr]


def test_a_tenants_live_connections_carry_last_seen_although_the_index_does_not(
    store: DynamoConnectionStore,
) -> None:
    store.register(a_record())
    store.touch("c1", NOW + timedelta(minutes=3))
    assert store.tenant_connections("t1")["CP-1"].last_seen == NOW + timedelta(minutes=3)


def test_the_connections_of_a_page_of_stations_are_read_by_key_not_by_tenant(
    store: DynamoConnectionStore,
) -> None:
    # Given a connected station seen since, one whose connection was closed by the liveness job
    # (its cp# item not yet released), one replaced by a newer connection, and an offline one
    store.register(a_record("c1"))
    store.touch("c1", NOW + timedelta(minutes=3))
    store.register(a_record("c2", charge_point_id="CP-2"))
    store.close_stale("c2", NOW)
    store.register(a_record("c3", charge_point_id="CP-3"))
    store.register(a_record("c4", charge_point_id="CP-3", connected_at=NOW + timedelta(minutes=1)))
    # When a listing asks for their connections (more than one BatchGetItem's worth of keys)
    found = store.connections_of(["CP-1", "CP-2", "CP-3", "CP-OFF", *(f"X-{n}" for n in range(150))])
    # Then the connected ones come with their current connection and last_seen
    assert sorted(found) == ["CP-1", "CP-3"]
    assert found["CP-1"].last_seen == NOW + timedelta(minutes=3)
    assert found["CP-3"].connection_id == "c4"


def test_load_managements_online_stations_are_those_of_its_tenant_connected_now(
    store: DynamoConnectionStore,
) -> None:
    # Given a site's stations: one connected, one reconnected, one closed by the liveness job,
    # one offline, and a station of the same id space connected under another tenant
    store.register(a_record("c1"))
    store.register(a_record("c2", charge_point_id="CP-2"))
    store.register(a_record("c3", charge_point_id="CP-2", connected_at=NOW + timedelta(minutes=1)))
    store.register(a_record("c4", charge_point_id="CP-3"))
    store.close_stale("c4", NOW)
    store.register(a_record("c5", charge_point_id="CP-OTHER", tenant_id="t2"))
    # When load management asks which of them are online
    online = store.online("t1", ["CP-1", "CP-2", "CP-3", "CP-OFF", "CP-OTHER"])
    # Then the connected ones of its tenant, each with when its current connection began
    assert online == {"CP-1": NOW, "CP-2": NOW + timedelta(minutes=1)}


def test_a_tenants_connected_set_without_last_seen_costs_the_index_query_only(
    store: DynamoConnectionStore,
) -> None:
    store.register(a_record())
    store.touch("c1", NOW + timedelta(minutes=3))
    connected = store.tenant_connections("t1", last_seen=False)
    assert connected["CP-1"].last_seen is None  # the index does not project it
    assert store.with_last_seen(connected)["CP-1"].last_seen == NOW + timedelta(minutes=3)


def test_register_returns_the_connection_it_replaces(store: DynamoConnectionStore) -> None:
    assert store.register(a_record("c1")) is None
    assert store.register(a_record("c2")) == "c1"
    assert store.current_connection("CP-1") == "c2"


def test_unregister_is_conditional_on_being_current(store: DynamoConnectionStore) -> None:
    store.register(a_record("c1"))
    store.register(a_record("c2"))
    assert store.unregister("c1") is None  # late $disconnect of the replaced connection
    assert store.current_connection("CP-1") == "c2"
    assert store.unregister("c2") is not None
    assert store.current_connection("CP-1") is None
    assert store.unregister("c2") is None


def test_a_closed_connection_still_attributes_frames_in_flight_but_is_not_live(
    store: DynamoConnectionStore,
) -> None:
    # Given a charger whose socket just closed ($disconnect ran before its last $default)
    store.register(a_record("c1"))
    assert store.unregister("c1") is not None
    # Then its last frame is still attributed to it
    record = store.touch("c1", NOW)
    assert record is not None
    assert record.charge_point_id == "CP-1"
    # but it is not connected any more, and the record expires within minutes
    assert store.tenant_connections("t1") == {}
    item = store._client.get_item(TableName="connections", Key={"pk": {"S": "conn#c1"}})["Item"]
    assert int(item["ttl"]["N"]) - int(datetime.now(UTC).timestamp()) <= 5 * 60


def test_registration_status_follows_the_connection(store: DynamoConnectionStore) -> None:
    store.register(a_record(registration_status=RegistrationStatus.PENDING))
    store.set_registration_status("c1", RegistrationStatus.ACCEPTED)
    record = store.touch("c1", NOW)
    assert record is not None
    assert record.registration_status is RegistrationStatus.ACCEPTED
    store.set_registration_status("gone", RegistrationStatus.ACCEPTED)  # no error


def test_only_the_first_answered_frame_of_an_accepted_station_clears_its_flag(
    store: DynamoConnectionStore,
) -> None:
    # $connect flags the connection; the station's own item (read by delivery) is not flagged
    store.register(a_record(registration_status=RegistrationStatus.PENDING))
    touched = store.touch("c1", NOW)
    assert touched is not None
    assert touched.awaiting_first_frame
    assert not store.current_record("CP-1").awaiting_first_frame  # type: ignore[union-attr]
    # While Pending the flag stays; once Accepted, one call clears it, the next finds it gone
    assert store.first_frame_answered("c1") is False
    store.set_registration_status("c1", RegistrationStatus.ACCEPTED)
    assert (store.first_frame_answered("c1"), store.first_frame_answered("c1")) == (True, False)
    assert not store.touch("c1", NOW).awaiting_first_frame  # type: ignore[union-attr]
    assert store.first_frame_answered("unknown") is False


@pytest.fixture
def slots() -> Iterator[DynamoPendingCalls]:
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        ensure_pending_calls_table(None, "pending", "us-east-1", client=client)
        yield DynamoPendingCalls(client, "pending")


def a_call(unique_id: str = "u1", deadline: datetime = NOW + timedelta(seconds=60)) -> PendingCall:
    return PendingCall("CP-1", unique_id, "Reset", "cmd-1", "t1", deadline)


def test_an_answer_is_kept_on_the_slot_once_and_holds_it_past_the_deadline(
    slots: DynamoPendingCalls,
) -> None:
    assert slots.claim(a_call(), NOW)
    # The answer to another call, or a second answer, takes nothing
    assert slots.answer("CP-1", "other", Answer({"status": "Accepted"})) is None
    kept = slots.answer("CP-1", "u1", Answer({"status": "Accepted"}))
    assert kept is not None
    assert kept.answer == Answer({"status": "Accepted"}, None)
    assert slots.answer("CP-1", "u1", Answer(None, ("InternalError", "again"))) is None
    # Past its deadline an answered slot is not taken by the next call; the sweep sees the answer
    later = NOW + timedelta(minutes=5)
    assert not slots.claim(a_call("u2", later + timedelta(seconds=60)), later)
    assert [c.answer for c in slots.expired(later)] == [Answer({"status": "Accepted"}, None)]
    # Freed once its outcome is stored, the slot takes the next call
    assert slots.pop("CP-1", "u1") is not None
    assert slots.claim(a_call("u2", later + timedelta(seconds=60)), later)


def test_an_error_answer_round_trips_and_an_unanswered_expired_slot_can_be_taken(
    slots: DynamoPendingCalls,
) -> None:
    assert slots.claim(a_call(), NOW)
    assert slots.answer("CP-1", "u1", Answer(None, ("NotSupported", "no"))).answer == Answer(  # type: ignore[union-attr]
        None, ("NotSupported", "no")
    )
    slots.pop("CP-1", "u1")
    assert slots.claim(a_call("u2"), NOW)
    later = NOW + timedelta(minutes=5)
    assert slots.claim(a_call("u3", later + timedelta(seconds=60)), later)  # u2 expired unanswered


def test_records_expire_after_the_longest_possible_connection(store: DynamoConnectionStore) -> None:
    store.register(a_record())
    item = store._client.get_item(TableName="connections", Key={"pk": {"S": "conn#c1"}})["Item"]
    assert int(item["ttl"]["N"]) == int(NOW.timestamp()) + 3 * 3600


def sender_with(stub: Any) -> tuple[ApiGatewaySender, Stubber]:
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="https://example.execute-api.us-east-1.amazonaws.com/prod",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    stubber = Stubber(client)
    stub(stubber)
    stubber.activate()
    return ApiGatewaySender(client), stubber


def test_the_sender_posts_the_frame_as_utf8() -> None:
    sender, stubber = sender_with(
        lambda s: s.add_response(
            "post_to_connection", {}, {"ConnectionId": "c1", "Data": '[3,"x",{"ä":1}]'.encode()}
        )
    )
    sender.send("c1", '[3,"x",{"ä":1}]')
    stubber.assert_no_pending_responses()


def test_a_gone_connection_raises_connection_gone() -> None:
    sender, _ = sender_with(
        lambda s: s.add_client_error("post_to_connection", "GoneException", http_status_code=410)
    )
    with pytest.raises(ConnectionGone):
        sender.send("c1", "[]")


def test_closing_a_gone_connection_is_not_an_error() -> None:
    sender, stubber = sender_with(
        lambda s: s.add_client_error("delete_connection", "GoneException", http_status_code=410)
    )
    sender.close("c1")
    stubber.assert_no_pending_responses()
