"""Which security profile a new station gets (its own choice, else its tenant's default), and how
a tenant's settings are checked before they are stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from csms.clock import FixedClock
from csms.domain.tenancy import TenantScope, TenantSettings
from csms.errors import InvalidInput
from csms.services.provisioning import resolve_security_profile
from csms.services.tenant_settings import TenantSettingsService

ADMIN = TenantScope("t1", subject="admin")
NOW = datetime(2026, 12, 7, 12)


@pytest.mark.parametrize(
    ("asked", "has_password", "tenant_default", "expected"),
    [
        (None, True, 2, (2, "tenant")),
        (None, True, 1, (1, "tenant")),
        (None, True, 0, (2, "station")),  # a password given: Basic auth over TLS
        (None, False, 0, (0, "tenant")),
        (1, True, 0, (1, "station")),
        (0, False, 2, (0, "station")),
    ],
)
def test_a_new_station_gets_its_own_profile_else_its_tenants(
    asked: int | None, has_password: bool, tenant_default: int, expected: tuple[int, str]
) -> None:
    assert resolve_security_profile(asked, has_password, tenant_default) == expected


@pytest.mark.parametrize("tenant_default", [1, 2])
def test_no_password_needs_profile_0_from_the_station_or_the_tenant(tenant_default: int) -> None:
    with pytest.raises(InvalidInput, match="defaultSecurityProfile"):
        resolve_security_profile(None, False, tenant_default)


class Store:
    def __init__(self) -> None:
        self.settings = TenantSettings()

    def get(self, tenant_id: str) -> TenantSettings:
        return self.settings

    def update(self, tenant_id: str, changes: dict[str, Any], at: datetime) -> TenantSettings:
        self.settings = replace(self.settings, **changes)
        return self.settings


def service() -> TenantSettingsService:
    return TenantSettingsService(Store(), FixedClock(NOW), ("https", "ftps", "sftp"))  # type: ignore[arg-type]


def test_url_lists_are_normalized_and_an_empty_host_list_means_any_host() -> None:
    view = service().update(
        ADMIN, {"file_url_schemes": ["FTP", "ftp", "https"], "file_url_hosts": ["Files.Example."]}
    )
    assert (view.settings.file_url_schemes, view.settings.file_url_hosts) == (
        ("ftp", "https"),
        ("files.example",),
    )
    assert service().update(ADMIN, {"file_url_hosts": []}).settings.file_url_hosts is None
    assert service().get(ADMIN).effective_file_url_schemes == ("https", "ftps", "sftp")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"default_security_profile": 3}, "defaultSecurityProfile"),
        ({"file_url_schemes": []}, "fileUrlSchemes"),
        ({"file_url_schemes": ["gopher"]}, "fileUrlSchemes"),
        ({"file_url_hosts": ["a b"]}, r"fileUrlHosts\[0\]"),
        ({"file_url_hosts": ["x" * 64 + ".example"]}, r"fileUrlHosts\[0\]"),
        ({"file_url_hosts": [f"h{i}.example" for i in range(51)]}, "fileUrlHosts"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        service().update(ADMIN, changes)
