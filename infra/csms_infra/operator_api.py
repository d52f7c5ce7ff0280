"""The operator REST API: Cognito users, API Gateway REST API, ``functions/api``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from . import nag, names
from .config import StageConfig
from .function import CsmsFunction

#: One JSON line per request. ``user`` is the Cognito ``sub`` (empty for public paths);
#: the tenant is in the function's log under the same ``requestId``.
ACCESS_LOG_FORMAT: Final = apigw.AccessLogFormat.custom(
    json.dumps(
        {
            "requestId": "$context.requestId",
            "requestTime": "$context.requestTimeEpoch",
            "ip": "$context.identity.sourceIp",
            "userAgent": "$context.identity.userAgent",
            "httpMethod": "$context.httpMethod",
            "resourcePath": "$context.resourcePath",
            "path": "$context.path",
            "status": "$context.status",
            "responseLength": "$context.responseLength",
            "responseLatency": "$context.responseLatency",
            "integrationLatency": "$context.integrationLatency",
            "integrationStatus": "$context.integration.status",
            "errorType": "$context.error.responseType",
            "error": "$context.error.messageString",
            "authorizerError": "$context.authorizer.error",
            "user": "$context.authorizer.claims.sub",
            "waf": "$context.wafResponseCode",
        },
        separators=(",", ":"),
    ).replace('"$context.error.messageString"', "$context.error.messageString")  # already quoted
)


def problem_body(title: str, status: int | None, detail: str) -> str:
    """An RFC 9457 body for a gateway response, shaped like the function's (csms.api.problems).

    ``detail`` is a literal, or ``$context.error.messageString`` (API Gateway's message,
    already quoted). Without ``status`` (the DEFAULT_* catch-alls, whose status varies)
    the member is left out, which RFC 9457 allows.
    """
    quoted = detail if detail.startswith("$context.") else json.dumps(detail)
    status_member = f'"status":{status},' if status is not None else ""
    return f'{{"type":"about:blank","title":{json.dumps(title)},{status_member}"detail":{quoted}}}'


#: Gateway responses: what API Gateway answers itself, before or instead of the function.
#: ``(type, status, title, detail, extra headers)``; ``None`` keeps API Gateway's status.
GATEWAY_RESPONSES: Final[tuple[tuple[apigw.ResponseType, int | None, str, str, Mapping[str, str]], ...]] = (
    (
        apigw.ResponseType.UNAUTHORIZED,
        401,
        "Unauthorized",
        "send a Cognito ID token of this stage's user pool: Authorization: Bearer <IdToken>",
        {"WWW-Authenticate": "Bearer"},
    ),
    (apigw.ResponseType.ACCESS_DENIED, 403, "Forbidden", "$context.error.messageString", {}),
    (apigw.ResponseType.WAF_FILTERED, 403, "Forbidden", "the request was blocked by the web ACL", {}),
    # No resource and method for the path: API Gateway says 403 "Missing Authentication Token".
    (
        apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        404,
        "Not found",
        f"no such path; the API lives under {names.API_BASE_PATH}",
        {},
    ),
    (apigw.ResponseType.THROTTLED, 429, "Too many requests", "$context.error.messageString", {}),
    (apigw.ResponseType.REQUEST_TOO_LARGE, 413, "Payload too large", "$context.error.messageString", {}),
    (apigw.ResponseType.INTEGRATION_TIMEOUT, 504, "Gateway timeout", "$context.error.messageString", {}),
    (apigw.ResponseType.DEFAULT_4_XX, None, "Request refused", "$context.error.messageString", {}),
    (apigw.ResponseType.DEFAULT_5_XX, None, "Gateway error", "$context.error.messageString", {}),
)


class OperatorUserPool(Construct):
    """The Cognito user pool operators sign in to, and the app client they use.

    - Users are created by an administrator (no self sign-up), sign in with their e-mail
      address, and carry two custom attributes the API reads from the ID token:
      ``custom:tenant`` (immutable: set once at creation) and ``custom:role``
      (viewer|operator|admin). The app client may read both but write neither, so only an
      administrator (IAM: ``admin-update-user-attributes``) changes a role.
    - The client has no secret (CLI, scripts, Swagger UI) and allows SRP and
      USER_PASSWORD_AUTH; ID tokens live one hour, refresh tokens 30 days.

    Context: ``user_pool_mfa`` (off|optional|required; TOTP), ``user_pool_threat_protection``
    (Cognito Plus tier with threat protection enforced).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        mfa = {"off": cognito.Mfa.OFF, "optional": cognito.Mfa.OPTIONAL, "required": cognito.Mfa.REQUIRED}
        plus = config.user_pool_threat_protection
        self.pool = cognito.UserPool(
            self,
            "Pool",
            user_pool_name=names.user_pool_name(config.stage),
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            custom_attributes={
                names.TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=64, mutable=False),
                names.ROLE_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=16, mutable=True),
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=mfa[config.user_pool_mfa],
            mfa_second_factor=(
                cognito.MfaSecondFactor(otp=True, sms=False) if config.user_pool_mfa != "off" else None
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if plus else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus else None
            ),
            user_invitation=cognito.UserInvitationConfig(
                email_subject=f"csms {config.stage}: your operator account",
                email_body=(
                    "Your csms operator account: user {username}, temporary password {####} "
                    "(valid for 3 days; you choose a new one at the first sign-in)."
                ),
            ),
            deletion_protection=config.is_prod,
            removal_policy=config.removal_policy,
        )
        claims = cognito.ClientAttributes().with_custom_attributes(
            names.TENANT_ATTRIBUTE, names.ROLE_ATTRIBUTE
        )
        self.client = self.pool.add_client(
            "ApiClient",
            user_pool_client_name=f"{names.PROJECT}-{config.stage}-api",
            generate_secret=False,
            disable_o_auth=True,  # tokens come from initiate-auth; no hosted UI, no redirect URLs
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            # Readable: the ID token carries what the client may read, and the API needs both.
            read_attributes=claims.with_standard_attributes(email=True, email_verified=True, fullname=True),
            # Writable: profile only. Tenant and role are an administrator's business.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True, fullname=True),
        )
        self._acknowledge(config)

    def _acknowledge(self, config: StageConfig) -> None:
        if config.user_pool_mfa != "required":
            nag.acknowledge(
                self.pool,
                "COG2",
                f"user_pool_mfa={config.user_pool_mfa}: TOTP MFA is offered to every operator, but "
                "API integrations sign in with USER_PASSWORD_AUTH and cannot answer a TOTP challenge; "
                "set user_pool_mfa=required for pools with human operators only.",
            )
        if not config.user_pool_threat_protection:
            nag.acknowledge(
                self.pool,
                "COG8",
                "Essentials tier outside prod: threat protection needs the Plus tier (no free tier); "
                "prod enables it by default (user_pool_threat_protection).",
            )


