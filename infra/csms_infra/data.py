"""State: the DynamoDB connections table and the Aurora PostgreSQL cluster."""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from constructs import Construct

from csms.aws.schema import (
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    PARTITION_KEY,
    TENANT_ATTRIBUTE,
    TENANT_INDEX,
    TTL_ATTRIBUTE,
)

from . import nag, names
from .config import StageConfig
from .function import CsmsFunction
from .network import Network


def _on_demand_table(
    scope: Construct, config: StageConfig, partition_key: str, ttl_attribute: str
) -> dynamodb.Table:
    """On demand, TTL, point-in-time recovery; retained and protected in prod only."""
    return dynamodb.Table(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute=ttl_attribute,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=config.is_prod,
        removal_policy=config.removal_policy,
    )


class ConnectionsTable(Construct):
    """The ``connections`` table laid out as :mod:`csms.aws.schema` describes.

    On demand, TTL on ``ttl`` (records of connections whose ``$disconnect`` never came
    expire), point-in-time recovery on; retained in prod, destroyed with a dev stack. The
    ``by-tenant`` index (partition ``tenant_id``, sort ``pk``, all attributes) lists a
    tenant's live connections for the operator API without a scan.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = _on_demand_table(self, config, PARTITION_KEY, TTL_ATTRIBUTE)
        self.table.add_global_secondary_index(
            index_name=TENANT_INDEX,
            partition_key=dynamodb.Attribute(name=TENANT_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )

    def grant(self, fn: CsmsFunction) -> None:
        """Item reads and writes on the table, and the variable naming it."""
        self.table.grant_read_write_data(fn.role)
        self._name_it(fn)

    def grant_read(self, fn: CsmsFunction) -> None:
        """Item and index reads only (the operator API lists connections, never writes them)."""
        self.table.grant_read_data(fn.role)
        self._name_it(fn)

    def _name_it(self, fn: CsmsFunction) -> None:
        fn.add_environment(names.Env.CONNECTIONS_TABLE, self.table.table_name)
        table_id = Stack.of(self).get_logical_id(cast(CfnElement, self.table.node.default_child))
        nag.acknowledge(
            fn.role,
            "IAM5",
            f"CDK grants a table's data actions on its indexes too (<table>/index/*); this table has "
            f"one index ({TENANT_INDEX}), and the grant names no other table.",
            finding=f"Resource::<{table_id}.Arn>/index/*",
        )


class IdempotencyTable(Construct):
    """The API's ``Idempotency-Key`` records, in Powertools Idempotency's default layout.

    Key ``id``, TTL on ``expiration`` (Powertools writes it; records go 24 h after the first
    response), on demand, point-in-time recovery; retained in prod like the other tables.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = _on_demand_table(self, config, IDEMPOTENCY_KEY, IDEMPOTENCY_TTL_ATTRIBUTE)

    def grant(self, fn: CsmsFunction) -> None:
        """Item reads and writes (Powertools gets, conditionally puts, updates and deletes)."""
        self.table.grant_read_write_data(fn.role)
        fn.add_environment(names.Env.IDEMPOTENCY_TABLE, self.table.table_name)


