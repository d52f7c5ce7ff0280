"""$connect: admit a charger (subprotocol, identity, Basic auth) and record its connection."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms.clock import Clock, SystemClock
from csms.constants import (
    CHARGE_POINT_ID_HEADER,
    ORIGIN_VERIFY_HEADER,
    SUPPORTED_SUBPROTOCOLS,
    VIEWER_ADDRESS_HEADER,
)
from csms.domain.connections import ConnectionRecord, ConnectionStore, FrameSender
from csms.domain.events import DomainEvent, new_event
from csms.observability import bind_invocation, reset_invocation
from csms.security import parse_basic_auth
from csms.services.admission import AdmissionService, choose_protocol
from csms.services.login_limits import Lockout, LoginLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectDeps:
    admission: AdmissionService
    connections: ConnectionStore
    sender: Callable[[dict[str, Any]], FrameSender]
    clock: Clock
    origin_verify_secret: str | None
    #: Records and publishes domain events (csms.app.wiring.emit).
    emit: Callable[[Sequence[DomainEvent]], object] = lambda events: None
    #: Failed handshakes per station id and address (None: unlimited, unit tests).
    limiter: LoginLimiter | None = None
    #: Counts a metric (csms.observability.add_count).
    count: Callable[[str, int], None] = lambda name, value: None


def default_deps() -> ConnectDeps:
    from csms.app import wiring
    from csms.observability import add_count

    return ConnectDeps(
        wiring.admission(),
        wiring.connections(),
        wiring.sender,
        SystemClock(),
        wiring.settings().origin_verify_secret,
        wiring.emit,
        wiring.login_limiter(),
        add_count,
    )


def client_address(headers: dict[str, str], request_context: dict[str, Any], front_door: bool) -> str | None:
    """The address the handshake came from: CloudFront's ``CloudFront-Viewer-Address`` when the
    request is known to have come through our distribution (``front_door``: it carried the
    origin secret, which only CloudFront adds, and the CloudFront Function drops any copy a
    client sent), else API Gateway's ``sourceIp`` (CloudFront's own address behind it)."""
    viewer = headers.get(VIEWER_ADDRESS_HEADER.lower()) if front_door else None
    if viewer:
        host = viewer.rsplit(":", 1)[0] if ":" in viewer else viewer
        return host.strip("[]") or None
    source = (request_context.get("identity") or {}).get("sourceIp")
    return str(source) if source else None


def offered_tokens(offered: str | None) -> set[str]:
    """The subprotocols in a comma-separated Sec-WebSocket-Protocol value."""
    return {token.strip() for token in (offered or "").split(",") if token.strip()}


def choose_subprotocol(offered: str | None) -> str | None:
    """Our best subprotocol among those the charger offered (comma separated), if any, before
    the station's own pin is known."""
    return choose_protocol(offered_tokens(offered))


def offered_subprotocols(event: dict[str, Any]) -> str | None:
    """Every Sec-WebSocket-Protocol value the charger sent, comma separated.

    The header may come as several lines, one list (RFC 6455 section 11.3.4); API Gateway
    keeps only one of them in ``headers`` and all of them in ``multiValueHeaders``.
    """
    wanted = "sec-websocket-protocol"
    values = [
        str(value)
        for name, listed in (event.get("multiValueHeaders") or {}).items()
        if str(name).lower() == wanted
        for value in listed or ()
    ]
    if values:
        return ", ".join(values)
    return next((str(v) for k, v in (event.get("headers") or {}).items() if str(k).lower() == wanted), None)


def _refuse(status: int, reason: str, **fields: Any) -> dict[str, Any]:
    log.warning("connection refused", extra={"status": status, "reason": reason, **fields})
    return {"statusCode": status}


def _locked(deps: ConnectDeps, charge_point_id: str, source_ip: str | None, now: datetime) -> Lockout | None:
    """The lockout of this id or address, if any; a limiter that fails lets the handshake on
    (the password is still checked: a DynamoDB outage must not lock every station out)."""
    if deps.limiter is None:
        return None
    try:
        return deps.limiter.locked(charge_point_id, source_ip, now)
    except Exception:
        log.exception("could not read the failed-login counters")
        return None