class OperatorRestApi(Construct):
    """API Gateway REST API (regional) in front of ``functions/api`` (Lambda proxy).

    Resources: ``/api/v1/{proxy+}`` ANY with the Cognito authorizer (``/api/v1/users`` and
    below to the users function, outside the VPC); the public paths of
    ``csms.api.app.PUBLIC_PATHS`` (health, Swagger UI, OpenAPI document) GET without one,
    plus ANY with it so other methods reach the function (405) instead of API Gateway.
    Every error API Gateway produces itself is ``application/problem+json``, like the
    function's. The stage throttles all methods, logs every request as one JSON line and
    execution errors (ERROR level) into log groups with the stage's retention.

    Context: ``api_rate_limit`` / ``api_burst_limit``, ``web_acl_arn_api`` (WAF, REGIONAL),
    ``tracing``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        function: CsmsFunction,
        users_function: CsmsFunction,
        user_pool: OperatorUserPool,
        account_logging: apigw.CfnAccount | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=config.log_removal_policy
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=names.rest_api_name(config.stage),
            description=f"csms {config.stage}: operator REST API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,  # the account-level role is ApiGatewayCloudWatchRole's job
            deploy=True,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=config.api_burst_limit,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # full request/response logs would hold tokens and data
                metrics_enabled=False,  # per-method metrics cost extra; the stage's are enough
                tracing_enabled=config.tracing,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=ACCESS_LOG_FORMAT,
            ),
        )
        self.stage = self.api.deployment_stage
        # API Gateway would create the execution log group itself, without retention.
        self.execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{config.stage}",
            retention=config.log_retention,
            removal_policy=config.log_removal_policy,
        )
        self.stage.node.add_dependency(self.execution_logs)
        if account_logging is not None:
            self.stage.node.add_dependency(account_logging)

        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[user_pool.pool],
            identity_source=apigw.IdentitySource.header("Authorization"),
            results_cache_ttl=Duration.minutes(5),
        )
        self.integration = apigw.LambdaIntegration(function.function, proxy=True, allow_test_invoke=False)
        self.public_methods: list[apigw.Method] = []
        self.protected_methods: list[apigw.Method] = []
        for path in names.PUBLIC_API_PATHS:
            resource = self.api.root.resource_for_path(path)
            public = resource.add_method(
                "GET", self.integration, authorization_type=apigw.AuthorizationType.NONE
            )
            reason = (
                f"GET {path} is public on purpose (csms.api.app.PUBLIC_PATHS: health probe, Swagger UI, "
                "OpenAPI document); every other method of the path goes through the Cognito authorizer."
            )
            nag.acknowledge(public, "APIG4", reason)
            nag.acknowledge(public, "COG4", reason)
            self.public_methods.append(public)
            self.protected_methods.append(self._protected(resource))
        self.protected_methods.append(
            self._protected(self.api.root.resource_for_path(f"{names.API_BASE_PATH}/{{proxy+}}"))
        )
        # Below the public health path, so not reached by {proxy+}: its own authorized method.
        self.protected_methods.append(
            self._protected(self.api.root.resource_for_path(names.DEEP_HEALTH_PATH))
        )
        # /users (and below) go to the function outside the VPC: Cognito only (ADR 0020).
        self.users_integration = apigw.LambdaIntegration(
            users_function.function, proxy=True, allow_test_invoke=False
        )
        users = self.api.root.resource_for_path(f"{names.API_BASE_PATH}/users")
        for resource in (users, users.add_resource("{proxy+}")):
            self.protected_methods.append(self._protected(resource, self.users_integration))

        for response_type, status, title, detail, headers in GATEWAY_RESPONSES:
            self.api.add_gateway_response(
                f"{response_type.response_type.title().replace('_', '')}Response",
                type=response_type,
                status_code=str(status) if status is not None else None,
                response_headers={
                    "Content-Type": f"'{names.PROBLEM_CONTENT_TYPE}'",
                    **{name: f"'{value}'" for name, value in headers.items()},
                },
                # API Gateway picks the application/json template when nothing else matches.
                templates={"application/json": problem_body(title, status, detail)},
            )

        self.web_acl_association: wafv2.CfnWebACLAssociation | None = None
        #: The web ACL this stack creates for the stage (``waf_api_rate_limit``), if any.
        self.web_acl: wafv2.CfnWebACL | None = None
        web_acl_arn = config.web_acl_arn_api
        if not web_acl_arn and config.waf_api_rate_limit:
            self.web_acl = rate_limited_web_acl(
                self, "RateLimit", config=config, waf_scope="REGIONAL", limit=config.waf_api_rate_limit
            )
            web_acl_arn = self.web_acl.attr_arn
        if web_acl_arn:
            self.web_acl_association = wafv2.CfnWebACLAssociation(
                self, "WebAcl", resource_arn=self.stage.stage_arn, web_acl_arn=web_acl_arn
            )
        self._acknowledge(config)

    def _protected(
        self, resource: apigw.IResource, integration: apigw.LambdaIntegration | None = None
    ) -> apigw.Method:
        return resource.add_method(
            "ANY",
            integration or self.integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
        )

    def _acknowledge(self, config: StageConfig) -> None:
        nag.acknowledge(
            self.api,
            "APIG2",
            "The function validates every request against its pydantic models (Powertools "
            "enable_validation) and answers 422 problem+json naming the field; API Gateway models "
            "would duplicate the OpenAPI schema and answer in another format.",
        )
        if not config.web_acl_arn_api and not config.waf_api_rate_limit:
            nag.acknowledge(
                self.stage,
                "APIG3",
                "Optional (web_acl_arn_api context, a REGIONAL web ACL): every route but the public "
                "health/docs GETs needs a Cognito token, and the stage throttles every method.",
            )

    @property
    def execute_api_domain(self) -> str:
        """``{apiId}.execute-api.{region}.{urlSuffix}``: the distribution's ``/api/*`` origin."""
        return f"{self.api.rest_api_id}.execute-api.{self.stage.stack.region}.{self.stage.stack.url_suffix}"

    @property
    def url(self) -> str:
        """``https://{apiId}.execute-api.{region}.{urlSuffix}/{stage}/api/v1``."""
        return self.api.url_for_path(names.API_BASE_PATH)


#: WAF evaluates a rate-based rule over this window (the limit counts requests in it).
RATE_WINDOW_SECONDS = 300


def rate_limited_web_acl(
    scope: Construct, construct_id: str, *, config: StageConfig, waf_scope: str, limit: int
) -> wafv2.CfnWebACL:
    """A web ACL that allows everything but blocks a source address past ``limit`` requests in
    5 minutes (a WAF rate-based rule keyed on the client IP), with CloudWatch metrics and
    sampled requests. ``scope`` is REGIONAL (REST API stages) or CLOUDFRONT (us-east-1 only)."""
    metric = f"csms-{config.stage}-{construct_id.lower()}"
    return wafv2.CfnWebACL(
        scope,
        construct_id,
        scope=waf_scope,
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
        ),
        rules=[
            wafv2.CfnWebACL.RuleProperty(
                name="per-address-rate",
                priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP",
                        limit=limit,
                        evaluation_window_sec=RATE_WINDOW_SECONDS,
                    )
                ),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True,
                    metric_name=f"{metric}-per-address",
                    sampled_requests_enabled=True,
                ),
            )
        ],
    )
