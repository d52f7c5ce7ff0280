"""Accessibility checks for the browser tests (issue 14): axe-core run inside the page, against
the WCAG 2.1 A and AA rules (colour contrast included) and axe's best practices.

axe-core is a devDependency of the console (``console/node_modules/axe-core``, installed by
``make console``), so the version the tests use is the one ``package-lock.json`` pins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[2] / "console" / "node_modules" / "axe-core" / "axe.min.js"
#: The WCAG 2.0 and 2.1 success criteria at levels A and AA (what the issue asks for), and axe's
#: best practices: one main landmark, no content outside landmarks, no skipped heading level,
#: no duplicate banner (what a screen reader's landmark and heading lists are made of).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Any, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """axe's violations (WCAG 2.1 A/AA and best practices) on the page as it is now.

    ``exclude`` names CSS selectors of nodes not to judge; each caller says why next to it.
    """
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed ({AXE}): make console", pytrace=False)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the console's Content-Security-Policy
        # (script-src 'self') does not govern: a <script> tag would be refused, rightly.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    context = {"include": [["html"]], "exclude": [[selector] for selector in exclude or []]}
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    result: dict[str, Any] = page.evaluate(
        "([context, options]) => window.axe.run(context, options)", [context, options]
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(where: str, violations: list[dict[str, Any]]) -> str:
    """One line per rule and node: the rule, its impact, the node, what is wrong, where to read."""
    lines = []
    for violation in violations:
        rule = f"{violation['id']} ({violation.get('impact')})"
        lines.append(f"[{where}] {rule}: {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " > ".join(json.dumps(t) if not isinstance(t, str) else t for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {node['html'][:160]}")
            if summary:
                lines.append(f"       {summary[:400]}")
    return "\n".join(lines)


@dataclass
class Audit:
    """Audits page after page and fails once at the end, listing every violation of every page
    (one run shows the whole picture rather than the first page's)."""

    findings: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def check(self, page: Any, where: str, exclude: list[str] | None = None) -> None:
        self.pages.append(where)
        violations = axe_violations(page, exclude)
        if violations:
            self.findings.append(describe(where, violations))

    def assert_clean(self) -> None:
        assert self.pages, "nothing was audited"
        if self.findings:
            pytest.fail(
                f"axe found violations on {len(self.findings)} of {len(self.pages)} pages:\n"
                + "\n".join(self.findings),
                pytrace=False,
            )
