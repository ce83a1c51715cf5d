"""The gate's public keys: given, or fetched from `/.well-known/jwks.json` and cached."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

from joserfc.jwk import KeySet

# url -> the JWKS document.
Fetch = Callable[[str], dict[str, Any]]


class JwksSource(Protocol):
    """Where the verifier finds the gate's keys."""

    def key_set(self, *, refresh: bool = False) -> KeySet:
        """The keys; `refresh` asks for a fresh copy (a `kid` was not found)."""
        ...


class StaticJwks:
    """Keys given once (from configuration)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._keys = _key_set(document)

    def key_set(self, *, refresh: bool = False) -> KeySet:
        return self._keys


def fetch_json(url: str) -> dict[str, Any]:
    """GET a JSON document (https, or http on a trusted network)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("the JWKS URL must be http(s)")
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (scheme checked above)
        document: dict[str, Any] = json.load(answer)
        return document


class RemoteJwks:
    """Keys fetched from the gate and cached for `ttl_seconds`; an unknown `kid` refetches
    at most once every `min_refresh_seconds` (a rotation is seen at once, a flood of forged
    kids does not become a flood of requests)."""

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float = 300,
        min_refresh_seconds: float = 10,
        fetch: Fetch = fetch_json,
    ) -> None:
        self._url = url
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._fetch = fetch
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    def key_set(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = self._keys is None or age > self._ttl
            if stale or (refresh and age > self._min_refresh):
                self._keys = _key_set(self._fetch(self._url))
                self._fetched_at = time.monotonic()
            assert self._keys is not None
            return self._keys


def _key_set(document: dict[str, Any]) -> KeySet:
    """The keys of a JWKS document; an empty set when it has none."""
    if not document.get("keys"):
        return KeySet([])
    return KeySet.import_key_set(document)  # type: ignore[arg-type]
