"""DynamoDB-backed connection store (see csms.aws.schema for the item layout)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from csms.aws.schema import PARTITION_KEY, TENANT_INDEX, TTL_ATTRIBUTE
from csms.constants import MAX_CONNECTION_SECONDS
from csms.domain.connections import ConnectionRecord, LivenessSnapshot, StoredConnection
from csms.domain.stations import RegistrationStatus

#: A record outlives its connection's hard maximum by this much before DynamoDB may expire it.
_TTL_SLACK = timedelta(hours=1)
#: How long a closed connection's record stays: frames already in flight when the socket
#: closed ($default and $disconnect race on API Gateway) can still be attributed.
_CLOSED_GRACE = timedelta(minutes=5)


def _conn_key(connection_id: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"conn#{connection_id}"}}


def _cp_key(charge_point_id: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"cp#{charge_point_id}"}}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _record(item: dict[str, Any]) -> ConnectionRecord:
    return ConnectionRecord(
        connection_id=item["connection_id"]["S"],
        charge_point_id=item["charge_point_id"]["S"],
        tenant_id=item["tenant_id"]["S"],
        protocol=item["protocol"]["S"],
        connected_at=datetime.fromisoformat(item["connected_at"]["S"]),
        registration_status=RegistrationStatus(item["registration_status"]["S"]),
        last_seen=datetime.fromisoformat(item["last_seen"]["S"]) if "last_seen" in item else None,
        awaiting_first_frame="awaiting_first_frame" in item,
    )


class DynamoConnectionStore:
    """The production :class:`csms.domain.connections.ConnectionStore` (low-level client: fastest path).

    ``refresh``: :meth:`touch` writes ``last_seen`` only when the stored one is older than
    this (0: on every frame). The liveness job allows ``2 x HeartbeatInterval + slack``, so a
    ``last_seen`` that lags by at most the slack never makes a live charger look silent
    (``csms.app.wiring`` passes ``liveness_slack_seconds``).
    """

    def __init__(self, client: Any, table_name: str, refresh: timedelta = timedelta(0)) -> None:
        self._client = client
        self._table = table_name
        self._refresh = refresh

    def register(self, record: ConnectionRecord) -> str | None:
        expires = int(
            (record.connected_at + timedelta(seconds=MAX_CONNECTION_SECONDS) + _TTL_SLACK).timestamp()
        )
        attributes = {
            "connection_id": {"S": record.connection_id},
            "charge_point_id": {"S": record.charge_point_id},
            "tenant_id": {"S": record.tenant_id},
            "protocol": {"S": record.protocol},
            "connected_at": {"S": _iso(record.connected_at)},
            "last_seen": {"S": _iso(record.connected_at)},
            "registration_status": {"S": record.registration_status.value},
            TTL_ATTRIBUTE: {"N": str(expires)},
        }
        # The station's own item (read by the command pipeline) does not carry the flag: a
        # command goes to any current connection; the flag only tells the message function
        # which frame is the first.
        self._client.put_item(
            TableName=self._table,
            Item={
                **_conn_key(record.connection_id),
                **attributes,
                "awaiting_first_frame": {"BOOL": True},
            },
        )
        previous = self._client.put_item(
            TableName=self._table,
            Item={**_cp_key(record.charge_point_id), **attributes},
            ReturnValues="ALL_OLD",
        ).get("Attributes")
        if previous and previous["connection_id"]["S"] != record.connection_id:
            return str(previous["connection_id"]["S"])
        return None

    def touch(self, connection_id: str, at: datetime) -> ConnectionRecord | None:
        # Who is this connection: one consistent read (1 read unit, a fifth of a write unit's
        # price). Liveness: a write only when the stored last_seen is older than the refresh
        # period, not on every frame (issue 16). A conditional write that skipped would be
        # billed anyway, hence read first.
        item = self._client.get_item(
            TableName=self._table, Key=_conn_key(connection_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        record = _record(item)
        if record.last_seen is not None and at - record.last_seen <= self._refresh:
            return record
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_conn_key(connection_id),
                UpdateExpression="SET last_seen = :now",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
                ExpressionAttributeValues={":now": {"S": _iso(at)}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None  # expired between the two calls
        return replace(record, last_seen=at)

    def set_registration_status(self, connection_id: str, status: RegistrationStatus) -> None:
        # A connection closed meanwhile is fine: the next one reads the status afresh.
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.update_item(
                TableName=self._table,
                Key=_conn_key(connection_id),
                UpdateExpression="SET registration_status = :s",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
                ExpressionAttributeValues={":s": {"S": status.value}},
            )

    def first_frame_answered(self, connection_id: str) -> bool:
        # One write per connection (its first frame): the condition picks one of concurrent
        # first frames, and leaves the flag while the station is not Accepted.
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_conn_key(connection_id),
                UpdateExpression="REMOVE awaiting_first_frame",
                ConditionExpression="attribute_exists(awaiting_first_frame) "
                "AND registration_status = :accepted",
                ExpressionAttributeValues={":accepted": {"S": RegistrationStatus.ACCEPTED.value}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def unregister(self, connection_id: str) -> ConnectionRecord | None:
        # Closed, not deleted: a frame the charger sent just before closing may still be
        # in flight and must find out whose it is. The record expires shortly after.
        now = datetime.now(UTC)
        try:
            old = self._client.update_item(
                TableName=self._table,
                Key=_conn_key(connection_id),
                UpdateExpression="SET closed_at = :now, #ttl = :expires",
                ConditionExpression="attribute_exists(#pk) AND attribute_not_exists(closed_at)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":now": {"S": _iso(now)},
                    ":expires": {"N": str(int((now + _CLOSED_GRACE).timestamp()))},
                },
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except self._client.exceptions.ConditionalCheckFailedException:
            return None  # unknown, or closed already ($disconnect delivered twice)
        if not old:
            return None
        # Only if it is still the charger's current connection: a $disconnect that arrives
        # after a quick reconnect must not mark the reconnected charger offline.
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_cp_key(old["charge_point_id"]["S"]),
                ConditionExpression="connection_id = :cid",
                ExpressionAttributeValues={":cid": {"S": connection_id}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return _record(old)

    def current_connection(self, charge_point_id: str) -> str | None:
        item = self._client.get_item(
            TableName=self._table, Key=_cp_key(charge_point_id), ConsistentRead=True
        ).get("Item")
        return str(item["connection_id"]["S"]) if item else None

    def current_record(self, charge_point_id: str) -> ConnectionRecord | None:
        # The station's item carries every attribute of its connection's (register writes both).
        item = self._client.get_item(
            TableName=self._table, Key=_cp_key(charge_point_id), ConsistentRead=True
        ).get("Item")
        return _record(item) if item else None

    def online(self, tenant_id: str, station_ids: Sequence[str]) -> dict[str, datetime]:
        """:class:`csms.domain.load.OnlineStations`: those of the stations connected now, with
        when their connection began. Looked up by key (:meth:`connections_of`: two calls per
        100 stations), so a site's reallocation costs the same in a tenant of 20 stations or of
        10,000; a station of another tenant is never counted."""
        return {
            station: record.connected_at
            for station, record in self.connections_of(station_ids).items()
            if record.tenant_id == tenant_id
        }

    def tenant_connections(self, tenant_id: str, *, last_seen: bool = True) -> dict[str, ConnectionRecord]:
        """The tenant's chargers that are connected now, by charge point id: one Query of the
        ``by-tenant`` index, then (``last_seen``) their ``last_seen`` from the table.

        The index projects what a listing needs but not ``last_seen`` (``schema.TENANT_INDEX_ATTRIBUTES``),
        so the liveness writes of the message path never write the index too; the listing pays
        a ``BatchGetItem`` of the live records instead (0.5 read units each). Without
        ``last_seen`` the records carry their connection's start as ``last_seen`` and cost the
        Query only: who is connected, for a filter (:meth:`with_last_seen` completes a page)."""
        live: dict[str, ConnectionRecord] = {}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": TENANT_INDEX,
            "KeyConditionExpression": "tenant_id = :t AND begins_with(#pk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":t": {"S": tenant_id}, ":prefix": {"S": "conn#"}},
        }
        while True:
            page = self._client.query(**kwargs)
            for item in page.get("Items", []):
                if "closed_at" in item:
                    continue
                record = _record(item)
                # A replaced connection lingers until its $disconnect: the newest one counts.
                known = live.get(record.charge_point_id)
                if known is None or known.connected_at < record.connected_at:
                    live[record.charge_point_id] = record
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return self.with_last_seen(live) if last_seen else live

    def with_last_seen(self, records: Mapping[str, ConnectionRecord]) -> dict[str, ConnectionRecord]:
        """These connections with their current ``last_seen`` (one ``BatchGetItem`` per 100)."""
        seen = self._last_seen([record.connection_id for record in records.values()])
        return {
            charger: replace(record, last_seen=seen.get(record.connection_id, record.last_seen))
            for charger, record in records.items()
        }

    def connections_of(self, charge_point_ids: Sequence[str]) -> dict[str, ConnectionRecord]:
        """The current connections of these stations (those connected), with ``last_seen``:
        a ``BatchGetItem`` of their ``cp#`` items, then one of their connections' (which tell
        ``last_seen`` and whether the connection was closed meanwhile), 100 keys a call: a
        page of a listing costs two calls however large the tenant."""
        current = {
            item["charge_point_id"]["S"]: _record(item)
            for item in self._batch_get([_cp_key(station) for station in dict.fromkeys(charge_point_ids)])
        }
        connections = {
            item["connection_id"]["S"]: item
            for item in self._batch_get(
                [_conn_key(record.connection_id) for record in current.values()],
                "connection_id, last_seen, closed_at",
            )
        }
        found: dict[str, ConnectionRecord] = {}
        for station, record in current.items():
            item = connections.get(record.connection_id)
            if item is None or "closed_at" in item:
                continue
            seen = datetime.fromisoformat(item["last_seen"]["S"]) if "last_seen" in item else record.last_seen
            found[station] = replace(record, last_seen=seen)
        return found

    def _batch_get(self, keys: list[dict[str, Any]], projection: str | None = None) -> list[dict[str, Any]]:
        """The items of these keys that exist (eventually consistent, 100 keys a call)."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            wanted: dict[str, Any] = {"Keys": keys[start : start + 100]}
            if projection is not None:
                wanted["ProjectionExpression"] = projection
            request: dict[str, Any] = {self._table: wanted}
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                items.extend(answer.get("Responses", {}).get(self._table, []))
                request = answer.get("UnprocessedKeys") or {}
        return items

    def _last_seen(self, connection_ids: list[str]) -> dict[str, datetime]:
        """``last_seen`` of these connections' records (eventually consistent, 100 a call)."""
        keys = [_conn_key(cid) for cid in connection_ids]
        return {
            item["connection_id"]["S"]: datetime.fromisoformat(item["last_seen"]["S"])
            for item in self._batch_get(keys, "connection_id, last_seen")
            if "last_seen" in item
        }

    def count_connected(self) -> int:
        """How many chargers have a current connection (all tenants; for the fleet gauge)."""
        total = 0
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Select": "COUNT",
            "FilterExpression": "begins_with(#pk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":prefix": {"S": "cp#"}},
        }
        while True:
            page = self._client.scan(**kwargs)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def charger_of(self, connection_id: str) -> str | None:
        """The charger id behind a connection (None if unknown)."""
        item = self._client.get_item(TableName=self._table, Key=_conn_key(connection_id)).get("Item")
        return str(item["charge_point_id"]["S"]) if item else None

    def ping(self) -> bool:
        """True if the table answers (health checks)."""
        try:
            self._client.describe_table(TableName=self._table)
        except Exception:
            return False
        return True

    # --- the liveness job (csms.services.liveness) ------------------------------------------

    def liveness_scan(self) -> LivenessSnapshot:
        """Every charger's current connection and every open connection record, in one
        paginated ``Scan`` of the table (all tenants).

        Cost: the job runs every 5 minutes and this is its only read of the whole table. A
        Scan is billed on the size of the items it reads (~300 bytes each: two per connected
        charger), before the projection and the filter apply: 10,000 connected chargers are
        about 6 MB, ~750 eventually consistent read units per run, ~6.5 million a month
        (under $1 at the on-demand price in ``csms/cost/prices.toml``). The filter (``closed_at``
        absent) and the projection only trim what comes back, not what is billed.

        The snapshot is eventually consistent and may be seconds old: the caller re-reads an
        item (:meth:`open_connection`) before acting on it.
        """
        snapshot = LivenessSnapshot(current={}, open={})
        names = {f"#{name}": name for name in _SCANNED}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "ProjectionExpression": ", ".join(names),
            "FilterExpression": "attribute_not_exists(#closed_at)",
            "ExpressionAttributeNames": {**names, "#closed_at": "closed_at"},
        }
        while True:
            page = self._client.scan(**kwargs)
            for item in page.get("Items", []):
                key = str(item[PARTITION_KEY]["S"])
                try:
                    record = _record(item)
                except (KeyError, ValueError):
                    continue  # not a connection item (or a malformed one): nothing to judge
                if key.startswith("cp#"):
                    snapshot.current[record.charge_point_id] = record
                elif key.startswith("conn#"):
                    snapshot.open[record.connection_id] = record
            if "LastEvaluatedKey" not in page:
                return snapshot
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def open_connection(self, connection_id: str) -> StoredConnection | None:
        """The connection's record as it is now (consistent read), closed or not; None if
        there is none (never registered, or expired)."""
        item = self._client.get_item(
            TableName=self._table, Key=_conn_key(connection_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return StoredConnection(_record(item), "closed_at" in item)

    def close_stale(
        self, connection_id: str, at: datetime, *, if_last_seen: datetime | None = None
    ) -> ConnectionRecord | None:
        """Mark an open connection closed, as :meth:`unregister` does for ``$disconnect``
        (``closed_at``, then expiry shortly after), but at ``at`` (the job's clock) and
        without touching the charger's current-connection item (see :meth:`release`).

        With ``if_last_seen``, only if no frame arrived since: the record's ``last_seen``
        must still be that. Returns the record if this call closed it, None if it was
        unknown, closed already (a ``$disconnect``, a concurrent run) or seen meanwhile.
        """
        condition = "attribute_exists(#pk) AND attribute_not_exists(closed_at)"
        values: dict[str, Any] = {
            ":now": {"S": _iso(at)},
            ":expires": {"N": str(int((at + _CLOSED_GRACE).timestamp()))},
        }
        if if_last_seen is not None:
            condition += " AND last_seen = :seen"
            values[":seen"] = {"S": _iso(if_last_seen)}
        try:
            old = self._client.update_item(
                TableName=self._table,
                Key=_conn_key(connection_id),
                UpdateExpression="SET closed_at = :now, #ttl = :expires",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return _record(old) if old else None

    def release(self, charge_point_id: str, connection_id: str) -> bool:
        """Take the charger offline if ``connection_id`` is still its current connection (the
        ``cp#`` item is deleted only if it names it). True if this call did it."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_cp_key(charge_point_id),
                ConditionExpression="connection_id = :cid",
                ExpressionAttributeValues={":cid": {"S": connection_id}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True


#: What the liveness scan reads of each item (``_record`` needs all of these).
_SCANNED = (
    PARTITION_KEY,
    "connection_id",
    "charge_point_id",
    "tenant_id",
    "protocol",
    "connected_at",
    "registration_status",
    "last_seen",
)
