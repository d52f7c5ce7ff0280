"""A tenant's own settings, read and changed by its admins: the security profile its stations
get by default, and where its firmware and diagnostics/log URLs may point (ADR 0026)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from csms.clock import Clock
from csms.domain.stations import SECURITY_PROFILES
from csms.domain.tenancy import TenantScope, TenantSettings, TenantSettingsStore
from csms.errors import InvalidInput

#: The transports a station fetches firmware or uploads logs with (OCPP 1.6 FirmwareManagement,
#: 2.0.1 UpdateFirmware/GetLog): what a tenant may allow.
KNOWN_FILE_URL_SCHEMES: Final = ("https", "ftps", "sftp", "http", "ftp")
#: A host name, or ``*.`` and a domain (any host below it).
FILE_URL_HOST_PATTERN: Final = re.compile(
    r"^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
MAX_FILE_URL_HOSTS: Final = 50
#: The fields :meth:`TenantSettingsService.update` takes.
FIELDS: Final = ("default_security_profile", "file_url_schemes", "file_url_hosts")


@dataclass(frozen=True, slots=True)
class TenantSettingsView:
    settings: TenantSettings
    #: The schemes in force: the tenant's, else the deployment's default.
    effective_file_url_schemes: tuple[str, ...]


def _schemes(value: Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    schemes = tuple(dict.fromkeys(s.lower() for s in value))
    if not schemes:
        raise InvalidInput("fileUrlSchemes: give at least one scheme, or null for the deployment's default")
    unknown = [s for s in schemes if s not in KNOWN_FILE_URL_SCHEMES]
    if unknown:
        raise InvalidInput(
            f"fileUrlSchemes: {unknown[0]!r} is not a transport stations fetch or upload files with "
            f"(one of {', '.join(KNOWN_FILE_URL_SCHEMES)})"
        )
    return schemes


def _hosts(value: Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    hosts = tuple(dict.fromkeys(h.lower().rstrip(".") for h in value))
    if len(hosts) > MAX_FILE_URL_HOSTS:
        raise InvalidInput(f"fileUrlHosts: at most {MAX_FILE_URL_HOSTS} host names")
    for index, host in enumerate(hosts):
        if len(host) > 255 or not FILE_URL_HOST_PATTERN.fullmatch(host):
            raise InvalidInput(f"fileUrlHosts[{index}]: {host!r} is not a host name or *.domain")
    return hosts or None  # none listed: any host


class TenantSettingsService:
    def __init__(
        self, store: TenantSettingsStore, clock: Clock, default_file_url_schemes: Sequence[str]
    ) -> None:
        self._store = store
        self._clock = clock
        self._default_schemes = tuple(s.lower() for s in default_file_url_schemes)

    def get(self, scope: TenantScope) -> TenantSettingsView:
        return self._view(self._store.get(scope.tenant_id))

    def update(self, scope: TenantScope, changes: dict[str, Any]) -> TenantSettingsView:
        """Change the fields given (:data:`FIELDS`); None for the URL lists means the default.
        A new default security profile applies to stations provisioned from now on: existing
        ones keep theirs (changing how a station authenticates is that station's change)."""
        unknown = set(changes) - set(FIELDS)
        if unknown:  # pragma: no cover - the API's model has these fields only
            raise InvalidInput(f"unknown settings: {', '.join(sorted(unknown))}")
        checked: dict[str, Any] = {}
        if "default_security_profile" in changes:
            profile = changes["default_security_profile"]
            if profile not in SECURITY_PROFILES:
                raise InvalidInput(
                    f"defaultSecurityProfile must be one of {', '.join(map(str, SECURITY_PROFILES))}"
                )
            checked["default_security_profile"] = profile
        if "file_url_schemes" in changes:
            checked["file_url_schemes"] = _schemes(changes["file_url_schemes"])
        if "file_url_hosts" in changes:
            checked["file_url_hosts"] = _hosts(changes["file_url_hosts"])
        return self._view(self._store.update(scope.tenant_id, checked, self._clock.now()))

    def _view(self, settings: TenantSettings) -> TenantSettingsView:
        return TenantSettingsView(
            settings,
            settings.file_url_schemes if settings.file_url_schemes is not None else self._default_schemes,
        )
