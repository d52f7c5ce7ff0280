"""Database migrations as a deployment step."""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnElement, CfnResource, CustomResource, Duration, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from . import nag, names
from .assets import CodeAssets
from .config import StageConfig
from .data import PostgresAccess
from .function import CsmsFunction
from .network import Network


def owner_function(
    scope: Construct,
    construct_id: str,
    *,
    config: StageConfig,
    code: CodeAssets,
    network: Network,
    database: PostgresAccess,
    name: str,
    description: str,
    handler: str,
    timeout: Duration,
) -> CsmsFunction:
    """A deploy-side function (the migration, the secrets' rotation) in the functions' subnets,
    logged in to PostgreSQL as the owner. Secrets Manager's endpoint is dual-stack; nothing
    else is called."""
    fn = CsmsFunction(
        scope,
        construct_id,
        config=config,
        code=code,
        name=name,
        description=description,
        handler=handler,
        timeout=timeout,
        vpc=network.vpc,
        vpc_subnets=network.functions_subnets,
        ipv6=network.ipv6,
        environment=network.dual_stack_environment,
    )
    database.grant_connect(fn)
    return fn


class DatabaseMigration(Construct):
    """Runs ``alembic upgrade head`` (``csms.app.migrate``) on every deploy with new code.

    A CloudFormation custom resource (``custom_resources.Provider``) invokes the migrate
    function synchronously. Its properties carry the code and layer hashes and the database
    it connects to (secret ARN, host override), so new code, or a switch to another database
    (Aurora <-> ``external_database_secret_arn``), changes the resource and CloudFormation
    sends an Update, which migrates again. Functions
    that serve traffic call :meth:`run_before` so CloudFormation updates them only after the
    migration succeeded; until then the old code keeps serving, so migrations must be
    backwards compatible (expand first, contract in a later release).

    The handler receives the usual custom-resource event (``RequestType`` Create / Update /
    Delete); it must migrate on Create and Update, do nothing on Delete, and raise on
    failure (the deploy then fails and rolls back).

    Context: ``migration_timeout_seconds``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        code: CodeAssets,
        network: Network,
        database: PostgresAccess,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = owner_function(
            self,
            "Migrate",
            config=config,
            code=code,
            network=network,
            database=database,
            name="migrate",
            description="csms: alembic upgrade head (custom resource, runs on deploy)",
            handler=names.MIGRATE_HANDLER,
            timeout=Duration.seconds(config.migration_timeout_seconds),
        )
        database.grant_roles_admin(self.function)  # creates the runtime roles (ADR 0021)
        # A migration's DDL may take as long as the function may.
        budget = config.migration_timeout_seconds
        self.function.add_environment(names.Env.DATABASE_STATEMENT_TIMEOUT_MS, str((budget - 10) * 1000))
        self.function.add_environment(names.Env.DATABASE_STALL_TIMEOUT_SECONDS, str(budget - 5))

        provider_logs = logs.LogGroup(
            self, "ProviderLogs", retention=config.log_retention, removal_policy=config.log_removal_policy
        )
        self.provider = cr.Provider(
            self, "Provider", on_event_handler=self.function.function, log_group=provider_logs
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=names.MIGRATION_RESOURCE_TYPE,
            properties={
                "CodeHash": code.code_hash,
                "LayerHash": code.layer_hash,
                # Another database must be migrated too, even with unchanged code.
                "DatabaseSecretArn": database.secret.secret_arn,
                "DatabaseHost": database.host_override or "",
            },
        )
        nag.acknowledge(
            self.provider,
            "IAM4",
            "CDK's custom-resource framework function; basic execution role for its own logs.",
            finding=nag.managed_policy("service-role/AWSLambdaBasicExecutionRole"),
        )
        migrate_logical_id = Stack.of(self).get_logical_id(
            cast(CfnElement, self.function.function.node.default_child)
        )
        nag.acknowledge(
            self.provider,
            "IAM5",
            "The framework may invoke any version of the migrate function (lambda:InvokeFunction on "
            "its ARN with the ':*' qualifier), and only that function.",
            finding=f"Resource::<{migrate_logical_id}.Arn>:*",
        )
        # Migrate only once the cluster (with its instances and secret attachment; nothing for
        # an external database) and the network path to it (routes, NAT, VPC endpoints) exist.
        self.resource.node.add_dependency(*database.dependables, network)

    def run_before(self, *functions: CsmsFunction) -> None:
        """Make ``functions`` wait for the migration (CloudFormation ``DependsOn``).

        Only the ``AWS::Lambda::Function`` resource waits: its security group must exist
        before the migration, because the database's ingress rule for it does.
        """
        for fn in functions:
            fn.cfn_function.add_resource_dependency(self.cfn_resource)

    @property
    def cfn_resource(self) -> CfnResource:
        return cast(CfnResource, self.resource.node.default_child)
