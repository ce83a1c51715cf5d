"""The Ed25519 key that signs audit checkpoints: loaded from settings, or kept beside SQLite."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from service.settings import Settings


class SigningKeyMissing(RuntimeError):
    """No signing key is configured, and none can be kept beside the database."""


def key_id(public: Ed25519PublicKey) -> str:
    """A short name for a public key: the start of its raw bytes' SHA-256."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    """The public key as PEM, for auditors to verify checkpoints offline."""
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_pem(pem: str) -> Ed25519PublicKey:
    """A public key from PEM; ValueError if it is not an Ed25519 key."""
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def sign(private: Ed25519PrivateKey, message: bytes) -> str:
    """An Ed25519 signature, base64."""
    return base64.b64encode(private.sign(message)).decode()


def signature_valid(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    """Whether the base64 signature is the key's over the message."""
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The configured key (PEM in `SLUICEGATE_AUDIT_SIGNING_KEY`); on an embedded SQLite store
    without one, a key file beside the database, created once with mode 0600."""
    if settings.audit_signing_key is not None:
        key = load_pem_private_key(settings.audit_signing_key.get_secret_value().encode(), None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyMissing("SLUICEGATE_AUDIT_SIGNING_KEY is not an Ed25519 private key")
        return key
    database = settings.database_url.removeprefix("sqlite:///")
    if database == settings.database_url or not database or database == ":memory:":
        raise SigningKeyMissing(
            "set SLUICEGATE_AUDIT_SIGNING_KEY (an Ed25519 private key in PEM) to sign the audit "
            "chain's checkpoints; `sluicegate audit new-key` makes one"
        )
    path = Path(f"{database}.audit-key.pem")
    if not path.exists():
        pem = new_private_pem()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(pem)
    key = load_pem_private_key(path.read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def new_private_pem() -> str:
    """A fresh Ed25519 private key as unencrypted PKCS#8 PEM."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
