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
    document = openapi_document(build_app())
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