def _count_failure(deps: ConnectDeps, charge_point_id: str, source_ip: str | None, now: datetime) -> None:
    if deps.limiter is None:
        return
    try:
        lockout = deps.limiter.failed(charge_point_id, source_ip, now)
    except Exception:
        log.exception("could not count a failed login")
        return
    if lockout is not None:
        log.warning(
            "failed logins reached the limit: locked out until the window ends",
            extra={
                "by": lockout.by,
                "source_ip": source_ip,
                "retry_after_seconds": lockout.retry_after_seconds,
            },
        )


def handle(event: dict[str, Any], context: Any, deps: ConnectDeps | None = None) -> dict[str, Any]:
    """Answer the WebSocket handshake: 200 with the subprotocol, or a refusal status."""
    reset_invocation()
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    request_context = event.get("requestContext") or {}
    connection_id = str(request_context.get("connectionId") or "")
    source_ip = client_address(headers, request_context, front_door=False)
    charge_point_id = headers.get(CHARGE_POINT_ID_HEADER.lower(), "")
    bind_invocation(charge_point_id=charge_point_id or None, connection_id=connection_id)
    try:
        deps = deps or default_deps()
        secret = deps.origin_verify_secret
        if secret is not None and not hmac.compare_digest(
            headers.get(ORIGIN_VERIFY_HEADER.lower(), "").encode(errors="surrogatepass"), secret.encode()
        ):
            # Someone connected to the execute-api URL directly: the id header is not ours.
            return _refuse(403, "request did not come through the front door", source_ip=source_ip)
        source_ip = client_address(headers, request_context, front_door=secret is not None)
        if not connection_id:
            # Nothing to record the connection under; API Gateway always sends one.
            return _refuse(400, "no connection id in the event", source_ip=source_ip)
        if not charge_point_id:
            return _refuse(404, "no charge point id in the URL", source_ip=source_ip)
        offered = offered_subprotocols(event)
        # Nothing we speak offered: refused before the database is asked.
        if choose_subprotocol(offered) is None:
            return _refuse(
                400,
                "no supported subprotocol offered",
                offered=offered,
                supported=list(SUPPORTED_SUBPROTOCOLS),
            )
        credentials = parse_basic_auth(headers.get("authorization"))
        now = deps.clock.now()
        lockout = _locked(deps, charge_point_id, source_ip, now)
        if lockout is not None:
            deps.count("ChargerLoginsLockedOut", 1)
            # The same 401 as a wrong password: nothing tells a locked id from a guessed one.
            return _refuse(
                401,
                f"too many failed logins for this {lockout.by}",
                source_ip=source_ip,
                retry_after_seconds=lockout.retry_after_seconds,
            )
        admission = deps.admission.admit(charge_point_id, credentials, now, offered_tokens(offered))
        if admission.refusal is not None and admission.refusal.http_status == 401:
            deps.count("ChargerLoginFailures", 1)
            _count_failure(deps, charge_point_id, source_ip, now)
        if admission.refusal is not None:
            # Never log the secret itself: only whether one was presented and for whom.
            return _refuse(
                admission.refusal.http_status,
                admission.refusal.value,
                source_ip=source_ip,
                credentials_presented=credentials is not None,
                username_matches=credentials is not None
                and credentials.password_of(charge_point_id) is not None,
                offered=offered,
                pinned=admission.charge_point.ocpp_version if admission.charge_point else None,
            )
        charge_point = admission.charge_point
        protocol = admission.protocol
        assert charge_point is not None
        assert protocol is not None
        previous = deps.connections.register(
            ConnectionRecord(
                connection_id=connection_id,
                charge_point_id=charge_point_id,
                tenant_id=charge_point.tenant_id,
                protocol=protocol,
                connected_at=now,
                registration_status=charge_point.registration_status,
            )
        )
    except Exception:
        log.exception("connect failed")
        return {"statusCode": 500}
    if previous is not None:
        # OCPP allows one connection per charger; the old one is a zombie. Best effort.
        try:
            deps.sender(event).close(previous)
        except Exception:
            log.exception("could not close the superseded connection", extra={"previous": previous})
    deps.emit(
        [
            new_event(
                "ChargerConnected",
                charge_point.tenant_id,
                charge_point_id,
                now,
                {
                    "connectionId": connection_id,
                    "protocol": protocol,
                    "registrationStatus": charge_point.registration_status.value,
                    "replacedConnectionId": previous,
                },
                correlation_id=f"connection:{connection_id}",
            )
        ]
    )
    log.info(
        "charger connected",
        extra={
            "protocol": protocol,
            "tenant_id": charge_point.tenant_id,
            "replaced": previous,
            "source_ip": source_ip,
        },
    )
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": protocol}}
