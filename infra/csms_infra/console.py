"""The operator console on AWS: S3 behind the existing CloudFront distribution, Cognito's login.

- The built single-page app (``console/``: ``npm ci`` + ``npm run build`` at synth, a local
  bundling step like the dependency layer's; nothing prebuilt is committed) goes to a private
  bucket, read by CloudFront only (origin access control), under ``/console/``.
- ``/console/config.json`` is written at deploy from the stack's values: the API base, the
  Cognito managed-login domain and the console's app client, the live-update settings.
- The distribution gains two behaviours: ``/console/*`` (S3, cached, a CloudFront Function
  answering the app's own routes with ``index.html``, the security headers policy) and
  ``/api/*`` (the operator REST API, not cached), so the console and the API share one origin.
- Cognito: a managed-login domain and an app client for the console (authorization code with
  PKCE, no secret, callback and logout URLs on the distribution's host).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import jsii
from aws_cdk import (
    Annotations,
    AssetHashType,
    Aws,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from csms.constants import CONSOLE_CONFIG, CONSOLE_PATH, console_security_headers

from . import nag, names
from .config import StageConfig

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CONSOLE_DIR: Final = REPO_ROOT / "console"
ROUTES_FUNCTION: Final = Path(__file__).parent / "cloudfront" / "console_routes.js"
#: The build's content-hashed files never change under their name; index.html and
#: config.json are revalidated so a deploy shows at the next reload.
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"


@jsii.implements(ILocalBundling)
class ConsoleBuild:
    """CDK local bundling: ``npm ci`` and ``npm run build`` in ``console/`` (the build generates the
    API client from docs/openapi.json and checks the bundle budget), then ``dist/`` is the asset."""

    def __init__(self, console_dir: Path = CONSOLE_DIR) -> None:
        self._dir = console_dir

    def try_bundle(self, output_dir: str, options: BundlingOptions | None = None, **_: Any) -> bool:
        quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
        print("csms: building the console (npm ci, npm run build)", file=sys.stderr)
        # Failing loudly beats returning False: CDK would then try Docker, which we do not use.
        subprocess.run(["npm", "ci", *quiet], cwd=self._dir, check=True)
        subprocess.run(["npm", "run", "--silent", "build"], cwd=self._dir, check=True)
        shutil.copytree(self._dir / "dist", output_dir, dirs_exist_ok=True)
        return True


def console_source(
    config: StageConfig, scope: Construct, console_dir: Path = CONSOLE_DIR
) -> s3deploy.ISource:
    """The built console, or (``skip_bundling=true``) a one-page placeholder not to be deployed."""
    if config.skip_bundling or not (console_dir / "package.json").is_file():
        placeholder = REPO_ROOT / "infra" / "cdk.out" / "console-placeholder"
        placeholder.mkdir(parents=True, exist_ok=True)
        (placeholder / "index.html").write_text(
            "<!doctype html><title>csms console</title>"
            "<p>skip_bundling=true: the console was not built.</p>\n",
            encoding="utf-8",
        )
        Annotations.of(scope).add_warning_v2(
            "csms:ConsolePlaceholder",
            "the console is a placeholder (skip_bundling=true or no console/): do not deploy",
        )
        return s3deploy.Source.asset(str(placeholder))
    return s3deploy.Source.asset(
        str(console_dir),
        # The asset hash is the sources' (not node_modules, not an earlier build), plus the API
        # document the client is generated from.
        exclude=["node_modules", "dist", "*.tsbuildinfo"],
        bundling=BundlingOptions(
            image=DockerImage.from_registry("node:20-slim"),  # required by the API; never used
            local=ConsoleBuild(console_dir),
        ),
        asset_hash=_sources_hash(console_dir),
        asset_hash_type=AssetHashType.CUSTOM,
    )


def _sources_hash(console_dir: Path) -> str:
    """The console's sources and the API document it is generated from (not node_modules, not
    an earlier build): the asset is rebuilt exactly when one of them changes."""
    import hashlib
    import os

    digest = hashlib.sha256()
    files: list[Path] = []
    for root, dirs, names_ in os.walk(console_dir):
        dirs[:] = sorted(d for d in dirs if d not in {"node_modules", "dist"})
        files.extend(Path(root) / n for n in sorted(names_) if not n.endswith(".tsbuildinfo"))
    for path in [*files, REPO_ROOT / "docs" / "openapi.json"]:
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def console_routes_source(path: Path = ROUTES_FUNCTION) -> str:
    return path.read_text(encoding="utf-8")


class ConsoleLogin(Construct):
    """Cognito's managed login for the console: a domain, its branding, and the console's client
    (authorization code + PKCE, public: no secret)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, pool: cognito.UserPool, host: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain = pool.add_domain(
            "Domain",
            # Unique per region across accounts: the account id makes it ours.
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=f"{names.PROJECT}-{config.stage}-{Aws.ACCOUNT_ID}"
            ),
            managed_login_version=cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
        )
        self.redirect_uri = f"https://{host}{CONSOLE_PATH}callback"
        self.logout_uri = f"https://{host}{CONSOLE_PATH}"
        claims = cognito.ClientAttributes().with_custom_attributes(
            names.TENANT_ATTRIBUTE, names.ROLE_ATTRIBUTE
        )
        self.client = pool.add_client(
            "ConsoleClient",
            user_pool_client_name=f"{names.PROJECT}-{config.stage}-console",
            generate_secret=False,  # a browser cannot keep one; PKCE protects the code
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[self.redirect_uri],
                logout_urls=[self.logout_uri],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
            read_attributes=claims.with_standard_attributes(email=True, email_verified=True, fullname=True),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True, fullname=True),
        )
        # The managed login pages need a style; Cognito's own.
        cognito.CfnManagedLoginBranding(
            self,
            "Branding",
            user_pool_id=pool.user_pool_id,
            client_id=self.client.user_pool_client_id,
            use_cognito_provided_values=True,
        )

    @property
    def authority(self) -> str:
        """The OIDC issuer the console signs in against (the managed login's base URL)."""
        return self.domain.base_url()


