"""Failed station logins are limited per station id and per source address (issue 13, part 2),
and an unknown id cannot be told from a known one by status or timing."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import InvalidStatus

from csms.local.stack import LocalStack
from csms.services import admission
from tests.integration.api_client import ApiClient
from tests.integration.charger import open_socket

pytestmark = pytest.mark.integration
V1 = "/api/v1"
PASSWORD = "sixteen-or-more-chars"
WRONG = "not-the-password-at-all"


async def status_of(stack: LocalStack, station: str, password: str | None, **kwargs: object) -> int:
    try:
        socket = await open_socket(stack, station, password=password, **kwargs)  # type: ignore[arg-type]
    except InvalidStatus as refused:
        return refused.response.status_code
    await socket.close()
    return 101


async def test_a_station_id_is_locked_after_its_failures_and_unlocks_with_the_window(
    api: ApiClient, stack: LocalStack, reconfigure: object
) -> None:
    reconfigure(  # type: ignore[operator]
        CSMS_AUTH_FAILURES_PER_STATION="5",
        CSMS_AUTH_FAILURES_PER_ADDRESS="1000",
        CSMS_AUTH_FAILURE_WINDOW_SECONDS="10",
    )
    api.as_("acme", "admin").post(f"{V1}/stations", {"id": "CP-GUESS", "password": PASSWORD})
    # (windows are fixed, aligned on the clock: start at the beginning of one, so the guesses
    # all fall into it however slowly a loaded machine answers them)
    time.sleep(10 - time.time() % 10 + 0.1)
    # Given 5 wrong guesses, each refused as usual
    assert [await status_of(stack, "CP-GUESS", WRONG) for _ in range(5)] == [401] * 5
    # Then even the right password is refused (401, as a guess is) for the rest of the window
    assert await status_of(stack, "CP-GUESS", PASSWORD) == 401
    # while another station is not affected
    api.as_("acme", "admin").post(f"{V1}/stations", {"id": "CP-OTHER", "password": PASSWORD})
    assert await status_of(stack, "CP-OTHER", PASSWORD) == 101
    # and after the window the station gets in
    time.sleep(10 - time.time() % 10 + 0.2)
    assert await status_of(stack, "CP-GUESS", PASSWORD) == 101


async def test_an_address_is_locked_after_its_failures_whatever_viewer_address_it_claims(
    api: ApiClient, stack: LocalStack, reconfigure: object
) -> None:
    reconfigure(CSMS_AUTH_FAILURES_PER_STATION="1000", CSMS_AUTH_FAILURES_PER_ADDRESS="3")  # type: ignore[operator]
    api.as_("acme", "admin").post(f"{V1}/stations", {"id": "CP-REAL", "password": PASSWORD})
    # Given 3 failures on 3 ids, each claiming another CloudFront-Viewer-Address
    for i in range(3):
        forged = {"CloudFront-Viewer-Address": f"203.0.113.{i}:4000"}
        assert await status_of(stack, f"CP-NOPE-{i}", WRONG, headers=forged) == 401
    # Then this address (the real one, as the front door saw it) is locked out, for any id
    assert await status_of(stack, "CP-REAL", PASSWORD) == 401


async def test_unknown_and_known_ids_are_refused_alike(
    api: ApiClient, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.as_("acme", "admin").post(f"{V1}/stations", {"id": "CP-KNOWN", "password": PASSWORD})
    # What makes the time of a refusal is the scrypt verification (tens of ms; everything else
    # is a database read both paths make): count them instead of timing the handshakes, which
    # on a loaded machine would measure the machine (the handlers run in this process here).
    verified: list[str] = []
    real_verify = admission.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        verified.append(stored)
        return real_verify(password, stored)

    monkeypatch.setattr(admission, "verify_password", counting_verify)

    async def refusal(station: str, password: str | None) -> tuple[int, int]:
        before = len(verified)
        status = await status_of(stack, station, password)
        return status, len(verified) - before

    known = [await refusal("CP-KNOWN", WRONG) for _ in range(2)]
    unknown = [await refusal(f"CP-UNKNOWN-{i}", WRONG) for i in range(2)]
    no_credentials = [await refusal(f"CP-UNKNOWN-X{i}", None) for i in range(2)]
    known_without_credentials = [await refusal("CP-KNOWN", None)]
    # Every refusal: the same status, and exactly one scrypt verification (before: none for
    # an unknown id, 3 ms against 47 ms)
    assert set(known + unknown + no_credentials + known_without_credentials) == {(401, 1)}
