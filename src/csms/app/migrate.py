"""The deploy-time migration step: a CloudFormation custom resource runs Alembic upgrade."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create/Update: migrate to head (idempotent). Delete: keep the data untouched."""
    from csms.app import wiring
    from csms.data.migrate import current_revision, upgrade

    request_type = event.get("RequestType", "Create")
    engine = wiring.database().engine
    if request_type in ("Create", "Update"):
        upgrade(engine)
    revision = current_revision(engine)
    log.info("migrations applied", extra={"request_type": request_type, "revision": revision})
    return {"PhysicalResourceId": "csms-schema", "Data": {"Revision": revision or ""}}
