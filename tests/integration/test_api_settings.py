"""A tenant's settings through the REST API: the default security profile of its stations (a
station provisioned without one gets it, the API shows where each station's profile comes from,
and such a station connects as it says) and its file URL allow-list (what commands may carry)."""

from __future__ import annotations

import json

import pytest

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import open_socket

pytestmark = pytest.mark.integration
V1 = "/api/v1"
PASSWORD = "a-sixteen-char-pw"


def test_a_tenant_starts_with_passwords_required_and_the_deployments_url_schemes(api: ApiClient) -> None:
    viewer = api.as_("set-a", "viewer")
    got = viewer.get(f"{V1}/settings")
    assert (got.status, got.body) == (
        200,
        {
            "tenantId": "set-a",
            "defaultSecurityProfile": 2,
            "fileUrlSchemes": None,
            "fileUrlHosts": None,
            "effectiveFileUrlSchemes": ["https", "ftps", "sftp"],
        },
    )
    # only admins change them
    assert api.as_("set-a", "operator").patch(f"{V1}/settings", {"defaultSecurityProfile": 0}).status == 403
    assert viewer.patch(f"{V1}/settings", {"defaultSecurityProfile": 0}).status == 403


async def test_the_tenants_default_security_profile_applies_to_stations_provisioned_without_one(
    api: ApiClient, stack: LocalStack
) -> None:
    admin = api.as_("set-b", "admin")
    # Given the default (a password is required): a station without one is refused, naming the ways out
    refused = admin.post(f"{V1}/stations", {"id": "SET-B-0"})
    assert refused.status == 422
    assert "defaultSecurityProfile" in refused.body["detail"]
    with_password = admin.post(f"{V1}/stations", {"id": "SET-B-1", "password": PASSWORD})
    assert (
        with_password.body["station"]["securityProfile"],
        with_password.body["station"]["securityProfileSource"],
    ) == (
        2,
        "tenant",
    )
    # When the tenant's admin makes "no password" its default
    changed = admin.patch(f"{V1}/settings", {"defaultSecurityProfile": 0})
    assert (changed.status, changed.body["defaultSecurityProfile"]) == (200, 0)
    # Then a station provisioned without a profile gets 0 from the tenant, and connects without one
    open_station = admin.post(f"{V1}/stations", {"id": "SET-B-2"})
    assert (open_station.status, open_station.body["station"]["securityProfile"]) == (201, 0)
    assert open_station.body["station"]["securityProfileSource"] == "tenant"
    socket = await open_socket(stack, "SET-B-2")
    assert socket.subprotocol == "ocpp1.6"
    await socket.close()
    # a station given a password still gets Basic auth over TLS; one asking for a profile gets it
    given = admin.post(f"{V1}/stations", {"id": "SET-B-3", "password": PASSWORD})
    asked = admin.post(f"{V1}/stations", {"id": "SET-B-4", "password": PASSWORD, "securityProfile": 1})
    assert (given.body["station"]["securityProfile"], given.body["station"]["securityProfileSource"]) == (
        2,
        "station",
    )
    assert (asked.body["station"]["securityProfile"], asked.body["station"]["securityProfileSource"]) == (
        1,
        "station",
    )
    # and stations provisioned earlier keep theirs
    earlier = admin.get(f"{V1}/stations/SET-B-1")
    assert (earlier.body["securityProfile"], earlier.body["securityProfileSource"]) == (2, "tenant")
    # A default of 1: a password, and the station's profile says 1 from the tenant
    admin.patch(f"{V1}/settings", {"defaultSecurityProfile": 1})
    one = admin.post(f"{V1}/stations", {"id": "SET-B-5", "generatePassword": True})
    assert (one.body["station"]["securityProfile"], one.body["station"]["securityProfileSource"]) == (
        1,
        "tenant",
    )
    # A station's own change makes the profile the station's
    own = admin.patch(f"{V1}/stations/SET-B-2", {"password": PASSWORD, "securityProfile": 2})
    assert (own.body["securityProfile"], own.body["securityProfileSource"]) == (2, "station")
    # Nonsense is refused naming the field
    for bad in ({"defaultSecurityProfile": 3}, {"defaultSecurityProfile": None}):
        reply = admin.patch(f"{V1}/settings", bad)
        assert (reply.status, "defaultSecurityProfile" in json.dumps(reply.body)) == (422, True), reply.body


async def test_the_file_url_allow_list_is_read_and_changed_through_the_api(api: ApiClient) -> None:
    admin = api.as_("set-c", "admin")
    assert (
        admin.post(f"{V1}/stations", {"id": "SET-C-1", "securityProfile": 0, "ocppVersion": "ocpp1.6"}).status
        == 201
    )
    operator = api.as_("set-c", "operator")

    def upload(location: str) -> int:
        return operator.post(f"{V1}/stations/SET-C-1/commands/upload-logs", {"location": location}).status

    # By default plain FTP is refused
    assert upload("ftp://logs.set-c.example/") == 422
    # When the admin allows FTP and HTTPS, to its own hosts only
    changed = admin.patch(
        f"{V1}/settings", {"fileUrlSchemes": ["ftp", "https"], "fileUrlHosts": ["*.Set-C.example"]}
    )
    assert (changed.status, changed.body["fileUrlSchemes"], changed.body["fileUrlHosts"]) == (
        200,
        ["ftp", "https"],
        ["*.set-c.example"],
    )
    assert changed.body["effectiveFileUrlSchemes"] == ["ftp", "https"]
    # Then commands keep to them
    assert upload("ftp://logs.set-c.example/") == 202
    assert upload("https://elsewhere.example/") == 422
    assert upload("sftp://logs.set-c.example/") == 422
    # Invalid lists are refused naming the field, and change nothing
    for body, field in (
        ({"fileUrlSchemes": ["gopher"]}, "fileUrlSchemes"),
        ({"fileUrlSchemes": []}, "fileUrlSchemes"),
        ({"fileUrlHosts": ["not a host"]}, "fileUrlHosts"),
        ({"fileUrlHosts": ["x.example"] * 51}, "fileUrlHosts"),
    ):
        reply = admin.patch(f"{V1}/settings", body)
        assert (reply.status, field in json.dumps(reply.body)) == (422, True), (body, reply.body)
    assert admin.get(f"{V1}/settings").body["fileUrlHosts"] == ["*.set-c.example"]
    # null puts a list back to its default: any host, the deployment's schemes
    reset = admin.patch(f"{V1}/settings", {"fileUrlSchemes": None, "fileUrlHosts": None})
    assert (reset.body["fileUrlSchemes"], reset.body["fileUrlHosts"]) == (None, None)
    assert upload("https://anywhere.example/") == 202
    assert upload("ftp://logs.set-c.example/") == 422


def test_an_admin_changes_only_its_own_tenant(api: ApiClient) -> None:
    api.as_("set-d", "admin").patch(f"{V1}/settings", {"defaultSecurityProfile": 0})
    assert api.as_("set-e", "viewer").get(f"{V1}/settings").body["defaultSecurityProfile"] == 2
