"""Where a station may be told to fetch firmware or send diagnostics and logs (ADR 0023).

UpdateFirmware's and GetDiagnostics'/GetLog's URLs are the operator's to choose, and a station
will fetch or upload to whatever it is given: a diagnostics upload to an arbitrary or
unencrypted URL leaks what the station logs. A tenant allows URL schemes (default
``CSMS_FILE_URL_SCHEMES``: https, ftps, sftp, the transports OCPP 1.6's FirmwareManagement uses
that encrypt) and, when it sets them, host names (a host or ``*.domain``); anything else is a
422 naming the field. :func:`check_file_urls` is the one call the command pipeline makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from csms.errors import InvalidInput

#: The URL fields of the commands that carry one, by action (1.6 and 2.0.1 spellings).
URL_FIELDS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "UpdateFirmware": (("location",), ("firmware", "location")),
    "GetDiagnostics": (("location",),),
    "GetLog": (("log", "remoteLocation"),),
}


@dataclass(frozen=True, slots=True)
class FileUrlRules:
    schemes: tuple[str, ...]
    #: Host names allowed (``*.example.com`` for any below it); empty: any host.
    hosts: tuple[str, ...] = ()


class FileUrlRulesSource(Protocol):
    def file_url_rules(self, tenant_id: str) -> tuple[Sequence[str] | None, Sequence[str] | None]:
        """The tenant's own schemes and hosts (None: not set)."""
        ...


def _host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed:
        pattern = pattern.lower()
        if (pattern.startswith("*.") and host.endswith(pattern[1:])) or host == pattern:
            return True
    return False


def check_file_urls(action: str, request: dict[str, Any], rules: FileUrlRules) -> None:
    """InvalidInput (422) naming the field when a URL of ``request`` breaks ``rules``."""
    for path in URL_FIELDS.get(action, ()):
        value: Any = request
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, str):
            continue  # absent: the schema check names it if it is required
        field = ".".join(path)
        parts = urlsplit(value)
        if parts.scheme.lower() not in rules.schemes:
            raise InvalidInput(
                f"{field}: the URL scheme {parts.scheme or '(none)'!r} is not allowed for this tenant "
                f"(allowed: {', '.join(rules.schemes)})"
            )
        if rules.hosts and not _host_allowed(parts.hostname or "", rules.hosts):
            raise InvalidInput(f"{field}: the host {parts.hostname!r} is not allowed for this tenant")


def rules_for(source: FileUrlRulesSource, tenant_id: str, default_schemes: Sequence[str]) -> FileUrlRules:
    """The tenant's rules, its own where it set them, else the deployment's default schemes."""
    schemes, hosts = source.file_url_rules(tenant_id)
    return FileUrlRules(
        tuple(s.lower() for s in (schemes if schemes is not None else default_schemes)), tuple(hosts or ())
    )
