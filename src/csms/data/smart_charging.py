"""PostgreSQL implementation of :class:`csms.domain.smart_charging.ChargingProfileStore`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, insert, or_, select, update

from csms.data.database import PgDatabase
from csms.data.tables import charging_profiles as profiles
from csms.domain.smart_charging import (
    ChargingProfile,
    ClearCriteria,
    ProfileQuery,
    ProfileSpec,
    ProfileStatus,
)

_INSTALLED = ProfileStatus.INSTALLED.value


def _profile(row: Row[Any]) -> ChargingProfile:
    m = row._mapping
    return ChargingProfile(
        id=m["id"],
        charge_point_id=m["charge_point_id"],
        spec=ProfileSpec(
            evse_id=m["evse_id"],
            charging_profile_id=m["charging_profile_id"],
            purpose=m["purpose"],
            stack_level=m["stack_level"],
            kind=m["kind"],
            schedules=m["schedules"],
            recurrency_kind=m["recurrency_kind"],
            valid_from=m["valid_from"],
            valid_to=m["valid_to"],
            transaction_id=m["transaction_id"],
        ),
        status=ProfileStatus(m["status"]),
        command_id=m["command_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


class PgChargingProfileStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(
        self, tenant_id: str, charge_point_id: str, spec: ProfileSpec, command_id: str, at: datetime
    ) -> int:
        with self._db.begin() as conn:
            row_id: int = conn.execute(
                insert(profiles)
                .values(
                    tenant_id=tenant_id,
                    charge_point_id=charge_point_id,
                    evse_id=spec.evse_id,
                    charging_profile_id=spec.charging_profile_id,
                    purpose=spec.purpose,
                    stack_level=spec.stack_level,
                    kind=spec.kind,
                    recurrency_kind=spec.recurrency_kind,
                    valid_from=spec.valid_from,
                    valid_to=spec.valid_to,
                    transaction_id=spec.transaction_id,
                    schedules=spec.schedules,
                    status=ProfileStatus.REQUESTED.value,
                    command_id=command_id,
                    created_at=at,
                    updated_at=at,
                )
                .returning(profiles.c.id)
            ).scalar_one()
        return row_id

    def install(self, command_id: str, at: datetime) -> int:
        with self._db.begin() as conn:
            new = conn.execute(
                update(profiles)
                .where(
                    profiles.c.command_id == command_id, profiles.c.status == ProfileStatus.REQUESTED.value
                )
                .values(status=_INSTALLED, updated_at=at)
                .returning(profiles)
            ).first()
            if new is None:
                return 0  # it ended meanwhile (timed out): a late answer changes nothing
            replaced = conn.execute(
                update(profiles)
                .where(
                    profiles.c.tenant_id == new.tenant_id,
                    profiles.c.charge_point_id == new.charge_point_id,
                    profiles.c.status == _INSTALLED,
                    profiles.c.id != new.id,
                    or_(
                        profiles.c.charging_profile_id == new.charging_profile_id,
                        and_(
                            profiles.c.evse_id == new.evse_id,
                            profiles.c.purpose == new.purpose,
                            profiles.c.stack_level == new.stack_level,
                        ),
                    ),
                )
                .values(status=ProfileStatus.CLEARED.value, updated_at=at)
            )
            return int(replaced.rowcount)

    def finish(self, command_id: str, status: ProfileStatus, at: datetime) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(profiles)
                .where(
                    profiles.c.command_id == command_id, profiles.c.status == ProfileStatus.REQUESTED.value
                )
                .values(status=status.value, updated_at=at)
            )
            return bool(result.rowcount)

    def clear(self, tenant_id: str, charge_point_id: str, criteria: ClearCriteria, at: datetime) -> int:
        where = [
            profiles.c.tenant_id == tenant_id,
            profiles.c.charge_point_id == charge_point_id,
            profiles.c.status == _INSTALLED,
        ]
        if criteria.charging_profile_id is not None:
            where.append(profiles.c.charging_profile_id == criteria.charging_profile_id)
        else:
            if criteria.evse_id is not None:
                where.append(profiles.c.evse_id == criteria.evse_id)
            if criteria.purpose is not None:
                where.append(profiles.c.purpose == criteria.purpose)
            if criteria.stack_level is not None:
                where.append(profiles.c.stack_level == criteria.stack_level)
        with self._db.begin() as conn:
            result = conn.execute(
                update(profiles).where(*where).values(status=ProfileStatus.CLEARED.value, updated_at=at)
            )
            return int(result.rowcount)

    def search(
        self, tenant_id: str, charge_point_id: str, query: ProfileQuery
    ) -> tuple[list[ChargingProfile], int]:
        where = [profiles.c.tenant_id == tenant_id, profiles.c.charge_point_id == charge_point_id]
        if query.status is not None:
            where.append(profiles.c.status == query.status.value)
        if query.evse_id is not None:
            where.append(profiles.c.evse_id == query.evse_id)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(profiles).where(*where)).scalar_one()
            rows = conn.execute(
                select(profiles)
                .where(*where)
                .order_by(
                    profiles.c.evse_id,
                    profiles.c.purpose,
                    profiles.c.stack_level.desc(),
                    profiles.c.created_at.desc(),
                    profiles.c.id.desc(),
                )
                .limit(query.limit)
                .offset(query.offset)
            )
            return [_profile(r) for r in rows], int(total)
