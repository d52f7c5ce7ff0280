"""Command secrets encrypted with AWS KMS (csms.domain.credentials.SecretCipher): the key never
leaves KMS, every use is in CloudTrail, and the encryption context binds a ciphertext to its
command. Locally, moto's KMS plays the part."""

from __future__ import annotations

from typing import Any


class KmsCipher:
    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        blob = self._client.encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=context
        )["CiphertextBlob"]
        return bytes(blob)

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str:
        plaintext = self._client.decrypt(
            KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=context
        )["Plaintext"]
        return bytes(plaintext).decode()
