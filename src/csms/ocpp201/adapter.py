"""The OCPP 2.0.1 adapter as the shared OCPP-J layer sees it."""

from __future__ import annotations

from typing import Final

from csms.constants import OCPP201
from csms.ocpp201 import inbound as _inbound  # noqa: F401  (registers the handlers)
from csms.ocpp201.errors import ERROR_CODES
from csms.ocpp201.registry import INBOUND, Services
from csms.ocpp201.schemas import SCHEMAS
from csms.ocppj.dispatcher import Adapter

ADAPTER: Final[Adapter[Services]] = Adapter(OCPP201, INBOUND, SCHEMAS, ERROR_CODES)
