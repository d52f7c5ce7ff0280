"""SendLocalList in OCPP 1.6, cut to API Gateway's 32 KB frame limit.

A list that does not fit one frame goes out as consecutive parts: the first with the
requested update type, the rest as Differential updates adding the remaining entries. Each
part gets the next list version (v, v+1, ...), so a charger that refuses a differential
update whose version is not above its own (a common reading of VersionMismatch) accepts
every part, and after the last one holds the whole list at version v+n-1. Entries never
straddle frames; the frame size is measured exactly as the command pipeline encodes it.

The parts are neutral requests (``updateType``, ``listVersion``, ``entries``: see
csms.services.neutral_commands.entry_data); :func:`payload` says one in 1.6.
"""

from __future__ import annotations

from typing import Any

from csms.constants import MAX_FRAME_BYTES
from csms.domain.local_list import LocalListEntry, LocalListPlan, UpdateType
from csms.domain.tokens import TYPE_PREFERENCE
from csms.ocpp16.mapping import MAX_ID_TAG_LENGTH, id_tag_info
from csms.ocppj.packing import budget, encoded_size, pack
from csms.services.neutral_commands import entry_data, entry_of

ACTION = "SendLocalList"


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


def payload(part: dict[str, Any]) -> dict[str, Any]:
    """A neutral part as a 1.6 SendLocalList payload."""
    return _payload(
        part["listVersion"],
        part["updateType"],
        [entry_payload(entry_of(e)) for e in part["entries"]],
    )


def _payload(version: int, update_type: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"listVersion": version, "updateType": update_type, "localAuthorizationList": entries}


def frames(
    plan: LocalListPlan, *, max_entries: int | None = None, max_frame_bytes: int = MAX_FRAME_BYTES
) -> list[dict[str, Any]]:
    """The neutral parts carrying ``plan`` in 1.6, in sending order, each in a CALL frame of
    at most ``max_frame_bytes`` and with at most ``max_entries`` entries (the charger's
    SendLocalListMaxLength, when known)."""
    entries = entries_16(plan)
    # The largest envelope any frame can have: the longest update type, the highest version.
    last_version = plan.first_version + max(len(entries), 1)
    room = budget(ACTION, _payload(last_version, UpdateType.DIFFERENTIAL.value, []), max_frame_bytes)
    try:
        chunks = pack(entries, lambda e: encoded_size(entry_payload(e)), room, max_entries)
    except ValueError:
        raise ValueError("a local list entry cannot fit a frame") from None
    return [
        {
            "updateType": (plan.update_type if i == 0 else UpdateType.DIFFERENTIAL).value,
            "listVersion": plan.first_version + i,
            "entries": [entry_data(e) for e in chunk],
        }
        for i, chunk in enumerate(chunks)
    ]
