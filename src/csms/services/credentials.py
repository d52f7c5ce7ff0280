"""Rotating a station's Basic-auth password with the rotate-password command, in both protocols
(2.0.1 SetVariables SecurityCtrlr.BasicAuthPassword, 1.6 ChangeConfiguration AuthorizationKey).

The new password is write-only. It is hashed (the station's admission checks the hash) and,
because the CALL must carry it, encrypted with the command-secrets key (AWS KMS) into
``command_secrets`` until the command ends; the command row, its response, the device model,
the idempotency records, the logs and the events only ever see :data:`REDACTED`. The frame is
built with the plaintext at the moment it is sent (:meth:`CredentialService.reveal`).

The stored hash changes only when the station accepts; the station is never locked out (see
csms.domain.credentials for the states).
"""

from __future__ import annotations

import re
from typing import Any, Final

from csms.domain.commands import Command, CommandStatus
from csms.domain.credentials import CommandSecrets, CredentialStore, SecretCipher
from csms.errors import Conflict, InvalidInput
from csms.security import hash_password

#: What commands store and show where the payload carries the new password.
REDACTED: Final = "(write-only)"
#: 16 to 40 of 2.0.1's identifierString characters (the API checks it too).
PASSWORD: Final = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{16,40}")


class CredentialService:
    def __init__(self, store: CredentialStore, secrets: CommandSecrets, cipher: SecretCipher) -> None:
        self._store = store
        self._secrets = secrets
        self._cipher = cipher

    def prepare(self, command: Command) -> dict[str, Any]:
        """rotate-password's prepare hook: admit the new password beside the current one and
        keep it, encrypted, for delivery. The stored request keeps only its length (1.6 takes
        16 to 20 characters)."""
        password = command.request.get("password")
        if not isinstance(password, str) or not PASSWORD.fullmatch(password):
            raise InvalidInput("password: 16 to 40 of A-Z a-z 0-9 * - _ = : + | @ .")
        if not self._store.begin(
            command.tenant_id, command.charge_point_id, command.id, hash_password(password)
        ):
            raise Conflict(
                f"station {command.charge_point_id!r} has no password to rotate, or a rotation is in flight "
                "or unconfirmed (it ends when the station answers, or connects with one of the two)"
            )
        try:
            self._secrets.put(command.id, self._cipher.encrypt(password, _context(command)))
        except Exception:
            self._store.forget(command.id)
            raise
        return {"passwordLength": len(password)}

    def reveal(self, command: Command) -> str:
        """The new password, for the frame about to be sent."""
        ciphertext = self._secrets.get(command.id)
        if ciphertext is None:
            raise InvalidInput("the new password is no longer kept")
        return self._cipher.decrypt(ciphertext, _context(command))

    def answered(self, command: Command, accepted: bool) -> None:
        """The station accepted the new password (it becomes the station's; the old one is
        admitted until the station connects with the new one) or refused it (forgotten)."""
        if accepted:
            self._store.accepted(command.id)
        else:
            self._store.forget(command.id)
        self._secrets.delete(command.id)

    def failed(self, command: Command) -> None:
        """The command ended without an answer. Timed out: the station may have applied it,
        so both passwords stay admitted until it connects with one. Otherwise (CALLERROR,
        offline, not sendable) the new one is forgotten."""
        if command.status is CommandStatus.TIMED_OUT:
            self._store.unconfirmed(command.id)
        else:
            self._store.forget(command.id)
        self._secrets.delete(command.id)


def _context(command: Command) -> dict[str, str]:
    return {"commandId": command.id, "stationId": command.charge_point_id}
