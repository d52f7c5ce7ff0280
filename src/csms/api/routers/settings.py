"""The caller's tenant's settings: the default security profile of its stations and the
file URL allow-list of firmware and diagnostics/log commands."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from csms.api.auth import caller
from csms.api.common import ApiModel, SecurityProfile, error_responses
from csms.api.context import services
from csms.domain.tenancy import Role
from csms.errors import InvalidInput
from csms.services.tenant_settings import (
    FILE_URL_HOST_PATTERN,
    MAX_FILE_URL_HOSTS,
    TenantSettingsService,
    TenantSettingsView,
)

router = APIGatewayRouter()
TAG = ["settings"]

Scheme = Literal["https", "ftps", "sftp", "http", "ftp"]
Host = Annotated[str, StringConstraints(max_length=255, pattern=FILE_URL_HOST_PATTERN.pattern)]
_PROFILE = (
    "the OCPP security profile a station gets when it is provisioned without one: 2 (the default: "
    "a password, HTTP Basic auth over TLS), 1 (a password), or 0 (no password: the tenant's explicit "
    "choice; a station given a password still gets 2). Stations provisioned earlier keep theirs"
)
_SCHEMES = (
    "URL schemes firmware and diagnostics/log URLs may use (UpdateFirmware, GetDiagnostics, GetLog); "
    "null: the deployment's default (CSMS_FILE_URL_SCHEMES, https, ftps, sftp). http and ftp send "
    "files in clear: allow them only for stations that can do nothing else"
)
_HOSTS = (
    "host names those URLs may point to (a host, or *.domain for any host below it); null or []: any host"
)


class TenantSettingsOut(ApiModel):
    tenant_id: str
    default_security_profile: SecurityProfile = Field(description=_PROFILE)
    file_url_schemes: list[str] | None = Field(description=_SCHEMES)
    file_url_hosts: list[str] | None = Field(description=_HOSTS)
    effective_file_url_schemes: list[str] = Field(
        description="the schemes in force: the tenant's own, else the deployment's default"
    )


class TenantSettingsUpdate(ApiModel):
    """Only the fields present change; null puts a URL list back to its default."""

    # Absent leaves it as it is; null is no profile (a 422), hence not nullable in the schema.
    default_security_profile: SecurityProfile | SkipJsonSchema[None] = Field(
        default=None, description=_PROFILE
    )
    file_url_schemes: list[Scheme] | None = Field(
        default=None, min_length=1, max_length=5, description=_SCHEMES
    )
    file_url_hosts: list[Host] | None = Field(default=None, max_length=MAX_FILE_URL_HOSTS, description=_HOSTS)


def _service() -> TenantSettingsService:
    return services(router).tenant_settings


def _out(tenant_id: str, view: TenantSettingsView) -> TenantSettingsOut:
    s = view.settings
    return TenantSettingsOut(
        tenant_id=tenant_id,
        default_security_profile=s.default_security_profile,  # type: ignore[arg-type]  # 0, 1 or 2 (a check)
        file_url_schemes=list(s.file_url_schemes) if s.file_url_schemes is not None else None,
        file_url_hosts=list(s.file_url_hosts) if s.file_url_hosts is not None else None,
        effective_file_url_schemes=list(view.effective_file_url_schemes),
    )


@router.get(
    "/settings",
    summary="The tenant's settings",
    description="The security profile new stations get by default and the file URL allow-list. Any role.",
    tags=TAG,
    responses={200: {"description": "the settings"}, **error_responses(401, 403, 422, 503)},
)
def get_settings() -> TenantSettingsOut:
    scope = caller(router, Role.VIEWER).scope
    return _out(scope.tenant_id, _service().get(scope))


@router.patch(
    "/settings",
    summary="Change the tenant's settings",
    description="Only the fields in the body change; null puts fileUrlSchemes or fileUrlHosts back to "
    "the default. A new defaultSecurityProfile applies to stations provisioned from now on. Admins.",
    tags=TAG,
    responses={200: {"description": "the settings"}, **error_responses(401, 403, 422, 503)},
)
def update_settings(body: Annotated[TenantSettingsUpdate, Body()]) -> TenantSettingsOut:
    scope = caller(router, Role.ADMIN).scope
    given = body.model_fields_set
    if "default_security_profile" in given and body.default_security_profile is None:
        raise InvalidInput("defaultSecurityProfile: give 0, 1 or 2 (null is not a profile)")
    changes = {name: getattr(body, name) for name in given}
    return _out(scope.tenant_id, _service().update(scope, changes))


__all__ = ["router"]
