"""Who is calling: tenant and role from the verified token claims.

API Gateway's Cognito authorizer verifies the bearer JWT and hands its claims to the
function in ``requestContext.authorizer.claims``; locally the gateway emulator does the same
with a local signing key. The function trusts only that place, never a header.
"""

from __future__ import annotations

from typing import Any

from csms.constants import GROUPS_CLAIM, ROLE_CLAIM, TENANT_CLAIM
from csms.domain.tenancy import Principal, Role
from csms.errors import Unauthorized


def _role_from(claims: dict[str, Any]) -> Role | None:
    candidates = [claims.get(ROLE_CLAIM)]
    groups = claims.get(GROUPS_CLAIM)
    if isinstance(groups, str):  # REST authorizers flatten lists: "[admin operator]" or "admin,operator"
        candidates += groups.strip("[]").replace(",", " ").split()
    elif isinstance(groups, list):
        candidates += groups
    roles = [Role(str(c)) for c in candidates if c in Role._value2member_map_]
    return max(roles, key=lambda r: r.rank) if roles else None


def caller(resolver: Any, role: Role = Role.VIEWER) -> Principal:
    """The principal of the request being resolved, required to have at least ``role``."""
    principal = principal_from_event(resolver.current_event.raw_event)
    principal.require(role)
    return principal


def principal_from_event(event: dict[str, Any]) -> Principal:
    """The caller described by the authorizer's claims; Unauthorized if they are unusable."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    return principal_from_claims(authorizer.get("claims") or {})


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The operator a verified token's claims name; Unauthorized if they name no tenant or role."""
    tenant = claims.get(TENANT_CLAIM)
    role = _role_from(claims)
    if not tenant or role is None:
        raise Unauthorized("the token names no tenant or no role (claims custom:tenant, custom:role)")
    return Principal(tenant_id=str(tenant), role=role, subject=str(claims.get("sub", "")))
