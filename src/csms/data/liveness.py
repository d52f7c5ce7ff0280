"""What the liveness job reads from PostgreSQL: each charger's heartbeat interval."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from csms.data.database import PgDatabase
from csms.data.tables import charge_point_configuration as cfg
from csms.data.tables import charge_points

HEARTBEAT_INTERVAL_KEY = "HeartbeatInterval"
#: Chargers per statement.
_BATCH = 1000

#: The chargers' stored HeartbeatInterval and their last boot (primary key lookups).
_CONFIGURED = (
    select(cfg.c.charge_point_id, cfg.c.value, cfg.c.updated_at, charge_points.c.last_boot_at)
    .join(charge_points, charge_points.c.id == cfg.c.charge_point_id)
    .where(
        cfg.c.key == HEARTBEAT_INTERVAL_KEY,
        cfg.c.known.is_(True),
        cfg.c.charge_point_id == bindparam("ids", type_=ARRAY(Text)).any_(),
    )
)


class PgHeartbeatIntervals:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def heartbeat_intervals(self, charge_point_ids: Sequence[str]) -> dict[str, int]:
        """The interval each of these chargers heartbeats at, where its stored configuration
        says so: the ``HeartbeatInterval`` it reported (GetConfiguration) or accepted
        (ChangeConfiguration) since its last boot. A value recorded before the last boot no
        longer holds (the BootNotification answer sets the interval again); a value that is
        not a positive integer is ignored. Chargers not in the answer use the default."""
        ids = list(charge_point_ids)
        if not ids:
            return {}
        with self._db.connect() as conn:
            rows = [
                row
                for start in range(0, len(ids), _BATCH)
                for row in conn.execute(_CONFIGURED, {"ids": ids[start : start + _BATCH]})
            ]
        intervals: dict[str, int] = {}
        for charge_point_id, value, updated_at, last_boot_at in rows:
            if last_boot_at is not None and updated_at < last_boot_at:
                continue
            try:
                seconds = int(str(value).strip())
            except ValueError:
                continue
            if seconds > 0:
                intervals[charge_point_id] = seconds
        return intervals
