"""docs/openapi.json is the API's current OpenAPI document.

Regenerate it with ``csms openapi --output docs/openapi.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from csms.api.app import build_app, openapi_document

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_docs_openapi_json_is_in_sync() -> None:
    assert json.loads(DOCUMENT.read_text()) == openapi_document(build_app()), (
        "docs/openapi.json is stale: run `csms openapi --output docs/openapi.json`"
    )


def test_every_operation_documents_its_errors_as_problem_json() -> None:
    from csms.api.app import DEEP_HEALTH_PATH, PUBLIC_PATHS

    # Health checks answer 503 with their own body (what a probe reads), not a problem.
    health_bodies = {*PUBLIC_PATHS, DEEP_HEALTH_PATH}

    document = openapi_document(build_app())
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    wrong = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            if path not in PUBLIC_PATHS and "401" not in responses:
                wrong.append(f"{method.upper()} {path}: 401 not documented")
            for status, response in responses.items():
                is_error = status.startswith("4") or (status.startswith("5") and path not in health_bodies)
                if is_error and "application/problem+json" not in response.get("content", {}):
                    wrong.append(f"{method.upper()} {path}: {status} not documented as problem+json")
    assert wrong == []
