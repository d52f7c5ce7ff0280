"""Splitting a long list across CALL frames that each stay under API Gateway's 32 KB frame
limit (and under the count a station takes per message), for any OCPP version."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from csms.constants import MAX_FRAME_BYTES
from csms.ocppj.frames import call

T = TypeVar("T")
#: The command pipeline's uniqueIds are UUIDs (36 characters); a little headroom on top.
UNIQUE_ID = "u" * 48


def encoded_size(value: Any) -> int:
    """Bytes of ``value`` as a frame encodes it."""
    return len(json.dumps(value, separators=(",", ":")).encode())


def budget(action: str, largest_empty_payload: dict[str, Any], max_frame_bytes: int = MAX_FRAME_BYTES) -> int:
    """Bytes left for the items of a list in a CALL of ``action`` whose payload without them
    (the list empty) is at most ``largest_empty_payload``."""
    return max_frame_bytes - len(call(UNIQUE_ID, action, largest_empty_payload).encode())


def pack(
    items: Sequence[T], size: Callable[[T], int], room: int, max_items: int | None = None
) -> list[list[T]]:
    """Consecutive chunks of ``items`` (in order, none empty unless ``items`` is), each of at
    most ``room`` bytes (``size`` of an item, plus a separating comma) and ``max_items`` items.
    Raises ValueError if one item alone does not fit."""
    chunks: list[list[T]] = [[]]
    used = 0
    for item in items:
        needed = size(item) + 1
        if needed > room:
            raise ValueError(f"an item of {needed} bytes cannot fit a frame")
        current = chunks[-1]
        if current and (used + needed > room or (max_items is not None and len(current) >= max_items)):
            chunks.append([])
            used = 0
        chunks[-1].append(item)
        used += needed
    return chunks
