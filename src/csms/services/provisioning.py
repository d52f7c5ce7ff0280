"""Provisioning of stations and id tokens (the CLI, and the REST API's creation routes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csms.domain.stations import (
    CHARGE_POINT_ID_PATTERN,
    DEFAULT_SECURITY_PROFILE,
    NO_PASSWORD_PROFILE,
    SECURITY_PROFILES,
    ChargingStation,
    RegistrationStatus,
)
from csms.domain.storage import Database, UnitOfWork
from csms.domain.tokens import (
    DEFAULT_GROUP_TYPE,
    DEFAULT_TYPE,
    MAX_ID_TOKEN_LENGTH,
    STORABLE_STATUSES,
    STORABLE_TYPES,
    AuthorizationStatus,
    IdToken,
    IdTokenType,
    StoredIdToken,
)
from csms.errors import InvalidInput, NotFound
from csms.security import generate_password, hash_password

#: OCPP 1.6 security whitepaper and 2.0.1 (BasicAuthPassword): 16 to 40 characters.
MIN_PASSWORD_LENGTH = 16
MAX_PASSWORD_LENGTH = 40


def check_password(password: str) -> None:
    """InvalidInput unless ``password`` has the length OCPP's security profiles give it."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters "
            "(OCPP security profiles)"
        )


def check_security_profile(profile: int | None, has_password: bool) -> int:
    """The security profile a station with (or without) a password gets; InvalidInput when they
    do not fit: a password needs profile 1 or 2, no password needs profile 0 said explicitly."""
    if profile is not None and profile not in SECURITY_PROFILES:
        raise InvalidInput(f"securityProfile must be one of {', '.join(map(str, SECURITY_PROFILES))}")
    if has_password:
        if profile == NO_PASSWORD_PROFILE:
            raise InvalidInput("securityProfile 0 connects without a password: give no password")
        return DEFAULT_SECURITY_PROFILE if profile is None else profile
    if profile != NO_PASSWORD_PROFILE:
        raise InvalidInput(
            "a station needs a password (16-40 characters) or generatePassword; to let it connect "
            "without one, say securityProfile 0"
        )
    return NO_PASSWORD_PROFILE


def resolve_security_profile(profile: int | None, has_password: bool, tenant_default: int) -> tuple[int, str]:
    """The profile a new station gets and where it comes from (``station`` or ``tenant``).
    Asked for: that one, checked against the password. Not asked for: the tenant's default,
    which a password given fits when it is 1 or 2 (a tenant without passwords by default still
    gets Basic auth over TLS for a station given one) and no password fits when it is 0."""
    if profile is not None:
        return check_security_profile(profile, has_password), "station"
    if has_password:
        if tenant_default == NO_PASSWORD_PROFILE:
            return DEFAULT_SECURITY_PROFILE, "station"
        return tenant_default, "tenant"
    if tenant_default == NO_PASSWORD_PROFILE:
        return NO_PASSWORD_PROFILE, "tenant"
    raise InvalidInput(
        "a station needs a password (16-40 characters) or generatePassword; to let it connect "
        "without one, say securityProfile 0 (or make 0 the tenant's defaultSecurityProfile)"
    )


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
        security_profile: int | None = None,
    ) -> ProvisionedCharger:
        """Add a station with ``password`` (or one generated), or without any when
        ``security_profile`` is 0 or, not given, the tenant's default is 0: a password is the
        default, going without one a choice (the station's or its tenant's)."""
        if not CHARGE_POINT_ID_PATTERN.fullmatch(charge_point_id):
            raise InvalidInput(
                f"invalid charge point id {charge_point_id!r}: 1-48 characters, "
                "letters, digits and ._:*+@=|- "
                "(it is the last segment of the charger's URL)"
            )
        if password is not None and generate:
            raise InvalidInput("give either password or generatePassword, not both")
        if password is not None:
            check_password(password)
        has_password = password is not None or generate
        if security_profile is not None:
            check_security_profile(security_profile, has_password)  # before a password is hashed
        generated = generate_password() if generate else None
        secret = password if password is not None else generated
        password_hash = hash_password(secret) if secret is not None else None

        def work(uow: UnitOfWork) -> ChargingStation:
            uow.tenants.ensure(tenant_id, now)
            profile, source = resolve_security_profile(
                security_profile, has_password, uow.tenants.default_security_profile(tenant_id)
            )
            charge_point = ChargingStation(
                id=charge_point_id,
                tenant_id=tenant_id,
                registration_status=RegistrationStatus.ACCEPTED,
                password_hash=password_hash,
                security_profile=profile,
                security_profile_source=source,
            )
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

    def add_id_token(
        self,
        value: str,
        tenant_id: str,
        now: datetime,
        *,
        type: IdTokenType = DEFAULT_TYPE,
        status: AuthorizationStatus = AuthorizationStatus.ACCEPTED,
        expiry_date: datetime | None = None,
        group: IdToken | None = None,
    ) -> StoredIdToken:
        """Add a token to the tenant; AlreadyExists if it has one of that type and value."""
        check_token(value, type, "an id token")
        if group is not None:
            group = IdToken(group.value, group.type or DEFAULT_GROUP_TYPE)
            check_token(group.value, group.type, "a group id token")
        if status not in STORABLE_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(s.value for s in STORABLE_STATUSES)}")
        if expiry_date is not None and expiry_date.tzinfo is None:
            raise InvalidInput("the expiry date needs a time zone (e.g. 2027-01-01T00:00:00Z)")
        token = IdToken(value, type)
        stored = StoredIdToken(tenant_id, token, status, expiry_date=expiry_date, group=group)

        def work(uow: UnitOfWork) -> StoredIdToken:
            uow.tenants.ensure(tenant_id, now)
            uow.id_tokens.add(stored, now)
            found = uow.id_tokens.find(tenant_id, token)
            assert found is not None
            return found

        return self._db.run(work)

    def list_id_tokens(self, tenant_id: str | None = None) -> list[StoredIdToken]:
        return self._db.run(lambda uow: uow.id_tokens.list(tenant_id))


def check_token(value: str, kind: IdTokenType | None, what: str) -> None:
    """InvalidInput unless ``value`` and ``kind`` make a token a tenant may store."""
    if not 1 <= len(value) <= MAX_ID_TOKEN_LENGTH:
        raise InvalidInput(f"{what} has 1-{MAX_ID_TOKEN_LENGTH} characters")
    if kind not in STORABLE_TYPES:
        raise InvalidInput(f"{what}'s type must be one of {', '.join(t.value for t in STORABLE_TYPES)}")