class ConsoleSite(Construct):
    """The console's bucket, its deployment with ``config.json``, and its two behaviours on the
    existing distribution (``/console/*`` from S3, ``/api/*`` to the REST API)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        distribution: cloudfront.Distribution,
        api_origin_domain: str,
        login: ConsoleLogin,
        live: dict[str, Any] | None = None,
        live_origin: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # The content is rebuilt from the repository on every deploy: nothing to keep.
            removal_policy=RemovalPolicy.DESTROY if not config.is_prod else RemovalPolicy.RETAIN,
        )
        nag.acknowledge(
            self.bucket,
            "S1",
            "Holds only the console's build (public JavaScript and HTML, rewritten on every deploy); "
            "requests are served and counted by CloudFront.",
        )

        # --- behaviours ------------------------------------------------------------------------
        connect_sources = tuple(s for s in (live_origin, login.authority) if s)
        headers = console_security_headers(connect_sources)
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment=f"csms {config.stage}: console security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=headers["Content-Security-Policy"], override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
        )
        self.routes = cloudfront.Function(
            self,
            "Routes",
            code=cloudfront.FunctionCode.from_inline(console_routes_source()),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="csms: console routes -> index.html",
        )
        distribution.add_behavior(
            f"{CONSOLE_PATH}*",
            origins.S3BucketOrigin.with_origin_access_control(self.bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            response_headers_policy=self.headers_policy,
            compress=True,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=self.routes, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ],
        )
        distribution.add_behavior(
            f"{names.API_BASE_PATH.rsplit('/', 1)[0]}/*",
            origins.HttpOrigin(
                api_origin_domain,
                origin_path=f"/{config.stage}",
                protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
                # The event feed's long poll answers within 25 s; API Gateway cuts at 29 s.
                read_timeout=Duration.seconds(30),
            ),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Every viewer header but Host (Authorization, Idempotency-Key, Content-Type) and the
            # query string reach API Gateway as sent.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        )

        # --- content -----------------------------------------------------------------------------
        self.config_json = {
            "apiBase": names.API_BASE_PATH,
            "auth": {
                "mode": "cognito",
                "authority": login.authority,
                "clientId": login.client.user_pool_client_id,
                "redirectUri": login.redirect_uri,
                "logoutUri": login.logout_uri,
            },
            "live": live or {"mode": "poll"},
        }
        build = console_source(config, self)
        # The deployment handler's logs, kept as long as every other log of the stage.
        deploy_logs = logs.LogGroup(
            self, "DeploymentLogs", retention=config.log_retention, removal_policy=config.log_removal_policy
        )
        prefix = CONSOLE_PATH.strip("/") + "/"
        config_name = CONSOLE_CONFIG.rsplit("/", 1)[1]
        self.assets = s3deploy.BucketDeployment(
            self,
            "Assets",
            sources=[build],
            destination_bucket=self.bucket,
            destination_key_prefix=prefix,
            exclude=["index.html", config_name, ".vite/*"],  # (.vite: the build's manifest)
            cache_control=[s3deploy.CacheControl.from_string(IMMUTABLE)],
            prune=False,  # a page still open may load an earlier build's chunks
            memory_limit=512,
            log_group=deploy_logs,
        )
        self.pages = s3deploy.BucketDeployment(
            self,
            "Pages",
            sources=[build, s3deploy.Source.json_data(config_name, self.config_json)],
            destination_bucket=self.bucket,
            destination_key_prefix=prefix,
            exclude=["*"],
            include=["index.html", config_name],
            cache_control=[s3deploy.CacheControl.from_string(REVALIDATE)],
            prune=False,
            distribution=distribution,
            distribution_paths=[f"{CONSOLE_PATH}index.html", CONSOLE_CONFIG, CONSOLE_PATH],
            memory_limit=512,
            log_group=deploy_logs,
        )
        self.pages.node.add_dependency(self.assets)  # the page only after the chunks it loads
        self._acknowledge_deployment_handler()

    def _acknowledge_deployment_handler(self) -> None:
        """The BucketDeployment's handler: CDK's own singleton function (one per stack and memory
        size), which copies the build from CDK's asset bucket and invalidates the distribution."""
        stack = Stack.of(self)
        handlers = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        reasons = {
            "IAM4": (
                nag.managed_policy("service-role/AWSLambdaBasicExecutionRole"),
                "CDK's BucketDeployment handler writes its own logs with the basic execution role.",
            ),
            "L1": (
                None,
                "CDK's BucketDeployment handler: its runtime is chosen by aws-cdk-lib, updated with it.",
            ),
        }
        wildcards = {
            "Action::s3:GetBucket*": "grant_read on the asset bucket (CDK's)",
            "Action::s3:GetObject*": "grant_read on the asset bucket (CDK's)",
            "Action::s3:List*": "grant_read/grant_read_write (CDK's): the copy lists what it syncs",
            "Action::s3:Abort*": "grant_read_write on the console bucket (CDK's): multipart uploads",
            "Action::s3:DeleteObject*": "grant_read_write on the console bucket (CDK's)",
            f"Resource::<{stack.get_logical_id(self.bucket.node.default_child)}.Arn>/*": (  # type: ignore[arg-type]
                "every object of the console's own bucket"
            ),
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*": (
                "the build's zip in CDK's bootstrap asset bucket"
            ),
            "Resource::*": "cloudfront:CreateInvalidation/GetInvalidation take no resource narrower than *",
        }
        for handler in handlers:
            for rule, (finding, reason) in reasons.items():
                nag.acknowledge(handler, rule, reason, finding=finding)
            for finding, reason in wildcards.items():
                nag.acknowledge(
                    handler, "IAM5", f"CDK's BucketDeployment handler: {reason}.", finding=finding
                )
