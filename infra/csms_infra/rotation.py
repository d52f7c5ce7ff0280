"""Rotation of the database secrets (ADR 0021): the owner's and the runtime roles'."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from . import nag, names
from .assets import CodeAssets
from .config import StageConfig
from .data import Database
from .migration import owner_function
from .network import Network


class SecretRotation(Construct):
    """One function (``csms.app.rotate``, single-user strategy) that Secrets Manager invokes to
    rotate every database secret every ``names.SECRET_ROTATION_DAYS`` days.

    It runs in the functions' subnets, logs in as the owner (the cluster's secret) to give a
    role its new password, and reaches Secrets Manager over IPv6 (its regional endpoint is
    dual-stack, ADR 0020). Our own function rather than the hosted rotation application: that
    one cannot be given ``Ipv6AllowedForDualStack``, so in a VPC without NAT it could not reach
    Secrets Manager. Cost: a few invocations a month (free tier).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        code: CodeAssets,
        network: Network,
        database: Database,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = owner_function(
            self,
            "Rotate",
            config=config,
            code=code,
            network=network,
            database=database,
            name="rotate",
            description="csms: rotate the database secrets (Secrets Manager, single user)",
            handler=names.ROTATE_HANDLER,
            timeout=Duration.seconds(60),
        )
        self.schedules = [
            secret.add_rotation_schedule(
                f"Rotation{index}",
                rotation_lambda=self.function.function,
                automatically_after=Duration.days(names.SECRET_ROTATION_DAYS),
            )
            for index, secret in enumerate(database.rotated_secrets)
        ]
        nag.acknowledge(
            self.function.role,
            "IAM5",
            "secretsmanager:GetRandomPassword takes no resource (it reads no secret); CDK's rotation "
            "schedule grants it for the new password of each rotation.",
            finding="Resource::*",
        )
