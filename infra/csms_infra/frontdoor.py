"""The charger front door: CloudFront in front of the WebSocket API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from . import nag, names
from .config import StageConfig

CHARGER_PATH_FUNCTION: Final = Path(__file__).parent / "cloudfront" / "charger_path.js"


def charger_path_source(path: Path = CHARGER_PATH_FUNCTION) -> str:
    """The CloudFront Function's code, after checking it names the headers ``csms`` expects.

    The file is plain JavaScript so tests can run it in Node; the header names are spelled
    there as literals and checked here, so a rename in ``csms.constants`` fails the synth.
    """
    source = path.read_text(encoding="utf-8")
    expected = {
        "CHARGE_POINT_ID_HEADER": names.CF_CHARGE_POINT_ID_HEADER,
        "ORIGIN_VERIFY_HEADER": names.CF_ORIGIN_VERIFY_HEADER,
        "OCPP_PATH_PREFIX": names.OCPP_PATH,
    }
    for variable, value in expected.items():
        match = re.search(rf"^var {variable} = '([^']*)';$", source, re.MULTILINE)
        if match is None or match.group(1) != value:
            found = match.group(1) if match else None
            raise ValueError(f"{path.name}: {variable} is {found!r}, csms.constants says {value!r}")
    return source


class OriginVerifySecret(Construct):
    """The shared secret CloudFront adds to every origin request and ``$connect`` checks.

    Generated in Secrets Manager, so the value never appears in the template, in
    ``cdk.out`` or in git, and stays the same across deploys. CloudFormation resolves it
    through a ``{{resolve:secretsmanager:...}}`` dynamic reference into the origin header
    and the connect function's ``CSMS_ORIGIN_VERIFY_SECRET``. It only proves "came
    through our CloudFront", it grants no data access; anyone who can read the
    distribution or function configuration can see it, which is acceptable for that job.

    Rotation: put a new value into the secret and redeploy (dynamic references resolve at
    deploy time). Expect refused ``$connect`` for the minutes CloudFront needs to propagate.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="csms: value of the origin-verify header CloudFront adds for $connect",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True, include_space=False
            ),
        )
        nag.acknowledge(
            self.secret,
            "SMG4",
            "Rotated by hand (new value, then redeploy): CloudFormation resolves it into the "
            "CloudFront origin header and the connect function at deploy time only.",
        )

    @property
    def value(self) -> str:
        """A dynamic reference; CloudFormation substitutes the value at deploy time."""
        return self.secret.secret_value.unsafe_unwrap()


class ChargerFrontDoor(Construct):
    """CloudFront distribution that turns ``wss://host/ocpp/{id}`` into a ``$connect``.

    - origin: ``{apiId}.execute-api.{region}.amazonaws.com`` with origin path ``/{stage}``,
      HTTPS only (TLS 1.2), plus the secret origin-verify header;
    - caching disabled; all viewer headers but ``Host`` forwarded (managed
      AllViewerExceptHostHeader), which carries the WebSocket handshake headers and
      ``Authorization`` for OCPP Basic auth (a policy cannot list ``Authorization``);
    - the ``charger_path.js`` CloudFront Function on viewer request;
    - HTTPS only towards chargers.

    Context: ``domain_name`` + ``certificate_arn`` (ACM, us-east-1) for a custom domain,
    which also enforces TLS 1.2 (the default ``*.cloudfront.net`` certificate cannot);
    ``web_acl_arn`` to attach a WAF web ACL (scope CLOUDFRONT).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        origin_domain: str,
        origin_verify: OriginVerifySecret,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = cloudfront.Function(
            self,
            "ChargerPath",
            code=cloudfront.FunctionCode.from_inline(charger_path_source()),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="csms: /ocpp/{chargePointId} -> header, URI /",
        )
        origin = origins.HttpOrigin(
            origin_domain,
            origin_path=f"/{config.stage}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers={names.ORIGIN_VERIFY_HEADER_NAME: origin_verify.value},
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
            if config.certificate_arn
            else None
        )
        self.custom_domain = config.domain_name or None
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"csms {config.stage}: charger WebSocket front door",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            domain_names=[config.domain_name] if config.domain_name else None,
            certificate=certificate,
            # Only a custom certificate can raise the viewer TLS floor.
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
            web_acl_id=config.web_acl_arn or None,
        )

        self._acknowledge(config)

    def _acknowledge(self, config: StageConfig) -> None:
        nag.acknowledge(
            self.distribution,
            "CFR1",
            "Chargers are installed worldwide; access is controlled by OCPP Basic auth, not geography.",
        )
        if not config.web_acl_arn:
            nag.acknowledge(
                self.distribution,
                "CFR2",
                "Optional (web_acl_arn context): WebSocket frames bypass WAF after the handshake and "
                "the handshake is already authenticated in $connect.",
            )
        nag.acknowledge(
            self.distribution,
            "CFR3",
            "Every handshake is in the API Gateway access log and the $connect function's log; "
            "CloudFront logs would duplicate them.",
        )
        if not config.certificate_arn:
            nag.acknowledge(
                self.distribution,
                "CFR4",
                "The default *.cloudfront.net certificate cannot raise the TLS floor; set "
                "domain_name + certificate_arn to enforce TLS 1.2 (TLSv1.2_2021).",
            )

    @property
    def host(self) -> str:
        """The host chargers connect to: the custom domain, else the distribution's domain."""
        return self.custom_domain or self.distribution.distribution_domain_name
