"""Property-based fuzzing of the REST API against its own OpenAPI document (schemathesis).

Every operation gets schema-valid and schema-violating requests over real HTTP through the
local API Gateway, as an admin of a tenant of its own. Every check schemathesis has runs: no
5xx, every answer documented (status code, content type, headers, body schema), valid
requests accepted, invalid ones refused, requests without a token refused. Bounded for CI:
a fixed seed, no example database, ``MAX_EXAMPLES`` generated examples per operation and
phase (plus schemathesis' deterministic coverage cases).

``KNOWN_GAPS`` lists findings in code that is being fixed elsewhere, each with what is wrong
and where; a tolerated finding is reported as a warning. Delete an entry once it is fixed.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.transport import Response

from csms.api.app import build_app, openapi_document
from csms.local.stack import LocalStack
from csms.local.tokens import create_token
from tests.integration.api_client import ApiClient
from tests.integration.conftest import API_KEY

pytestmark = pytest.mark.integration
V1 = "/api/v1"
TENANT = "fuzz"
MAX_EXAMPLES = 10
TOKEN = create_token(API_KEY, TENANT, "admin", 4 * 3600)

#: Operations whose request rules span several fields, which a JSON schema cannot state
#: (from before to, a range of at most 366 days, validTo after validFrom...): a valid-looking
#: request may get a 422 naming the rule.
CROSS_FIELD_RULES = [
    f"^{V1}/reports/",
    f"^{V1}/transactions$",
    f"^{V1}/unknown-transaction-stops$",
    f"{V1}/.*/meter-values$",
    f"{V1}/.*/status-history$",
    # a command's body is checked again by the station's protocol (1.6 has no OnIdle reset, ...)
    f"^{V1}/stations/[^/]+/(commands|ocpp)/[^/]+$",
    # load management: a tree's rules (parents, phases, stations of the tenant), a phase the
    # node carries, one site per location
    f"^{V1}/sites",
]

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261121,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # Unknown query parameters are ignored, as by most HTTP APIs: not worth a finding.
            "allow-extra-parameters": False,
        },
        "auth": {"openapi": {"bearer": {"bearer": TOKEN}}},
        # Commands may wait up to 25 s for a charger's answer: longer than a request may take here.
        "parameters": {"query.wait": 0},
        # The stateful phase follows links between operations, which the document does not declare.
        "phases": {"stateful": {"enabled": False}},
        "operations": [
            {
                "include-path-regex": "|".join(f"({rule})" for rule in CROSS_FIELD_RULES),
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "404", "409", "422"]}},
            },
        ],
    }
)
schema = schemathesis.openapi.from_dict(openapi_document(build_app()), config=CONFIG)


@dataclass(frozen=True)
class KnownGap:
    """A finding tolerated until its owner fixes it."""

    why: str
    failures: tuple[str, ...]  # Failure class names
    operations: str = ".*"  # regex on "METHOD /path"
    when: Callable[[Any, Response], bool] = lambda case, response: True

    def covers(self, case: Any, response: Response, failure: Failure) -> bool:
        return (
            type(failure).__name__ in self.failures
            and re.search(self.operations, f"{case.method} {case.path}") is not None
            and self.when(case, response)
        )


def _not_utf8(case: Any, response: Response) -> bool:
    body = response.request.body
    if isinstance(body, bytes):
        try:
            body.decode()
        except UnicodeDecodeError:
            return True
    return False


def _problem(*statuses: int) -> Callable[[Any, Response], bool]:
    def matches(case: Any, response: Response) -> bool:
        content_type = response.headers.get("content-type", [""])[0]
        return response.status_code in statuses and content_type == "application/problem+json"

    return matches


UNDOCUMENTED = ("UndefinedStatusCode", "UndefinedContentType")
KNOWN_GAPS = [
    KnownGap(
        "routers/users.py POST: Cognito applies its own e-mail rules (no leading dot, label "
        "shapes) beyond what the documented pattern can state; it refuses with a documented 422",
        ("RejectedPositiveData",),
        operations=r"^POST /api/v1/users$",
    ),
    KnownGap(
        "routers/stations.py POST: an unknown locationId is a 422 the schema cannot foresee",
        ("RejectedPositiveData",),
        operations=r"^POST /api/v1/stations$",
    ),
]


_warned: set[tuple[KnownGap, str]] = set()


@pytest.fixture
def seeded(api: ApiClient) -> None:
    """A few resources of the fuzzing tenant, so lists answer with items to validate."""
    admin = api.as_(TENANT, "admin")
    assert (
        admin.post(f"{V1}/locations", {"id": "FUZZ-LOC", "name": "Fuzz depot", "country": "DE"}).status == 201
    )
    station = {"id": "FUZZ-CP", "locationId": "FUZZ-LOC", "securityProfile": 0}
    assert admin.post(f"{V1}/stations", station).status == 201
    assert admin.post(f"{V1}/id-tokens", {"idToken": "FUZZTAG"}).status == 201


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_api_conforms_to_its_openapi_document(case: Any, stack: LocalStack, seeded: None) -> None:
    base_url = f"http://127.0.0.1:{stack.config.port}"
    response = case.call(base_url=base_url)
    try:
        case.validate_response(response, transport_kwargs={"base_url": base_url})
    except FailureGroup as group:
        new = []
        for failure in group.exceptions:
            gap = next((g for g in KNOWN_GAPS if g.covers(case, response, failure)), None)
            if gap is None:
                new.append(failure)
            elif (gap, case.path) not in _warned:
                _warned.add((gap, case.path))
                warnings.warn(f"known gap: {case.method} {case.path}: {gap.why}", stacklevel=1)
        if len(new) == len(group.exceptions):
            raise
        if new:
            raise FailureGroup(new) from group
