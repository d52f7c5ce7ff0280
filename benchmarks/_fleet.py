"""A tenant's fleet of N stations, written straight into PostgreSQL in a few set-based
statements (the REST API provisions one station per request: 10,000 would take minutes).

What it writes, all deterministic in the station's number n (so a run can be checked):
- ``locations`` locations ``{tenant}-loc-NN``; every station at one of them;
- stations ``{prefix}NNNNN``: registration Accepted (Pending every 37th, Rejected every 53rd),
  pinned to ocpp1.6 (n % 3 == 1), ocpp2.0.1 (n % 3 == 2) or neither, five vendors, booted
  within the last days (every 11th never booted), created over the last year;
- two EVSEs of one connector each (1.6 connector N is EVSE N): about a fifth charging, a few
  preparing, suspended, faulted or unavailable, the rest available;
- ``history`` closed transactions per station (older, so the open ones must be found among
  them), and one open transaction per charging connector, started within the last hour;
- for each open transaction, ``minutes`` one-minute samples of Energy.Active.Import.Register,
  Current.Import (L1, L2, L3), Voltage and Power.Active.Import: the total for 1.6 stations,
  per phase (L1-N, L2-N, L3-N) for the others (so both the total and the phase sum are read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

VENDORS = ("Alfen", "ABB", "Wallbox", "Kempower", "Zaptec")


@dataclass(frozen=True)
class SeededFleet:
    tenant: str
    stations: int
    charging_connectors: int
    open_transactions: int
    closed_transactions: int
    meter_samples: int

    def station_id(self, n: int, prefix: str = "FLT-") -> str:
        return f"{prefix}{n:05d}"


def seed_fleet(
    engine: Engine,
    tenant: str,
    stations: int,
    *,
    now: datetime,
    prefix: str = "FLT-",
    locations: int = 20,
    history: int = 5,
    minutes: int = 30,
) -> SeededFleet:
    """Write the fleet (the tenant must have no stations with these ids yet)."""
    p = {"tenant": tenant, "n": stations, "prefix": prefix, "now": now, "locs": locations}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, created_at) VALUES (:tenant, :tenant, :now) "
                "ON CONFLICT DO NOTHING"
            ),
            p,
        )
        conn.execute(
            text(
                """
                INSERT INTO locations (id, tenant_id, name, city, country, created_at, updated_at)
                SELECT :tenant || '-loc-' || lpad(i::text, 2, '0'), :tenant,
                       'Car park ' || i, 'Utrecht', 'NL', :now, :now
                FROM generate_series(1, :locs) i
                ON CONFLICT DO NOTHING
                """
            ),
            p,
        )
        conn.execute(
            text(
                """
                INSERT INTO charge_points (
                    id, tenant_id, registration_status, vendor, model, firmware_version,
                    last_boot_at, created_at, updated_at, location_id, ocpp_version, last_protocol,
                    security_profile, security_profile_source)
                SELECT :prefix || lpad(n::text, 5, '0'), :tenant,
                       CASE WHEN n % 53 = 0 THEN 'Rejected' WHEN n % 37 = 0 THEN 'Pending'
                            ELSE 'Accepted' END,
                       (ARRAY['Alfen','ABB','Wallbox','Kempower','Zaptec'])[1 + n % 5],
                       'Model ' || (1 + n % 4), '1.' || (n % 7),
                       CASE WHEN n % 11 = 0 THEN NULL
                            ELSE :now - make_interval(mins => (n * 37) % 10080) END,
                       :now - make_interval(hours => (n * 13) % 8760),
                       :now,
                       :tenant || '-loc-' || lpad((1 + n % :locs)::text, 2, '0'),
                       CASE n % 3 WHEN 1 THEN 'ocpp1.6' WHEN 2 THEN 'ocpp2.0.1' END,
                       CASE WHEN n % 3 = 2 THEN 'ocpp2.0.1' ELSE 'ocpp1.6' END,
                       0, 'station'
                FROM generate_series(1, :n) n
                """
            ),
            p,
        )
        # Connector n/e's status: charging when (n * 7 + e * 3) % 10 < 2 (a fifth of them).
        conn.execute(
            text(
                """
                INSERT INTO connectors (
                    tenant_id, charge_point_id, evse_id, connector_id, status, state, charging_state,
                    error_code, status_timestamp, updated_at)
                SELECT :tenant, :prefix || lpad(n::text, 5, '0'), e, 1, s.status, s.state, s.charging,
                       CASE WHEN s.status = 'Faulted' THEN 'GroundFailure' ELSE 'NoError' END,
                       :now - make_interval(mins => (n + e) % 600), :now
                FROM generate_series(1, :n) n, generate_series(1, 2) e,
                LATERAL (SELECT (n * 7 + e * 3) % 100 AS k) pick,
                LATERAL (
                    SELECT * FROM (VALUES
                        (pick.k < 20, 'Charging', 'Occupied', 'Charging'),
                        (pick.k BETWEEN 20 AND 23, 'Preparing', 'Occupied', 'EVConnected'),
                        (pick.k BETWEEN 24 AND 26, 'SuspendedEV', 'Occupied', 'SuspendedEV'),
                        (pick.k BETWEEN 27 AND 28, 'Faulted', 'Faulted', NULL),
                        (pick.k = 29, 'Unavailable', 'Unavailable', NULL),
                        (pick.k >= 30, 'Available', 'Available', NULL)
                    ) v(chosen, status, state, charging)
                    WHERE v.chosen
                ) s
                """
            ),
            p,
        )
        conn.execute(
            text(
                """
                INSERT INTO transactions (
                    tenant_id, charge_point_id, evse_id, connector_id, id_token, start_auth_status,
                    meter_start, start_timestamp, meter_stop, stop_timestamp, stop_reason,
                    started_received_at, stopped_received_at, transaction_id, protocol)
                SELECT :tenant, cp.id, 1 + h % 2, 1, 'TOKEN-' || (h % 50), 'Accepted',
                       h * 100000, :now - make_interval(days => h + 1),
                       h * 100000 + 12000, :now - make_interval(days => h + 1) + interval '2 hours',
                       'Local', :now - make_interval(days => h + 1),
                       :now - make_interval(days => h + 1) + interval '2 hours',
                       'h' || h, cp.last_protocol
                FROM charge_points cp, generate_series(1, :history) h
                WHERE cp.tenant_id = :tenant AND cp.id LIKE :prefix || '%'
                """
            ),
            {**p, "history": history},
        )
        conn.execute(
            text(
                """
                INSERT INTO transactions (
                    tenant_id, charge_point_id, evse_id, connector_id, id_token, start_auth_status,
                    meter_start, start_timestamp, started_received_at, transaction_id, protocol,
                    charging_state)
                SELECT :tenant, c.charge_point_id, c.evse_id, 1, 'TOKEN-' || c.evse_id, 'Accepted',
                       1000000, :now - make_interval(mins => :minutes + c.evse_id),
                       :now - make_interval(mins => :minutes + c.evse_id),
                       'open-' || c.evse_id, cp.last_protocol,
                       CASE WHEN cp.last_protocol = 'ocpp2.0.1' THEN 'Charging' END
                FROM connectors c JOIN charge_points cp ON cp.id = c.charge_point_id
                WHERE c.tenant_id = :tenant AND c.charge_point_id LIKE :prefix || '%'
                  AND c.status = 'Charging'
                """
            ),
            {**p, "minutes": minutes},
        )
        # Power: 3.6 kW to 22 kW by station and EVSE, a little different each minute.
        conn.execute(
            text(
                """
                INSERT INTO meter_samples (
                    tenant_id, charge_point_id, evse_id, transaction_id, "timestamp", measurand,
                    phase, unit, context, location, format, value, numeric_value, received_at)
                SELECT :tenant, t.charge_point_id, t.evse_id, t.id, at, m.measurand, m.phase, m.unit,
                       'Sample.Periodic', 'Outlet', 'Raw', round(m.v::numeric, 1)::text,
                       round(m.v::numeric, 1), at
                FROM transactions t
                JOIN charge_points cp ON cp.id = t.charge_point_id,
                LATERAL (SELECT 3600 + abs(hashtext(t.charge_point_id || '/' || t.evse_id)) % 18400
                         AS watts) w,
                generate_series(1, :minutes) minute,
                LATERAL (SELECT :now - make_interval(mins => :minutes - minute) AS at,
                                w.watts + (minute % 5) * 20 AS p) s,
                LATERAL (
                    SELECT * FROM (VALUES
                        ('Energy.Active.Import.Register', '', 'Wh', 1000000 + s.p * minute / 60.0, true),
                        ('Current.Import', 'L1', 'A', s.p / 690.0, true),
                        ('Current.Import', 'L2', 'A', s.p / 690.0, true),
                        ('Current.Import', 'L3', 'A', s.p / 690.0, true),
                        ('Voltage', 'L1-N', 'V', 230.0, true),
                        ('Power.Active.Import', '', 'W', s.p::float, cp.last_protocol = 'ocpp1.6'),
                        ('Power.Active.Import', 'L1-N', 'W', s.p / 3.0, cp.last_protocol <> 'ocpp1.6'),
                        ('Power.Active.Import', 'L2-N', 'W', s.p / 3.0, cp.last_protocol <> 'ocpp1.6'),
                        ('Power.Active.Import', 'L3-N', 'W', s.p / 3.0, cp.last_protocol <> 'ocpp1.6')
                    ) v(measurand, phase, unit, v, wanted)
                    WHERE v.wanted
                ) m
                WHERE t.tenant_id = :tenant AND t.charge_point_id LIKE :prefix || '%'
                  AND t.stop_timestamp IS NULL
                """
            ),
            {**p, "minutes": minutes},
        )
        counts = conn.execute(
            text(
                """
                SELECT
                  (SELECT count(*) FROM connectors WHERE tenant_id = :tenant AND status = 'Charging'),
                  (SELECT count(*) FROM transactions
                   WHERE tenant_id = :tenant AND stop_timestamp IS NULL),
                  (SELECT count(*) FROM transactions
                   WHERE tenant_id = :tenant AND stop_timestamp IS NOT NULL),
                  (SELECT count(*) FROM meter_samples WHERE tenant_id = :tenant)
                """
            ),
            p,
        ).one()
        conn.execute(text("ANALYZE charge_points, connectors, transactions, meter_samples"))
    return SeededFleet(tenant, stations, *(int(c) for c in counts))
