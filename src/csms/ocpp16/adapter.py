"""The OCPP 1.6 adapter as the shared OCPP-J layer sees it."""

from __future__ import annotations

from typing import Final

from csms.constants import OCPP16
from csms.ocpp16 import inbound as _inbound  # noqa: F401  (registers the handlers)
from csms.ocpp16.errors import ERROR_CODES
from csms.ocpp16.registry import INBOUND, Services
from csms.ocpp16.schemas import SCHEMAS
from csms.ocppj.dispatcher import Adapter

ADAPTER: Final[Adapter[Services]] = Adapter(OCPP16, INBOUND, SCHEMAS, ERROR_CODES)
