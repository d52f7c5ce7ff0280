"""SendLocalList payloads cut to API Gateway's 32 KB frame limit.

A list that does not fit one frame goes out as consecutive frames: the first with the
requested update type, the rest as Differential updates adding the remaining entries. Each
frame gets the next list version (v, v+1, ...), so a charger that refuses a differential
update whose version is not above its own (a common reading of VersionMismatch) accepts
every frame, and after the last one holds the whole list at version v+n-1. Entries never
straddle frames; the frame size is measured exactly as the command pipeline encodes it.
"""

from __future__ import annotations

import json
from typing import Any

from csms.constants import MAX_FRAME_BYTES
from csms.domain.local_list import LocalListEntry, LocalListPlan, UpdateType
from csms.domain.tokens import TYPE_PREFERENCE
from csms.ocpp16.mapping import MAX_ID_TAG_LENGTH, id_tag_info
from csms.ocppj.frames import call

ACTION = "SendLocalList"
#: The command pipeline's uniqueIds are UUIDs (36 characters); a little headroom on top.
_UNIQUE_ID = "u" * 48


def _encoded_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def entries_16(plan: LocalListPlan) -> list[LocalListEntry]:
    """The plan's entries as a 1.6 list holds them: one per value (an id tag has no type: of a
    value held under several types, the one a 1.6 lookup finds, see TYPE_PREFERENCE), and
    only values 1.6 can carry (at most 20 characters)."""

    def rank(item: LocalListEntry) -> int:
        kind = item.token.type
        return TYPE_PREFERENCE.index(kind) if kind in TYPE_PREFERENCE else len(TYPE_PREFERENCE)

    chosen: dict[str, LocalListEntry] = {}
    for item in plan.entries:
        if len(item.token.value) > MAX_ID_TAG_LENGTH:
            continue
        key = item.token.value.lower()
        held = chosen.get(key)
        if held is None or rank(item) < rank(held):
            chosen[key] = item
    return list(chosen.values())


def entry_payload(item: LocalListEntry) -> dict[str, Any]:
    """One AuthorizationData: idTag, and idTagInfo unless the tag is to be removed."""
    out: dict[str, Any] = {"idTag": item.token.value}
    if item.info is not None:
        out["idTagInfo"] = id_tag_info(item.info)
    return out


def _payload(version: int, update_type: UpdateType, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"listVersion": version, "updateType": update_type.value, "localAuthorizationList": entries}


def frames(
    plan: LocalListPlan, *, max_entries: int | None = None, max_frame_bytes: int = MAX_FRAME_BYTES
) -> list[dict[str, Any]]:
    """The SendLocalList payloads carrying ``plan``, in sending order, each in a CALL frame of
    at most ``max_frame_bytes`` and with at most ``max_entries`` entries (the charger's
    SendLocalListMaxLength, when known)."""
    entries = [entry_payload(e) for e in entries_16(plan)]
    # The largest envelope any frame can have: the longest update type, the highest version.
    last_version = plan.first_version + max(len(entries), 1)
    envelope = len(call(_UNIQUE_ID, ACTION, _payload(last_version, UpdateType.DIFFERENTIAL, [])).encode())
    budget = max_frame_bytes - envelope
    chunks: list[list[dict[str, Any]]] = [[]]
    used = 0
    for item in entries:
        size = _encoded_size(item) + 1  # and its separating comma
        if size > budget:
            raise ValueError(f"a local list entry of {size} bytes cannot fit a frame")
        current = chunks[-1]
        if current and (used + size > budget or (max_entries is not None and len(current) >= max_entries)):
            chunks.append([])
            used = 0
        chunks[-1].append(item)
        used += size
    return [
        _payload(
            plan.first_version + i,
            plan.update_type if i == 0 else UpdateType.DIFFERENTIAL,
            chunk,
        )
        for i, chunk in enumerate(chunks)
    ]
