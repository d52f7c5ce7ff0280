"""Queries behind :class:`csms.domain.locations.LocationQueries`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.tables import charge_points, locations, tenants
from csms.domain.locations import Location, LocationQuery

#: Names sort case-insensitively whatever the database's collation.
_SORT = {"name": func.lower(locations.c.name), "createdAt": locations.c.created_at}

#: Chargers counted at a location: decommissioned ones keep their location_id but are gone.
_ACTIVE = charge_points.c.decommissioned_at.is_(None)


def _location(row: Row[Any], count: int = 0) -> Location:
    m = row._mapping
    return Location(
        id=m["id"],
        name=m["name"],
        address=m["address"],
        city=m["city"],
        postal_code=m["postal_code"],
        country=m["country"],
        latitude=m["latitude"],
        longitude=m["longitude"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        charge_point_count=count,
    )


class _Unknown(Exception):
    def __init__(self, ids: set[str]) -> None:
        super().__init__("unknown charge points")
        self.ids = ids


class PgLocationQueries:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(self, tenant_id: str, location_id: str, fields: dict[str, Any], now: datetime) -> bool:
        with self._db.begin() as conn:
            conn.execute(
                pg_insert(tenants)
                .values(id=tenant_id, name=tenant_id, created_at=now)
                .on_conflict_do_nothing()
            )
            inserted = conn.execute(
                pg_insert(locations)
                .values(id=location_id, tenant_id=tenant_id, created_at=now, updated_at=now, **fields)
                .on_conflict_do_nothing()
                .returning(locations.c.id)
            ).first()
        return inserted is not None

    def search(self, tenant_id: str, query: LocationQuery) -> tuple[list[Location], int]:
        conditions = [locations.c.tenant_id == tenant_id]
        if query.name_contains:
            conditions.append(locations.c.name.icontains(query.name_contains, autoescape=True))
        if query.country is not None:
            conditions.append(locations.c.country == query.country)
        where = and_(*conditions)
        column = _SORT.get(query.sort, locations.c.name)
        order = column.desc() if query.descending else column.asc()
        count = (
            select(func.count())
            .where(
                charge_points.c.location_id == locations.c.id,
                charge_points.c.tenant_id == locations.c.tenant_id,
                _ACTIVE,
            )
            .scalar_subquery()
            .label("charge_point_count")
        )
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(locations).where(where)).scalar_one()
            rows = conn.execute(
                select(locations, count)
                .where(where)
                .order_by(order, locations.c.id)
                .limit(query.limit)
                .offset(query.offset)
            )
            return [_location(r, r.charge_point_count) for r in rows], int(total)

    def get(self, tenant_id: str, location_id: str) -> Location | None:
        with self._db.connect() as conn:
            row = conn.execute(
                select(locations).where(locations.c.id == location_id, locations.c.tenant_id == tenant_id)
            ).first()
            if row is None:
                return None
            count = conn.execute(
                select(func.count()).where(
                    charge_points.c.tenant_id == tenant_id,
                    charge_points.c.location_id == location_id,
                    _ACTIVE,
                )
            ).scalar_one()
        return _location(row, int(count))

    def charge_point_ids(self, tenant_id: str, location_id: str) -> list[str]:
        with self._db.connect() as conn:
            return list(
                conn.execute(
                    select(charge_points.c.id)
                    .where(
                        charge_points.c.tenant_id == tenant_id,
                        charge_points.c.location_id == location_id,
                        _ACTIVE,
                    )
                    .order_by(charge_points.c.id)
                ).scalars()
            )

    def update(self, tenant_id: str, location_id: str, changes: dict[str, Any], now: datetime) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(locations)
                .where(locations.c.id == location_id, locations.c.tenant_id == tenant_id)
                .values(**changes, updated_at=now)
            )
            return bool(result.rowcount)

    def delete(self, tenant_id: str, location_id: str, now: datetime) -> bool:
        with self._db.begin() as conn:
            # The foreign key would set NULL as well; doing it here also stamps updated_at.
            conn.execute(
                update(charge_points)
                .where(charge_points.c.tenant_id == tenant_id, charge_points.c.location_id == location_id)
                .values(location_id=None, updated_at=now)
            )
            result = conn.execute(
                delete(locations).where(locations.c.id == location_id, locations.c.tenant_id == tenant_id)
            )
            return bool(result.rowcount)

    def assign(
        self, tenant_id: str, location_id: str, charge_point_ids: Collection[str], now: datetime
    ) -> set[str] | None:
        wanted = set(charge_point_ids)
        try:
            with self._db.begin() as conn:
                # FOR SHARE: a concurrent delete of the location waits for this assignment.
                found = conn.execute(
                    select(locations.c.id)
                    .where(locations.c.id == location_id, locations.c.tenant_id == tenant_id)
                    .with_for_update(read=True)
                ).first()
                if found is None:
                    return None
                moved = set(
                    conn.execute(
                        update(charge_points)
                        .where(charge_points.c.tenant_id == tenant_id, charge_points.c.id.in_(wanted))
                        .values(location_id=location_id, updated_at=now)
                        .returning(charge_points.c.id)
                    ).scalars()
                )
                if moved != wanted:
                    raise _Unknown(wanted - moved)  # rolls the transaction back: all or nothing
        except _Unknown as unknown:
            return unknown.ids
        return set()

    def unassign(self, tenant_id: str, location_id: str, charge_point_id: str, now: datetime) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(charge_points)
                .where(
                    charge_points.c.tenant_id == tenant_id,
                    charge_points.c.id == charge_point_id,
                    charge_points.c.location_id == location_id,
                )
                .values(location_id=None, updated_at=now)
            )
            return bool(result.rowcount)
