"""Fixtures for the CDK app tests: each stack variant is synthesised once per session.

The environment is prepared at import time, before any test module imports aws_cdk:
jsii starts Node on that import and Node reads ``CDK_VALIDATION`` from its own copy of the
environment. ``CDK_VALIDATION=false`` skips CDK's built-in CloudFormation validation
(seconds per synth); one test runs a full synth with it on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_VALIDATION", "false")

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"
if str(INFRA_DIR) not in sys.path:
    # infra/ is an app, not an installed package: make ``csms_infra`` importable.
    sys.path.insert(0, str(INFRA_DIR))

from .support import VARIANTS, Synth, context_for  # noqa: E402  (after the environment is set)


def _synth(variant: str, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    from aws_cdk.assertions import Template

    from csms_infra.application import build_app

    outdir = tmp_path_factory.mktemp(f"cdk-{variant}")
    # Without nag: assertions look at the template; test_nag.py runs the checks itself.
    app, stack = build_app(context_for(VARIANTS[variant]), outdir=str(outdir), with_nag=False)
    return Synth(app=app, stack=stack, template=Template.from_stack(stack))


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth("dev", tmp_path_factory)


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth("prod", tmp_path_factory)


@pytest.fixture(scope="session")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth("isolated", tmp_path_factory)


@pytest.fixture(scope="session", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> Synth:
    """Each variant in turn (for checks that must hold everywhere)."""
    synth: Synth = request.getfixturevalue(request.param)
    return synth


@pytest.fixture(scope="session")
def external(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth("external", tmp_path_factory)
