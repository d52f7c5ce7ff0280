"""The deploy-time migration step: a CloudFormation custom resource runs Alembic upgrade."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create/Update: migrate to head (idempotent). Delete: do nothing (the data stays)."""
    from csms.app import wiring
    from csms.data.migrate import current_revision, upgrade

    request_type = event.get("RequestType", "Create")
    if request_type == "Delete":
        # Deleting the stack must never hang on a database that is already gone.
        return {"PhysicalResourceId": "csms-schema"}
    engine = wiring.database().engine
    upgrade(engine)
    _ensure_roles(engine, wiring.settings())
    revision = current_revision(engine)
    log.info("migrations applied", extra={"request_type": request_type, "revision": revision})
    return {"PhysicalResourceId": "csms-schema", "Data": {"Revision": revision or ""}}


def _ensure_roles(engine: Any, settings: Any) -> None:
    """The runtime roles (ADR 0021): each secret names a role and its current password."""
    from csms.aws.clients import secret_value
    from csms.data.roles import ensure_role

    for arn in settings.database_role_secret_arns:
        secret = secret_value(arn, settings.aws_region)
        ensure_role(engine, str(secret["username"]), str(secret["password"]))
        log.info("database role ready", extra={"role": secret["username"]})
