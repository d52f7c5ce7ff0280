"""Security functional block: which stations may open a connection, with what identity, and
in which protocol."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csms.constants import SUPPORTED_SUBPROTOCOLS
from csms.domain.credentials import PasswordUsed
from csms.domain.stations import CHARGE_POINT_ID_PATTERN, ChargingStation
from csms.domain.storage import Database, UnitOfWork
from csms.security import BasicCredentials, verify_password

log = logging.getLogger(__name__)

#: A hash of a password nobody has: unknown ids and missing credentials are checked against it,
#: so every refusal for identity costs one scrypt, as a wrong password does (no timing tells
#: a known id from an unknown one).
_DUMMY_HASH = "scrypt$16384$8$1$q0R++UqXHb3qcWccgAl7iQ==$+79JC9W+s72VA8RHrbOSfS22evUnWSaDo2QN0aojcjg="


def _refuse_after_dummy_check(password: str | None) -> None:
    verify_password(password or "", _DUMMY_HASH)


class Refusal(StrEnum):
    """Why a connection attempt was refused, with the HTTP status the handshake gets."""

    UNKNOWN_CHARGER = "unknown charger"
    BAD_CREDENTIALS = "missing or wrong credentials"
    INVALID_ID = "invalid charge point id"
    #: The station is pinned to a protocol it did not offer.
    PROTOCOL_NOT_OFFERED = "the station's protocol was not offered"

    @property
    def http_status(self) -> int:
        # OCPP-J 1.6 §3.1.1 says an unrecognised charge point id SHOULD get 404; we answer 401,
        # as to a wrong password, so that nobody can tell which ids exist (ADR 0023).
        return {
            "unknown charger": 401,
            "missing or wrong credentials": 401,
            "invalid charge point id": 400,
            "the station's protocol was not offered": 400,
        }[self.value]


@dataclass(frozen=True, slots=True)
class Admission:
    charge_point: ChargingStation | None
    refusal: Refusal | None = None
    #: The subprotocol the connection speaks (None when refused).
    protocol: str | None = None


def choose_protocol(offered: Collection[str], pinned: str | None = None) -> str | None:
    """The best of the offered subprotocols the station may use: only ``pinned`` when it is
    pinned to one, else any we speak, best first (``SUPPORTED_SUBPROTOCOLS``: 2.0.1 before
    1.6, whatever the order offered). None if none fits."""
    allowed = (pinned,) if pinned is not None else SUPPORTED_SUBPROTOCOLS
    return next((protocol for protocol in allowed if protocol in offered), None)


class AdmissionService:
    def __init__(self, db: Database, *, allow_unknown: bool, default_tenant: str) -> None:
        self._db = db
        self._allow_unknown = allow_unknown
        self._default_tenant = default_tenant

    def admit(
        self,
        charge_point_id: str,
        credentials: BasicCredentials | None,
        now: datetime,
        offered: Collection[str] = SUPPORTED_SUBPROTOCOLS,
    ) -> Admission:
        """Decide whether ``charge_point_id`` may connect with ``credentials``, speaking which
        of the ``offered`` subprotocols.

        A charger provisioned with a password must present HTTP Basic auth whose username is
        its own id (Security Profiles 1 and 2). Unknown chargers are refused unless the
        deployment admits them, in which case they are registered as Pending. A station
        pinned to a protocol (``ocpp_version``) gets only that one. The protocol of an admitted
        connection becomes the station's ``last_protocol`` (written only when it changes).
        """
        if not CHARGE_POINT_ID_PATTERN.fullmatch(charge_point_id):
            return Admission(None, Refusal.INVALID_ID)

        def work(uow: UnitOfWork) -> ChargingStation | None:
            found = uow.charge_points.get(charge_point_id)
            if found is None and self._allow_unknown:
                found = uow.charge_points.register_pending(charge_point_id, self._default_tenant, now)
                log.info("unknown charger registered as Pending", extra={"charge_point_id": charge_point_id})
            return found

        charge_point = self._db.run(work)
        password = credentials.password_of(charge_point_id) if credentials else None
        if charge_point is None or charge_point.decommissioned_at is not None:
            _refuse_after_dummy_check(password)
            return Admission(None, Refusal.UNKNOWN_CHARGER)
        if charge_point.needs_password:
            # (A profile 1/2 station without a hash cannot be stored: refused all the same.)
            if password is None or charge_point.password_hash is None:
                _refuse_after_dummy_check(password)
                return Admission(charge_point, Refusal.BAD_CREDENTIALS)
            used = _password_used(password, charge_point)
            if used is None:
                return Admission(charge_point, Refusal.BAD_CREDENTIALS)
            if (
                used is not PasswordUsed.CURRENT
                or charge_point.pending_password_hash
                or charge_point.previous_password_hash
            ):
                # A rotation is on record: which password the station holds moves it on.
                self._db.run(lambda uow: uow.charge_points.password_used(charge_point_id, used, now))
        protocol = choose_protocol(offered, charge_point.ocpp_version)
        if protocol is None:
            return Admission(charge_point, Refusal.PROTOCOL_NOT_OFFERED)
        if charge_point.last_protocol != protocol:
            self._db.run(lambda uow: uow.charge_points.record_protocol(charge_point_id, protocol, now))
        return Admission(charge_point, protocol=protocol)


def _password_used(password: str, station: ChargingStation) -> PasswordUsed | None:
    """Which of the station's passwords this is: its current one, or during a rotation the new
    one (in flight, unconfirmed) or the old one (after the station accepted, until it connects
    with the new one). None: none of them."""
    for used, stored in (
        (PasswordUsed.CURRENT, station.password_hash),
        (PasswordUsed.PENDING, station.pending_password_hash),
        (PasswordUsed.PREVIOUS, station.previous_password_hash),
    ):
        if stored is not None and verify_password(password, stored):
            return used
    return None
