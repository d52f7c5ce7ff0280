"""The REST API resolver: routers, error translation, unknown query parameters, idempotency,
OpenAPI and Swagger UI."""

from __future__ import annotations

import importlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

import csms
from csms.api import API_PREFIX
from csms.api.problems import problem
from csms.api.resolver import RestResolver
from csms.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StorageUnavailable,
    Unauthorized,
)

log = logging.getLogger(__name__)

#: Router modules under csms.api.routers, each exposing ``router``.
ROUTERS = (
    "health",
    "stations",
    "device_model",
    "id_tokens",
    "transactions",
    "meter_values",
    "locations",
    "sites",
    "reports",
    "commands",
    "firmware",
    "station_reports",
    "local_lists",
    "reservations",
    "charging_profiles",
    "users",
    "settings",
    "events",
)
DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/openapi.json"
#: Paths the authorizer lets through without a token.
PUBLIC_PATHS = frozenset({f"{API_PREFIX}/health", DOCS_PATH, OPENAPI_PATH})
#: The deep health check: below a public path, but it needs a token (any role).
DEEP_HEALTH_PATH = f"{API_PREFIX}/health/dependencies"


def _field(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


def refuse_unknown_query_parameters(
    app: APIGatewayRestResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    """A 422 naming every query parameter the route does not declare: a misspelt filter
    (``?stationid=``, ``?evse=``) would otherwise be ignored and answer with everything. One
    place for every documented route (those in the OpenAPI document)."""
    route = app.context.get("_route")
    # (Not the route Powertools builds to answer 404/405: it is none of the registered ones.)
    registered = any(route is r for r in (*app._static_routes, *app._dynamic_routes))
    if route is not None and registered and route.include_in_schema:
        event = app.current_event
        received = set(event.query_string_parameters or {}) | set(
            event.multi_value_query_string_parameters or {}
        )
        unknown = sorted(received - {param.alias for param in route.dependant.query_params})
        if unknown:
            raise RequestValidationError(
                [
                    {"loc": ("query", name), "msg": "unknown query parameter", "type": "extra_forbidden"}
                    for name in unknown
                ]
            )
    return next_middleware(app)


def _json_body(text: str) -> Any:
    """The request body as JSON; a 422 for JSON that Python cannot read (Powertools turns only
    a JSONDecodeError into one): nesting deeper than the recursion limit, an integer of more
    than 4300 digits."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        message = "the JSON is nested too deeply"
    except ValueError:
        message = "a number in the JSON has too many digits"
    raise RequestValidationError([{"loc": ("body",), "msg": message, "type": "json_invalid"}])


#: "field: message", the field a body path without spaces (``idToken.idToken``, ``chargingSchedule[1]``).
_NAMED_FIELD = re.compile(r"(?P<field>[A-Za-z_][\w.\[\]]*): (?P<message>.+)", re.DOTALL)


def _schema_error(error: Mapping[str, Any]) -> dict[str, str]:
    """One schema error as ``{field, message}``. A validator's own message drops pydantic's
    "Value error, " prefix, and one that names a field below its model ("chargingSchedulePeriod:
    startPeriod must increase", the house style of model validators) is placed at that field, so
    a client shows it next to the field it is about rather than at the model."""
    field = _field(error.get("loc", ()))
    message = str(error.get("msg", ""))
    if error.get("type") == "value_error":
        message = message.removeprefix("Value error, ")
        named = _NAMED_FIELD.fullmatch(message)
        if named is not None:
            below = named["field"].replace("[", ".").replace("]", "")
            field = f"{field}.{below}" if field else below
            message = named["message"]
    return {"field": field, "message": message}


def build_app() -> APIGatewayRestResolver:
    """A resolver with every router mounted under /api/v1."""
    app = RestResolver(enable_validation=True, json_body_deserializer=_json_body)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        errors = [_schema_error(e) for e in exc.errors()]
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        return problem(422, "Invalid request", f"{first['field']}: {first['message']}", errors=errors)

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response[str]:
        return problem(422, "Invalid request", "the body is not valid UTF-8 JSON")

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response[str]:
        return problem(415, "Unsupported media type", "send the body as application/json")

    @app.exception_handler(NotFound)
    def _not_found(exc: NotFound) -> Response[str]:
        return problem(404, "Not found", str(exc))

    @app.exception_handler(AlreadyExists)
    def _exists(exc: AlreadyExists) -> Response[str]:
        return problem(409, "Already exists", str(exc))

    @app.exception_handler(Conflict)
    def _conflict(exc: Conflict) -> Response[str]:
        return problem(409, "Conflict", str(exc))

    @app.exception_handler(InvalidInput)
    def _invalid_input(exc: InvalidInput) -> Response[str]:
        # A rule of the service names its field first ("type: 1.6 has no OnIdle reset"): the
        # problem lists it as the schema's errors do, so a client shows it next to the field.
        detail = str(exc)
        named = _NAMED_FIELD.match(detail)
        if named is None:
            return problem(422, "Invalid request", detail)
        return problem(
            422, "Invalid request", detail, errors=[{"field": named["field"], "message": named["message"]}]
        )

    @app.exception_handler(Unauthorized)
    def _unauthorized(exc: Unauthorized) -> Response[str]:
        return problem(401, "Unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    def _forbidden(exc: Forbidden) -> Response[str]:
        return problem(403, "Forbidden", str(exc))

    @app.exception_handler(StorageUnavailable)
    def _unavailable(exc: StorageUnavailable) -> Response[str]:
        log.error("storage unavailable", extra={"error": str(exc)})
        return problem(503, "Service unavailable", "the database is unavailable; retry later")

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response[str]:
        event = app.current_event
        routes = app._static_routes + app._dynamic_routes
        allowed = sorted({r.method for r in routes if r.rule.match(event.path)})
        if allowed:
            return problem(
                405,
                "Method not allowed",
                f"{event.http_method} is not allowed on {event.path}; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        return problem(404, "Not found", f"no route for {event.http_method} {event.path}")

    @app.exception_handler(Exception)
    def _internal(exc: Exception) -> Response[str]:
        log.exception("unhandled error in the API")
        return problem(500, "Internal error", "something went wrong on our side; it was logged")

    from csms.api.access import access_middleware
    from csms.api.idempotency import idempotency_middleware

    app.use(middlewares=[access_middleware, refuse_unknown_query_parameters, idempotency_middleware])
    for name in ROUTERS:
        module = importlib.import_module(f"csms.api.routers.{name}")
        app.include_router(module.router, prefix=API_PREFIX)

    app.enable_swagger(
        path=DOCS_PATH,
        title="csms operator API",
        version=csms.__version__,
        description="Operate a charging network of OCPP 1.6 and 2.0.1 stations: stations with their EVSEs, "
        "connectors and device model, id tokens, transactions, meter values, locations and reports, in one "
        "model whichever protocol a station speaks; commands take one body and are translated for the "
        "station's protocol. Every request "
        "needs a bearer JWT naming a tenant (`custom:tenant`) and a role (`custom:role`: viewer, operator "
        "or admin); resources of other tenants do not exist for the caller (404). A query parameter a "
        "route does not have is refused (422). Errors are `application/problem+json`.",
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
    )

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def _openapi() -> Response[str]:
        return Response(status_code=200, content_type="application/json", body=openapi_json(app))

    return app


def openapi_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The OpenAPI 3 document of ``app`` as a dict."""
    document: dict[str, Any] = json.loads(openapi_json(app))
    return document


def openapi_json(app: APIGatewayRestResolver) -> str:
    return app.get_openapi_json_schema(
        title="csms operator API",
        version=csms.__version__,
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
    )
