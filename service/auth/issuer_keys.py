"""An issuer's signing keys: found from its discovery document (OpenID Connect discovery, or
RFC 8414 authorization-server metadata), fetched again when a token names a key the set does
not hold (a rotation), at most every MIN_REFRESH_SECONDS, and at the latest every
MAX_AGE_SECONDS."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.jwk import KeySet

from service.errors import IdentityProviderUnavailable

MIN_REFRESH_SECONDS = 30.0
MAX_AGE_SECONDS = 3600.0
_TIMEOUT_SECONDS = 5.0


def discovery_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata is: OpenID discovery, then RFC 8414 (the well-known segment
    inserted before the issuer's path)."""
    parts = urlsplit(issuer.rstrip("/"))
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path
    return [
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        f"{origin}/.well-known/oauth-authorization-server{path}",
    ]


class IssuerKeys:
    """The keys of one issuer, cached."""

    def __init__(
        self,
        issuer: str,
        *,
        http: httpx.Client,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._document: dict[str, Any] | None = None
        self._fetched_at = float("-inf")

    def key_set(self, kid: str | None) -> KeySet | None:
        """The set holding `kid`, fetched again when it lacks it (and enough time passed);
        None when the issuer does not publish that key."""
        with self._lock:
            age = self._clock() - self._fetched_at
            stale = self._keys is None or age > MAX_AGE_SECONDS
            missing = self._keys is not None and not _holds(self._keys, kid)
            if stale or (missing and age > MIN_REFRESH_SECONDS):
                self._keys = KeySet.import_key_set(self._fetch_jwks())
                self._fetched_at = self._clock()
            assert self._keys is not None
            return self._keys if _holds(self._keys, kid) else None

    def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document (endpoints, jwks_uri), read once."""
        with self._lock:
            if self._document is None:
                self._document = self._metadata()
            return self._document

    def _fetch_jwks(self) -> Any:
        metadata = self._document or self._metadata()
        self._document = metadata
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise IdentityProviderUnavailable(f"{self.issuer} publishes no jwks_uri")
        return self._get(jwks_uri)

    def _metadata(self) -> dict[str, Any]:
        for url in discovery_urls(self.issuer):
            try:
                found = self._get(url)
            except IdentityProviderUnavailable:
                continue
            if isinstance(found, dict) and found.get("issuer") == self.issuer:
                return found
        raise IdentityProviderUnavailable(f"no metadata for the issuer {self.issuer}")

    def _get(self, url: str) -> Any:
        try:
            answer = self._http.get(url, timeout=_TIMEOUT_SECONDS)
            answer.raise_for_status()
            return answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityProviderUnavailable(
                f"{url} cannot be read ({type(exc).__name__})"
            ) from exc


def _holds(keys: KeySet, kid: str | None) -> bool:
    return any(key.kid == kid for key in keys.keys)
