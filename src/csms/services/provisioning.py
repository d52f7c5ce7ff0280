"""Provisioning of chargers and id tags (CLI today, the REST API later)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csms.domain.stations import CHARGE_POINT_ID_PATTERN, ChargingStation, RegistrationStatus
from csms.domain.storage import Database, UnitOfWork
from csms.domain.tokens import STORABLE_ID_TAG_STATUSES, AuthorizationStatus, IdTag
from csms.errors import InvalidInput, NotFound
from csms.security import generate_password, hash_password

MAX_PASSWORD_LENGTH = 40  # OCPP 1.6 security whitepaper: 16 to 40 characters
MAX_ID_TAG_LENGTH = 20  # IdToken is CiString20Type


@dataclass(frozen=True, slots=True)
class ProvisionedCharger:
    charge_point: ChargingStation
    #: The password, when it was generated here: shown once, never stored in clear.
    generated_password: str | None = None


class ProvisioningService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add_charger(
        self,
        charge_point_id: str,
        tenant_id: str,
        now: datetime,
        *,
        password: str | None = None,
        generate: bool = False,
    ) -> ProvisionedCharger:
        if not CHARGE_POINT_ID_PATTERN.fullmatch(charge_point_id):
            raise InvalidInput(
                f"invalid charge point id {charge_point_id!r}: 1-48 characters, "
                "letters, digits and ._:*+@=|- "
                "(it is the last segment of the charger's URL)"
            )
        generated = generate_password() if generate and password is None else None
        secret = password if password is not None else generated
        if secret is not None and not 1 <= len(secret) <= MAX_PASSWORD_LENGTH:
            raise InvalidInput(f"password must be 1-{MAX_PASSWORD_LENGTH} characters")
        charge_point = ChargingStation(
            id=charge_point_id,
            tenant_id=tenant_id,
            registration_status=RegistrationStatus.ACCEPTED,
            password_hash=hash_password(secret) if secret is not None else None,
        )

        def work(uow: UnitOfWork) -> ChargingStation:
            uow.tenants.ensure(tenant_id, now)
            uow.charge_points.add(charge_point, now)
            stored = uow.charge_points.get(charge_point_id)
            assert stored is not None
            return stored

        return ProvisionedCharger(self._db.run(work), generated)

    def list_chargers(self, tenant_id: str | None = None) -> list[ChargingStation]:
        return self._db.run(lambda uow: uow.charge_points.list(tenant_id))

    def remove_charger(self, charge_point_id: str, tenant_id: str | None = None) -> None:
        if not self._db.run(lambda uow: uow.charge_points.remove(charge_point_id, tenant_id)):
            raise NotFound(f"no station {charge_point_id!r}")

    def add_id_tag(
        self,
        id_tag: str,
        tenant_id: str,
        now: datetime,
        *,
        status: AuthorizationStatus = AuthorizationStatus.ACCEPTED,
        expiry_date: datetime | None = None,
        parent_id_tag: str | None = None,
    ) -> IdTag:
        if not 1 <= len(id_tag) <= MAX_ID_TAG_LENGTH:
            raise InvalidInput(f"an id tag has 1-{MAX_ID_TAG_LENGTH} characters (OCPP IdToken)")
        if parent_id_tag is not None and not 1 <= len(parent_id_tag) <= MAX_ID_TAG_LENGTH:
            raise InvalidInput(f"a parent id tag has 1-{MAX_ID_TAG_LENGTH} characters (OCPP IdToken)")
        if status not in STORABLE_ID_TAG_STATUSES:
            raise InvalidInput(
                f"status must be one of {', '.join(s.value for s in STORABLE_ID_TAG_STATUSES)}"
            )
        if expiry_date is not None and expiry_date.tzinfo is None:
            raise InvalidInput("the expiry date needs a time zone (e.g. 2027-01-01T00:00:00Z)")
        tag = IdTag(
            tenant_id=tenant_id,
            id_tag=id_tag,
            status=status,
            expiry_date=expiry_date,
            parent_id_tag=parent_id_tag,
        )

        def work(uow: UnitOfWork) -> IdTag:
            uow.tenants.ensure(tenant_id, now)
            uow.id_tags.add(tag, now)
            stored = uow.id_tags.get(tenant_id, id_tag)
            assert stored is not None
            return stored

        return self._db.run(work)

    def list_id_tags(self, tenant_id: str | None = None) -> list[IdTag]:
        return self._db.run(lambda uow: uow.id_tags.list(tenant_id))
