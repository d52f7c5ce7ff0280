"""Vendor-specific DataTransfer extensions.

Add a module here with functions decorated by
:func:`csms.services.core.vendor_extension` and list it in ``EXTENSIONS``; DataTransfer.req
frames with that vendorId are routed to it. Vendors without a module are answered
``UnknownVendorId`` unless listed in ``CSMS_DATA_TRANSFER_VENDORS`` (then ``Accepted``).
"""

from __future__ import annotations

import importlib

#: Modules (relative to this package) that register vendor extensions.
EXTENSIONS: tuple[str, ...] = ("example",)


def load() -> None:
    """Import every extension module so its handlers register themselves."""
    for name in EXTENSIONS:
        importlib.import_module(f"{__name__}.{name}")
