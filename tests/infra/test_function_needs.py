"""Each function's grants and environment cover what its code path needs.

Issue 13 found the disconnect function deployed without the database that its code writes
ChargerDisconnected to: every event was lost and EventsNotRecorded fired on every
disconnect. That class of gap (code that needs a resource, a template that does not give it)
is caught here by reading the code, not by a list kept by hand: from each
``functions/<name>/handler.py`` through the ``csms.app`` modules it reaches to the factories of
the composition root (``csms.app.wiring``) they call, closed over the factories' calls to each
other. Each factory that reaches AWS or PostgreSQL names what the template must give.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

from csms_infra import names
from tests.infra.support import REPO_ROOT, Synth, actions_of, environment_of, function_of

APP = REPO_ROOT / "src" / "csms" / "app"
Check = Callable[[Synth, object], list[str]]


def _env(variable: str) -> Check:
    def check(synth: Synth, fn: object) -> list[str]:
        return [] if variable in environment_of(synth, fn) else [f"environment {variable} missing"]  # type: ignore[arg-type]

    return check


def _action(action: str) -> Check:
    def check(synth: Synth, fn: object) -> list[str]:
        return [] if action in actions_of(synth, fn) else [f"grant {action} missing"]  # type: ignore[arg-type]

    return check


def _vpc(synth: Synth, fn: object) -> list[str]:
    return [] if "VpcConfig" in function_of(synth, fn)["Properties"] else ["not in the VPC"]  # type: ignore[arg-type]


#: What each factory of the composition root needs from the template.
NEEDS: dict[str, tuple[Check, ...]] = {
    "database": (_env(names.Env.DATABASE_SECRET_ARN), _action("secretsmanager:GetSecretValue"), _vpc),
    "connections": (_env(names.Env.CONNECTIONS_TABLE),),
    "event_relay": (_env(names.Env.EVENT_BUS_NAME), _action("events:PutEvents")),
    "_sender_for": (_action("execute-api:ManageConnections"),),
    "commands": (_env(names.Env.COMMANDS_QUEUE_URL),),
    "idempotency_store": (_env(names.Env.IDEMPOTENCY_TABLE),),
    "user_directory": (_env(names.Env.USER_POOL_ID),),
    "event_parking": (_env(names.Env.EVENTS_PARKING_QUEUE_URL), _action("sqs:SendMessage")),
    "limits": (_env(names.Env.LIMITS_TABLE), _action("dynamodb:UpdateItem"), _action("dynamodb:GetItem")),
    "live_subscribers": (_env(names.Env.CONNECTIONS_TABLE),),
    "console_live": (_action("dynamodb:PutItem"), _action("dynamodb:DeleteItem")),
    "console_fanout": (
        _env(names.Env.LIVE_MANAGEMENT_ENDPOINT),
        _action("dynamodb:Query"),
        _action("dynamodb:DeleteItem"),
    ),
    "live_tokens": (_env(names.Env.LIVE_TOKEN_ISSUER),),
}
#: Factories a code path reaches that another deployment of the same code serves: the REST
#: API sends /users to the users function, outside the VPC (ADR 0020).
SERVED_ELSEWHERE = {names.API: {"user_directory"}}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text())


def _imports(tree: ast.AST) -> set[tuple[str, str | None]]:
    """The csms.app modules a module uses: (module, None) for the whole module (``from csms.app
    import x``), (module, name) for one definition of it (``from csms.app.x import name``)."""
    found: set[tuple[str, str | None]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "csms.app":
            found.update((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("csms.app."):
            module = (node.module or "").split(".")[2]
            found.update((module, alias.name) for alias in node.names)
    return found


def _wiring_references(tree: ast.AST) -> set[str]:
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "wiring"
    }


def _definitions(tree: ast.Module, name: str | None) -> list[ast.AST]:
    """The module (name None), or the top-level definition ``name`` and those it refers to."""
    if name is None:
        return [tree]
    top = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    chosen: dict[str, ast.AST] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in top and current not in chosen:
            chosen[current] = top[current]
            todo += [n.id for n in ast.walk(top[current]) if isinstance(n, ast.Name)]
    return list(chosen.values())


def _wiring_graph() -> dict[str, set[str]]:
    """Each factory of csms.app.wiring and the other factories it uses."""
    tree = _tree(APP / "wiring.py")
    factories = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return {
        node.name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in factories}
        - {node.name}
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def needs_of(function: str) -> set[str]:
    """The wiring factories ``functions/<function>`` can reach."""
    seen: set[tuple[str, str | None]] = set()
    todo = _imports(_tree(REPO_ROOT / "functions" / function / "handler.py"))
    used: set[str] = set()
    while todo:
        module, name = todo.pop()
        if (module, name) in seen or module == "wiring" or not (APP / f"{module}.py").exists():
            continue
        seen.add((module, name))
        for part in _definitions(_tree(APP / f"{module}.py"), name):
            used |= _wiring_references(part)
            todo |= _imports(part)
    graph = _wiring_graph()
    closure: set[str] = set()
    while used:
        factory = used.pop()
        if factory not in closure:
            closure.add(factory)
            used |= graph.get(factory, set())
    return closure


def test_the_reading_of_the_code_finds_what_disconnect_needs() -> None:
    # (the gap of issue 13: emit -> database, the outbox)
    assert {"connections", "emit", "database", "event_relay"} <= needs_of(names.DISCONNECT)


@pytest.mark.parametrize(
    "attribute",
    ["connect", "message", "disconnect", "api_function", "commands", "scheduled", "live", "fanout"],
)
def test_each_function_gets_what_its_code_needs(dev: Synth, attribute: str) -> None:
    fn = getattr(dev.stack, attribute)
    function = {"api_function": names.API}.get(attribute, attribute)
    needs = needs_of(function) - SERVED_ELSEWHERE.get(function, set())
    gaps = [
        f"{factory}: {gap}"
        for factory in sorted(needs & NEEDS.keys())
        for check in NEEDS[factory]
        for gap in check(dev, fn)
    ]
    assert gaps == [], f"functions/{function} needs what its template does not give"
