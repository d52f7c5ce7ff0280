"""What the liveness job reads from PostgreSQL: each station's heartbeat interval."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from csms.data.database import PgDatabase
from csms.data.tables import charge_points
from csms.data.tables import device_model_variables as dm
from csms.domain.device_model import HEARTBEAT_INTERVAL

#: Chargers per statement.
_BATCH = 1000

_COMPONENT, _VARIABLE = HEARTBEAT_INTERVAL.component, HEARTBEAT_INTERVAL.variable
#: The stations' stored OCPPCommCtrlr.HeartbeatInterval (a 1.6 charger's HeartbeatInterval key)
#: and their last boot (lookups on ux_device_model_variables).
_CONFIGURED = (
    select(dm.c.charge_point_id, dm.c.value, dm.c.updated_at, charge_points.c.last_boot_at)
    .join(charge_points, charge_points.c.id == dm.c.charge_point_id)
    .where(
        dm.c.charge_point_id == bindparam("ids", type_=ARRAY(Text)).any_(),
        func.lower(dm.c.component) == _COMPONENT.name.lower(),
        func.lower(dm.c.component_instance) == "",
        dm.c.evse_id == -1,
        dm.c.connector_id == -1,
        func.lower(dm.c.variable) == _VARIABLE.name.lower(),
        func.lower(dm.c.variable_instance) == "",
        dm.c.attribute_type == HEARTBEAT_INTERVAL.attribute_type.value,
        dm.c.known.is_(True),
    )
)


class PgHeartbeatIntervals:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def heartbeat_intervals(self, charge_point_ids: Sequence[str]) -> dict[str, int]:
        """The interval each of these stations heartbeats at, where its device model says so:
        the ``OCPPCommCtrlr.HeartbeatInterval`` it reported (NotifyReport, GetVariables; a 1.6
        charger's GetConfiguration) or accepted (SetVariables; ChangeConfiguration) since its
        last boot. A value recorded before the last boot no longer holds (the BootNotification
        answer sets the interval again); a value that is not a positive integer is ignored.
        Stations not in the answer use the default."""
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
