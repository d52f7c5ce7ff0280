"""Station credentials: rotating the password a station presents in HTTP Basic auth (security
profiles 1 and 2) without ever locking it out, and keeping the new password secret on its way.

While a rotation is in flight both the old and the new password are admitted; once the station
accepts, the new one is its password and the old one is admitted only until the station first
connects with the new one (OCPP 2.0.1 TC_A_09); a refusal or a failure forgets the new one. A
rotation whose answer never came (timed out) keeps both until the station shows which one it
holds by connecting with it. The rules are :mod:`csms.services.credentials`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class PasswordUsed(StrEnum):
    """Which of a station's passwords a connection presented."""

    CURRENT = "current"
    #: The new one of a rotation in flight (or unconfirmed).
    PENDING = "pending"
    #: The one a rotation the station accepted replaced.
    PREVIOUS = "previous"


class Rotation(StrEnum):
    """Where a password rotation stands (``charge_points.password_rotation``)."""

    #: Submitted, not answered yet: both passwords admitted.
    IN_FLIGHT = "in_flight"
    #: No answer came: the station may hold either; both admitted until it connects with one.
    UNCONFIRMED = "unconfirmed"


class CredentialStore(Protocol):
    def begin(self, tenant_id: str, charge_point_id: str, command_id: str, new_hash: str) -> bool:
        """Start a rotation: the new password's hash is admitted beside the current one. False if
        the station has no password or a rotation is in flight or unconfirmed."""
        ...

    def accepted(self, command_id: str) -> bool:
        """The station accepted the rotation ``command_id``: its new password becomes the
        station's, the old one is kept as the previous one."""
        ...

    def unconfirmed(self, command_id: str) -> None:
        """No answer came: keep both passwords until the station connects with one."""
        ...

    def forget(self, command_id: str) -> None:
        """The station refused, or the command failed: the new password is forgotten."""
        ...


class CommandSecrets(Protocol):
    """A command's secret, encrypted, from submit until the command ends."""

    def put(self, command_id: str, ciphertext: bytes) -> None: ...

    def get(self, command_id: str) -> bytes | None: ...

    def delete(self, command_id: str) -> None: ...


class SecretCipher(Protocol):
    """Encrypts with a key the CSMS never stores beside the data (AWS KMS)."""

    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        """``context`` is bound to the ciphertext: decrypting needs the same."""
        ...

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str: ...
