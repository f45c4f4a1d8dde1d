"""Secrets a salon gives us (its Telegram and MAX bot tokens), kept encrypted at rest.

Envelope encryption: each secret gets a fresh 256-bit data key (AES-GCM); the data key is wrapped by Cloud KMS
(`SECRETS_KMS_KEY`), so Firestore holds only ciphertext and a wrapped key, and reading a token needs the KMS
decrypt permission the functions that send hold (infra/modules/channels). The secret is bound to where it belongs
(`context`, say `telegram:962302`): a sealed token copied to another salon's document does not open. Locally,
where there is no KMS, the data key is wrapped with AES-GCM under `LOCAL_SECRET_KEY`, which a deployed
environment refuses."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from functools import lru_cache
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.api_core import exceptions as gexc

from aiadmin.core.errors import ConfigurationError
from aiadmin.core.models import Document
from aiadmin.core.settings import Settings, get_settings

log = logging.getLogger("aiadmin.secret_box")

KMS_TIMEOUT_S = 10.0


class SealedSecret(Document):
    key: str  # what wrapped the data key: a KMS key's resource name, or "local"
    wrapped_key: str  # base64
    nonce: str  # base64
    ciphertext: str  # base64, with AES-GCM's tag


class SecretUnreadable(Exception):
    """The sealed secret does not open: tampered, moved to another context, or sealed under another key."""


class KeyWrapper(Protocol):
    name: str

    def wrap(self, data_key: bytes, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...


class KmsWrapper:
    """Cloud KMS encrypt/decrypt of the data key, with the context as additional authenticated data."""

    def __init__(self, key_name: str):
        from google.cloud import kms

        self.name = key_name
        self.client = kms.KeyManagementServiceClient()

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        request = {"name": self.name, "plaintext": data_key, "additional_authenticated_data": context}
        return self.client.encrypt(request=request, timeout=KMS_TIMEOUT_S).ciphertext

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        request = {"name": self.name, "ciphertext": wrapped, "additional_authenticated_data": context}
        return self.client.decrypt(request=request, timeout=KMS_TIMEOUT_S).plaintext


class LocalWrapper:
    """A developer's machine: the data key wrapped under a key derived from LOCAL_SECRET_KEY."""

    name = "local"

    def __init__(self, secret: str):
        self._kek = AESGCM(hashlib.sha256(secret.encode()).digest())

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._kek.encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        return self._kek.decrypt(wrapped[:12], wrapped[12:], context)


@lru_cache(maxsize=1)
def wrapper() -> KeyWrapper:
    return _wrapper(get_settings())


def _wrapper(settings: Settings) -> KeyWrapper:
    if settings.secrets_kms_key:
        return KmsWrapper(settings.secrets_kms_key)
    local = settings.local_secret_key.get_secret_value() if settings.local_secret_key else ""
    if settings.env == "local" and local:
        return LocalWrapper(local)
    raise ConfigurationError("setting SECRETS_KMS_KEY is not configured: salons' bot tokens cannot be kept")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unwrap(box: KeyWrapper, wrapped: bytes, context: bytes) -> bytes:
    """KMS refusing the ciphertext (another context, a destroyed key version, a key we may not use) will refuse it
    again: that is unreadable, not a reason to retry. Its 5xx and timeouts propagate and are retried."""
    try:
        return box.unwrap(wrapped, context)
    except (gexc.InvalidArgument, gexc.FailedPrecondition, gexc.NotFound, gexc.PermissionDenied) as exc:
        raise SecretUnreadable(f"KMS refused to unwrap: {type(exc).__name__}") from exc


def seal(plaintext: str, context: str, box: KeyWrapper | None = None) -> SealedSecret:
    box = box or wrapper()
    data_key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext.encode(), context.encode())
    wrapped = box.wrap(data_key, context.encode())
    return SealedSecret(key=box.name, wrapped_key=_b64(wrapped), nonce=_b64(nonce), ciphertext=_b64(ciphertext))


def open_sealed(sealed: SealedSecret, context: str, box: KeyWrapper | None = None) -> str:
    box = box or wrapper()
    if sealed.key != box.name:
        raise SecretUnreadable(f"sealed under {sealed.key!r}, not the configured key")
    try:
        data_key = _unwrap(box, base64.b64decode(sealed.wrapped_key), context.encode())
        plain = AESGCM(data_key).decrypt(
            base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), context.encode()
        )
    except (InvalidTag, ValueError) as exc:
        raise SecretUnreadable("the sealed secret does not open in this context") from exc
    return plain.decode()