class Database(Construct):
    """Aurora PostgreSQL Serverless v2 in the isolated subnets, credentials in Secrets Manager.

    Storage encrypted; password authentication (IAM auth off: psycopg would need a fresh
    token every 15 minutes and RDS caps IAM-authenticated connection rates); deletion
    protection and a final snapshot in prod. A function is admitted with :meth:`grant_connect`.

    Context: ``db_engine_version`` (16.x), ``db_min_acu`` / ``db_max_acu``, ``db_readers``,
    ``db_backup_days``, ``rds_proxy``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, network: Network) -> None:
        super().__init__(scope, construct_id)
        version = config.db_engine_version
        engine = rds.DatabaseClusterEngine.aurora_postgres(
            version=rds.AuroraPostgresEngineVersion.of(version, version.split(".", 1)[0])
        )
        readers = [
            # Promotion tier follows the writer's size, so a failover lands on a warm instance.
            rds.ClusterInstance.serverless_v2(f"Reader{i + 1}", scale_with_writer=True)
            for i in range(config.db_readers)
        ]
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=engine,
            writer=rds.ClusterInstance.serverless_v2("Writer"),
            readers=readers,
            serverless_v2_min_capacity=config.db_min_acu,
            serverless_v2_max_capacity=config.db_max_acu,
            credentials=rds.Credentials.from_generated_secret(names.DATABASE_ADMIN_USER),
            default_database_name=names.DATABASE_NAME,
            storage_encrypted=True,
            iam_authentication=False,
            deletion_protection=config.is_prod,
            removal_policy=RemovalPolicy.SNAPSHOT if config.is_prod else RemovalPolicy.DESTROY,
            backup=rds.BackupProps(retention=Duration.days(config.db_backup_days)),
            cloudwatch_logs_exports=["postgresql"],
            cloudwatch_logs_retention=config.log_retention,
            vpc=network.vpc,
            vpc_subnets=network.database_subnets,
        )
        secret = self.cluster.secret
        if secret is None:  # pragma: no cover - from_generated_secret always yields one
            raise RuntimeError("the cluster has no secret")
        self.secret = secret
        self._acknowledge(config)

        self.proxy: rds.DatabaseProxy | None = None
        if config.rds_proxy:
            self.proxy = self.cluster.add_proxy(
                "Proxy",
                secrets=[secret],
                vpc=network.vpc,
                vpc_subnets=network.database_subnets,
                require_tls=True,
                iam_auth=False,
            )
            self.cluster.connections.allow_default_port_from(self.proxy, "csms RDS Proxy")

    def _acknowledge(self, config: StageConfig) -> None:
        nag.acknowledge(
            self.cluster,
            "RDS6",
            "Password authentication on purpose: IAM tokens expire every 15 minutes and RDS limits "
            "the rate of IAM-authenticated connections, a poor fit for Lambda cold starts.",
        )
        nag.acknowledge(
            self.cluster,  # the generated secret is the cluster's child "Secret"
            "SMG4",
            "Not rotated yet: the functions cache the credentials per container; rotation needs the "
            "code to re-read the secret when authentication fails (tracked as follow-up).",
        )
        if not config.is_prod:
            nag.acknowledge(
                self.cluster,
                "RDS10",
                "dev stages are disposable; prod sets deletion protection (and a final snapshot).",
            )
        # cloudwatch_logs_retention is applied by CDK's LogRetention singleton function.
        for child in Stack.of(self).node.children:
            if child.node.id.startswith("LogRetention"):
                nag.acknowledge(
                    child,
                    "IAM4",
                    "CDK's LogRetention helper (sets the retention of the RDS log group); "
                    "basic execution role for its own logs.",
                    finding=nag.managed_policy("service-role/AWSLambdaBasicExecutionRole"),
                )
                nag.acknowledge(
                    child,
                    "IAM5",
                    "CDK's LogRetention helper needs logs:PutRetentionPolicy on log groups created "
                    "by RDS, whose ARNs are not known in advance.",
                    finding="Resource::*",
                )

    def grant_connect(self, fn: CsmsFunction) -> None:
        """Let ``fn`` reach PostgreSQL: network path, secret read, and the settings naming them."""
        self.secret.grant_read(fn.role)
        fn.add_environment(names.Env.DATABASE_SECRET_ARN, self.secret.secret_arn)
        description = f"csms {fn.name} function"
        if self.proxy is None:
            self.cluster.connections.allow_default_port_from(fn.connections, description)
        else:
            # A proxy's Connections carry no default port; it listens on PostgreSQL's.
            self.proxy.connections.allow_from(fn.connections, ec2.Port.POSTGRES, description)
            # The secret's host is the cluster; through the proxy the functions use its endpoint.
            fn.add_environment(names.Env.DATABASE_HOST, self.proxy.endpoint)
