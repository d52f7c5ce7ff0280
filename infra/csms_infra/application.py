"""Builds the CDK app; ``infra/app.py`` and the infra tests both go through here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment

from . import nag, names
from .config import StageConfig
from .stack import CsmsStack


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    outdir: str | None = None,
    with_nag: bool = True,
) -> tuple[App, CsmsStack]:
    """The app with one stack for the stage named in context (``stage``, default ``dev``).

    ``context`` adds to what the CLI passes (``cdk.json`` and ``-c``); tests pass the
    ``cdk.json`` context themselves. cdk-nag is registered unless ``with_nag`` is false
    (tests that inspect a template without the checks).
    """
    app = App(context=dict(context or {}), outdir=outdir)
    config = StageConfig.from_context(app.node)
    # Environment-agnostic unless the CLI knows the target account (cdk deploy does).
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    stack = CsmsStack(app, names.stack_name(config.stage), config=config, env=env)
    if with_nag:
        nag.register(app)
    return app, stack
