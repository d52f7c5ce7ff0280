"""OCPP-J 2.0.1 CALLERROR codes (Part 4, section 4.3): the kinds' own spelling."""

from __future__ import annotations

from typing import Final

from csms.ocppj.errors import RpcErrorKind

#: Each kind of error as a 2.0.1 code.
ERROR_CODES: Final[dict[RpcErrorKind, str]] = {kind: kind.value for kind in RpcErrorKind}
