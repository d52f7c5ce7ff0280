"""The operator console on AWS: a private bucket behind the existing distribution, the API on the
same origin, security headers, config.json from the stack, Cognito's code + PKCE client."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .support import Synth, the_one

pytestmark = pytest.mark.infra


def behaviours(synth: Synth) -> dict[str, dict[str, Any]]:
    distribution = the_one(synth.of_type("AWS::CloudFront::Distribution"))["Properties"]["DistributionConfig"]
    return {b["PathPattern"]: b for b in distribution.get("CacheBehaviors", [])}


def origin_of(synth: Synth, behaviour: dict[str, Any]) -> dict[str, Any]:
    distribution = the_one(synth.of_type("AWS::CloudFront::Distribution"))["Properties"]["DistributionConfig"]
    origin: dict[str, Any] = next(
        o for o in distribution["Origins"] if o["Id"] == behaviour["TargetOriginId"]
    )
    return origin


def test_the_console_bucket_is_private_and_read_by_cloudfront_only(dev: Synth) -> None:
    bucket = the_one(dev.of_type("AWS::S3::Bucket"))["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    console = behaviours(dev)["/console/*"]
    origin = origin_of(dev, console)
    assert "S3OriginConfig" in origin
    assert "OriginAccessControlId" in origin
    policy = json.dumps(the_one(dev.of_type("AWS::S3::BucketPolicy"))["Properties"]["PolicyDocument"])
    assert "cloudfront.amazonaws.com" in policy
    assert "AWS:SourceArn" in policy


def test_the_api_shares_the_consoles_origin_uncached_with_every_header(dev: Synth) -> None:
    api = behaviours(dev)["/api/*"]
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert api["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    origin = origin_of(dev, api)
    assert origin["OriginPath"] == "/dev"
    assert "execute-api" in json.dumps(origin["DomainName"])
    assert "OperatorApi" in json.dumps(origin["DomainName"])


def test_the_console_pages_carry_csp_hsts_and_the_other_security_headers(dev: Synth) -> None:
    policy = the_one(dev.of_type("AWS::CloudFront::ResponseHeadersPolicy"))["Properties"]
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    # the live WebSocket API's origin (ADR 0025) and the managed login's domain (token endpoint)
    assert "connect-src 'self' wss://" in csp
    assert ".execute-api." in csp
    assert ".amazoncognito.com;" in csp
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    console = behaviours(dev)["/console/*"]
    assert console["ResponseHeadersPolicyId"] == {"Ref": dev.logical_id(dev.stack.console.headers_policy)}
    assert console["ViewerProtocolPolicy"] == "redirect-to-https"
    assert console["FunctionAssociations"][0]["EventType"] == "viewer-request"


def test_the_console_client_uses_the_code_flow_without_a_secret_on_the_distributions_host(dev: Synth) -> None:
    client = dev.resources[dev.logical_id(dev.stack.console_login.client)]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client.get("GenerateSecret", False) is False
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    callback = json.dumps(client["CallbackURLs"])
    assert "/console/callback" in callback
    assert "FrontDoorDistribution" in callback
    assert "/console/" in json.dumps(client["LogoutURLs"])
    domain = the_one(dev.of_type("AWS::Cognito::UserPoolDomain"))["Properties"]
    assert domain["ManagedLoginVersion"] == 2
    assert the_one(dev.of_type("AWS::Cognito::ManagedLoginBranding"))["Properties"][
        "UseCognitoProvidedValues"
    ]


def test_config_json_is_written_at_deploy_from_the_stacks_values(dev: Synth) -> None:
    config = dev.stack.resolve(dev.stack.console.config_json)
    assert config["apiBase"] == "/api/v1"
    # ADR 0025: the operators' live WebSocket API
    assert config["live"]["mode"] == "websocket"
    assert dev.logical_id(dev.stack.console_live.api) in json.dumps(config["live"]["url"])
    assert "/live" in json.dumps(config["live"]["url"])
    auth = config["auth"]
    assert auth["mode"] == "cognito"
    assert auth["clientId"] == {"Ref": dev.logical_id(dev.stack.console_login.client)}
    assert "/console/callback" in json.dumps(auth["redirectUri"])
    assert "amazoncognito.com" in json.dumps(auth["authority"])
    deployments = [d["Properties"] for d in dev.of_type("Custom::CDKBucketDeployment").values()]
    (pages,) = [d for d in deployments if "DistributionPaths" in d]
    (assets,) = [d for d in deployments if "DistributionPaths" not in d]
    assert pages["DestinationBucketKeyPrefix"] == assets["DestinationBucketKeyPrefix"] == "console/"
    assert pages["Prune"] is assets["Prune"] is False  # an open page may still load older chunks
    assert "/console/config.json" in pages["DistributionPaths"]
    assert pages["SystemMetadata"]["cache-control"] == "no-cache"
    assert assets["SystemMetadata"]["cache-control"] == "public, max-age=31536000, immutable"
    # config.json is the second source of the pages' deployment, its tokens filled at deploy.
    assert len(pages["SourceObjectKeys"]) == 2
    assert pages["SourceMarkers"][1]


def test_the_placeholder_build_is_flagged_not_to_be_deployed(dev: Synth) -> None:
    from aws_cdk.assertions import Annotations, Match

    Annotations.from_stack(dev.stack).has_warning(
        "*", Match.string_like_regexp("the console is a placeholder")
    )
