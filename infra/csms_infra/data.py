"""State: the DynamoDB tables (connections, pending calls, idempotency) and Aurora PostgreSQL."""

from __future__ import annotations

from typing import Protocol, cast

from aws_cdk import Annotations, CfnElement, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IDependable

from csms.aws.schema import (
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    LIMITS_KEY,
    LIMITS_TTL_ATTRIBUTE,
    PARTITION_KEY,
    PENDING_KEY,
    PENDING_TTL_ATTRIBUTE,
    TENANT_ATTRIBUTE,
    TENANT_INDEX,
    TENANT_INDEX_ATTRIBUTES,
    TTL_ATTRIBUTE,
)

from . import nag, names
from .assets import CODE_ROOT
from .config import StageConfig
from .function import CsmsFunction
from .network import Network

#: Characters the generated database passwords never contain (URLs and SQL stay simple).
ROTATION_EXCLUDED_CHARACTERS = "/@\"'\\ :%?#&"
#: ``DynamoConnectionStore.current_connection``: one consistent GetItem.
LOOKUP_ACTIONS: tuple[str, ...] = ("dynamodb:GetItem",)
#: ``DynamoConnectionStore.count_connected`` (the ``fleet-gauges`` job): a ``Select=COUNT``
#: Scan of the table filtered on the ``cp#`` prefix of ``pk``; no index.
COUNT_ACTIONS: tuple[str, ...] = ("dynamodb:Scan",)
#: The liveness job (``DynamoConnectionStore.liveness_scan``, ``open_connection``,
#: ``close_stale``, ``release``): one Scan per run, then a consistent GetItem, a conditional
#: UpdateItem (close the record) and a conditional DeleteItem (release the charger) per
#: charger it takes offline. No index.
LIVENESS_ACTIONS: tuple[str, ...] = (
    "dynamodb:Scan",
    "dynamodb:GetItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
#: The slot operations of ``csms.aws.pending.DynamoPendingCalls``: ``claim`` (a conditional
#: PutItem), ``answer`` (a conditional UpdateItem keeping the station's answer until its outcome
#: is stored) and ``pop`` (a conditional DeleteItem returning the old item).
SLOT_ACTIONS: tuple[str, ...] = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
#: The live function (``csms.aws.live.DynamoLiveSubscribers.add``/``remove``): a console's
#: ``live#`` item written at $connect, deleted at $disconnect (ADR 0025).
LIVE_ACTIONS: tuple[str, ...] = ("dynamodb:PutItem", "dynamodb:DeleteItem")
#: The fan-out (``of_tenant``, ``remove``): a Query of the ``by-tenant`` index, a DeleteItem of a
#: connection API Gateway says is gone.
FANOUT_TABLE_ACTIONS: tuple[str, ...] = ("dynamodb:DeleteItem",)
FANOUT_INDEX_ACTIONS: tuple[str, ...] = ("dynamodb:Query",)
#: ``expired`` (the deadline sweep) scans the table, which holds one item per busy charger.
SWEEP_ACTIONS: tuple[str, ...] = (*SLOT_ACTIONS, "dynamodb:Scan")


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
    ``by-tenant`` index (partition ``tenant_id``, sort ``pk``, the listing's attributes but not
    ``last_seen``, so liveness writes never write it) lists a
    tenant's live connections for the operator API without a scan.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = _on_demand_table(self, config, PARTITION_KEY, TTL_ATTRIBUTE)
        self.table.add_global_secondary_index(
            index_name=TENANT_INDEX,
            partition_key=dynamodb.Attribute(name=TENANT_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            # Not last_seen: the message path's liveness writes stay off the index.
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=list(TENANT_INDEX_ATTRIBUTES),
        )

    def grant(self, fn: CsmsFunction) -> None:
        """Item reads and writes on the table, and the variable naming it."""
        self.table.grant_read_write_data(fn.role)
        self._name_it(fn)
        self._acknowledge_indexes(fn)

    def grant_read(self, fn: CsmsFunction) -> None:
        """Item and index reads only (the operator API lists connections, never writes them)."""
        self.table.grant_read_data(fn.role)
        self._name_it(fn)
        self._acknowledge_indexes(fn)

    def grant_lookup(self, fn: CsmsFunction) -> None:
        """``GetItem`` on the table alone: a charger's current connection id.

        What command delivery needs (``DynamoConnectionStore.current_connection``): no
        writes, no queries, no index.
        """
        iam.Grant.add_to_principal(
            grantee=fn.role, actions=list(LOOKUP_ACTIONS), resource_arns=[self.table.table_arn]
        )
        self._name_it(fn)

    def grant_count(self, fn: CsmsFunction) -> None:
        """``Scan`` on the table alone: how many chargers are connected (the fleet gauge).

        ``DynamoConnectionStore.count_connected`` scans with ``Select=COUNT``; no index, no
        item reads beyond that, no writes.
        """
        iam.Grant.add_to_principal(
            grantee=fn.role, actions=list(COUNT_ACTIONS), resource_arns=[self.table.table_arn]
        )
        self._name_it(fn)

    def grant_liveness(self, fn: CsmsFunction) -> None:
        """What the liveness job does to the table alone: scan it, re-read a record, close it
        and release its charger (conditional writes); no index, no other writes."""
        iam.Grant.add_to_principal(
            grantee=fn.role, actions=list(LIVENESS_ACTIONS), resource_arns=[self.table.table_arn]
        )
        self._name_it(fn)

    def grant_live(self, fn: CsmsFunction) -> None:
        """Write and delete items of the table alone: the consoles' ``live#`` records (the live
        function's $connect and $disconnect); no reads, no index."""
        iam.Grant.add_to_principal(
            grantee=fn.role, actions=list(LIVE_ACTIONS), resource_arns=[self.table.table_arn]
        )
        self._name_it(fn)

    def grant_fanout(self, fn: CsmsFunction) -> None:
        """Query the ``by-tenant`` index (a tenant's consoles) and delete items of the table
        (gone consoles): the fan-out, nothing else."""
        iam.Grant.add_to_principal(
            grantee=fn.role, actions=list(FANOUT_TABLE_ACTIONS), resource_arns=[self.table.table_arn]
        )
        iam.Grant.add_to_principal(
            grantee=fn.role,
            actions=list(FANOUT_INDEX_ACTIONS),
            resource_arns=[f"{self.table.table_arn}/index/{TENANT_INDEX}"],
        )
        self._name_it(fn)

    def _name_it(self, fn: CsmsFunction) -> None:
        fn.add_environment(names.Env.CONNECTIONS_TABLE, self.table.table_name)

    def _acknowledge_indexes(self, fn: CsmsFunction) -> None:
        table_id = Stack.of(self).get_logical_id(cast(CfnElement, self.table.node.default_child))
        nag.acknowledge(
            fn.role,
            "IAM5",
            f"CDK grants a table's data actions on its indexes too (<table>/index/*); this table has "
            f"one index ({TENANT_INDEX}), and the grant names no other table.",
            finding=f"Resource::<{table_id}.Arn>/index/*",
        )


class PendingCallsTable(Construct):
    """Each charger's single outstanding-CALL slot, laid out as :mod:`csms.aws.schema` says.

    Key ``pk`` (``cp#{chargePointId}``), TTL on ``ttl`` (a backstop to the sweeper), on
    demand, point-in-time recovery, retained in prod. No index, so the grants name the
    table and nothing else. The grants follow ``csms.aws.pending`` call by call:

    - :meth:`grant_slot` for the functions that send and answer commands (``commands``,
      ``message``): claim, record the answer, free;
    - :meth:`grant_sweep` for the deadline sweeper (``scheduled``): that plus the Scan.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = _on_demand_table(self, config, PENDING_KEY, PENDING_TTL_ATTRIBUTE)

    def grant_slot(self, fn: CsmsFunction) -> None:
        """Claim (conditional PutItem), record the answer on (conditional UpdateItem) and free
        (conditional DeleteItem) a charger's slot."""
        self._grant(fn, SLOT_ACTIONS)

    def grant_sweep(self, fn: CsmsFunction) -> None:
        """The slot operations plus the Scan for calls past their deadline."""
        self._grant(fn, SWEEP_ACTIONS)

    def _grant(self, fn: CsmsFunction, actions: tuple[str, ...]) -> None:
        iam.Grant.add_to_principal(
            grantee=fn.role, actions=list(actions), resource_arns=[self.table.table_arn]
        )
        fn.add_environment(names.Env.PENDING_CALLS_TABLE, self.table.table_name)


#: ``csms.aws.limits.DynamoCounters``: counters (UpdateItem ADD, BatchGetItem) and revocation
#: stamps (PutItem, GetItem). Nothing scans it.
LIMITS_ACTIONS: tuple[str, ...] = (
    "dynamodb:UpdateItem",
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
)


class LimitsTable(Construct):
    """Per-client counters in fixed windows and operators' revocation stamps (ADR 0023).

    Key ``pk``, TTL on ``ttl`` (a counter lives one window past its own, a stamp as long as
    the longest token), on demand, like the other tables.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = _on_demand_table(self, config, LIMITS_KEY, LIMITS_TTL_ATTRIBUTE)

    def grant(self, fn: CsmsFunction) -> None:
        iam.Grant.add_to_principal(
            grantee=fn.role, actions=list(LIMITS_ACTIONS), resource_arns=[self.table.table_arn]
        )
        fn.add_environment(names.Env.LIMITS_TABLE, self.table.table_name)


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


class PostgresAccess(Protocol):
    """The PostgreSQL the functions use: Aurora (:class:`Database`) or :class:`ExternalDatabase`."""

    @property
    def secret(self) -> secretsmanager.ISecret:
        """RDS-style credentials (host, port, username, password, dbname)."""
        ...

    @property
    def dependables(self) -> tuple[IDependable, ...]:
        """What must exist before migrations can run (the Aurora cluster; nothing external)."""
        ...

    @property
    def host_override(self) -> str | None:
        """``CSMS_DATABASE_HOST`` of every database function, if the secret's host is not used."""
        ...

    def grant_connect(self, fn: CsmsFunction, role: str | None = None) -> None:
        """Let ``fn`` reach PostgreSQL: network path, secret read, and the settings naming them.
        ``role`` (``names.DATABASE_ROLES``) logs it in as that runtime role; None: as the owner."""
        ...

    def grant_roles_admin(self, fn: CsmsFunction) -> None:
        """The migration: read the runtime roles' secrets to create the roles."""
        ...


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
        # The runtime roles (ADR 0021): a secret each, attached to the cluster (host, port and
        # database name are added), created and granted by the migration.
        self.role_secrets: dict[str, secretsmanager.ISecret] = {}
        for path, username in names.DATABASE_ROLES.items():
            role_secret = rds.DatabaseSecret(
                self,
                f"{path.capitalize()}Secret",
                username=username,
                exclude_characters=ROTATION_EXCLUDED_CHARACTERS,
            )
            # The attached secret: what the functions read waits for the host to be added.
            self.role_secrets[path] = role_secret.attach(self.cluster)
        self._acknowledge(config)

        self.proxy: rds.DatabaseProxy | None = None
        if config.rds_proxy:
            self.proxy = self.cluster.add_proxy(
                "Proxy",
                secrets=[secret, *self.role_secrets.values()],
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

    @property
    def dependables(self) -> tuple[IDependable, ...]:
        return (self.cluster,)

    @property
    def host_override(self) -> str | None:
        """The proxy's endpoint with ``rds_proxy`` (the secret names the cluster)."""
        return None if self.proxy is None else self.proxy.endpoint

    def grant_connect(self, fn: CsmsFunction, role: str | None = None) -> None:
        """Let ``fn`` reach PostgreSQL: network path, secret read, and the settings naming them.

        ``role`` logs it in as that runtime role (rows only); None as the owner (the master
        user: the migration, the rotation and the scheduled jobs, whose housekeeping creates
        and drops partitions). Connections verify the server with the RDS CA bundle.
        """
        secret = self.secret if role is None else self.role_secrets[role]
        secret.grant_read(fn.role)
        fn.add_environment(names.Env.DATABASE_SECRET_ARN, secret.secret_arn)
        fn.add_environment(names.Env.DATABASE_CA_FILE, f"{CODE_ROOT}/{names.RDS_CA_BUNDLE}")
        description = f"csms {fn.name} function"
        if self.proxy is None:
            self.cluster.connections.allow_default_port_from(fn.connections, description)
        else:
            # A proxy's Connections carry no default port; it listens on PostgreSQL's.
            self.proxy.connections.allow_from(fn.connections, ec2.Port.POSTGRES, description)
            # The secret's host is the cluster; through the proxy the functions use its endpoint.
            fn.add_environment(names.Env.DATABASE_HOST, self.proxy.endpoint)

    def grant_roles_admin(self, fn: CsmsFunction) -> None:
        for secret in self.role_secrets.values():
            secret.grant_read(fn.role)
        fn.add_environment(
            names.Env.DATABASE_ROLE_SECRET_ARNS, ",".join(s.secret_arn for s in self.role_secrets.values())
        )

    @property
    def rotated_secrets(self) -> list[secretsmanager.ISecret]:
        """Every database secret the rotation function rotates: the owner's and the roles'."""
        return [self.secret, *self.role_secrets.values()]


class ExternalDatabase(Construct):
    """A PostgreSQL the stack does not create (e.g. TimescaleDB), known by its secret only.

    ``external_database_secret_arn`` names an existing Secrets Manager secret in the RDS
    layout (``host``, ``port``, ``username``, ``password``, ``dbname``) in the stack's region;
    every database function reads it (``secretsmanager:GetSecretValue`` on that ARN, nothing
    else) and connects with ``sslmode=require``. ``external_database_host`` overrides the
    secret's host (``CSMS_DATABASE_HOST``), e.g. a private endpoint reached through peering.

    The functions stay in the VPC and reach the database through their egress (their
    security groups allow all egress): IPv6 with ``egress=ipv6`` (the default), IPv4 through
    the NAT gateways with ``egress=nat``; otherwise only a route you add yourself (peering,
    VPN, Transit Gateway) gets them there. Migrations run against it on deploy.
    A secret encrypted with a customer managed KMS key also needs that key's policy to let
    the function roles decrypt (``kms:ViaService`` Secrets Manager).

    Context: ``external_database_secret_arn``, ``external_database_host``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, network: Network) -> None:
        super().__init__(scope, construct_id)
        self._host = config.external_database_host
        self._secret = secretsmanager.Secret.from_secret_complete_arn(
            self, "Secret", config.external_database_secret_arn
        )
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and region != config.external_database_region:
            Annotations.of(self).add_error(
                f"external_database_secret_arn is in {config.external_database_region}, the stack in "
                f"{region}: the functions read the secret from their own region's Secrets Manager"
            )
        if not network.has_ipv4_egress:
            Annotations.of(self).add_warning_v2(
                "csms:ExternalDatabaseWithoutEgress",
                "external_database_secret_arn without NAT (egress=ipv6, or nat_gateways=0): the functions "
                "reach the database only over IPv6 (a host with an AAAA record) or through a route you add "
                "to the VPC yourself (peering, VPN, Transit Gateway); egress=nat gives them IPv4.",
            )

    @property
    def secret(self) -> secretsmanager.ISecret:
        return self._secret

    @property
    def dependables(self) -> tuple[IDependable, ...]:
        return ()

    @property
    def host_override(self) -> str | None:
        return self._host or None

    def grant_connect(self, fn: CsmsFunction, role: str | None = None) -> None:
        """Read the secret; the function's security group already allows the way out. The
        roles and the TLS trust of an external database are its operator's (one secret,
        ``sslmode=require``): see infra/README.md."""
        self._secret.grant_read(fn.role)
        fn.add_environment(names.Env.DATABASE_SECRET_ARN, self._secret.secret_arn)
        if self.host_override:
            fn.add_environment(names.Env.DATABASE_HOST, self.host_override)

    def grant_roles_admin(self, fn: CsmsFunction) -> None:
        """No runtime roles are created in a database the stack does not own."""
