"""An example vendor extension, and a harmless one to keep enabled: it echoes.

``DataTransfer.req`` with vendorId ``csms.echo`` and messageId
``Echo`` is answered Accepted with the same data; another messageId is UnknownMessageId.
"""

from __future__ import annotations

from csms.domain.stations import ChargerContext
from csms.services.core import DataTransferResult, DataTransferStatus, vendor_extension

VENDOR_ID = "csms.echo"


@vendor_extension(VENDOR_ID)
def echo(ctx: ChargerContext, message_id: str | None, data: str | None) -> DataTransferResult:
    if message_id != "Echo":
        return DataTransferResult(status=DataTransferStatus.UNKNOWN_MESSAGE_ID)
    return DataTransferResult(status=DataTransferStatus.ACCEPTED, data=data)
