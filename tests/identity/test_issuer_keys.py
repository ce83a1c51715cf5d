"""An issuer's keys: found by discovery (OpenID first, then RFC 8414), cached, fetched again
when a token names a key the cache lacks (a rotation), at most every 30 s, and refused as
unavailable when the issuer cannot be read (fail closed)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from service.auth.issuer_keys import MIN_REFRESH_SECONDS, IssuerKeys, discovery_urls
from service.errors import IdentityProviderUnavailable

ISSUER = "https://login.example.com/realms/acme"


class Provider:
    """What the issuer serves, and how often each path was asked."""

    def __init__(self, *, openid: bool = True) -> None:
        self.keys = [ECKey.generate_key("P-256", parameters={"kid": "k1"})]
        self.openid = openid
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url.path)
        metadata = {"issuer": ISSUER, "jwks_uri": "https://login.example.com/jwks"}
        if request.url.path == "/realms/acme/.well-known/openid-configuration" and self.openid:
            return httpx.Response(200, json=metadata)
        if request.url.path == "/.well-known/oauth-authorization-server/realms/acme":
            return httpx.Response(200, json=metadata)
        if request.url.path == "/jwks":
            return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})
        return httpx.Response(404)


def _keys(provider: Any, clock: list[float]) -> IssuerKeys:
    http = httpx.Client(transport=httpx.MockTransport(provider))
    return IssuerKeys(ISSUER, http=http, clock=lambda: clock[0])


def test_a_rotated_key_is_fetched_again_but_not_more_often_than_allowed() -> None:
    provider, clock = Provider(), [1000.0]
    keys = _keys(provider, clock)
    assert keys.key_set("k1") is not None
    provider.keys.append(ECKey.generate_key("P-256", parameters={"kid": "k2"}))
    assert keys.key_set("k2") is None  # fetched moments ago: not again yet
    clock[0] += MIN_REFRESH_SECONDS + 1
    assert keys.key_set("k2") is not None  # the rotation is found
    assert provider.asked.count("/jwks") == 2
    assert keys.key_set("k1") is not None  # cached: no third fetch
    assert provider.asked.count("/jwks") == 2


def test_rfc_8414_metadata_when_there_is_no_openid_discovery() -> None:
    assert discovery_urls(ISSUER) == [
        f"{ISSUER}/.well-known/openid-configuration",
        "https://login.example.com/.well-known/oauth-authorization-server/realms/acme",
    ]
    provider = Provider(openid=False)
    assert _keys(provider, [0.0]).key_set("k1") is not None


def test_an_issuer_that_cannot_be_read_fails_closed() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(IdentityProviderUnavailable):
        _keys(down, [0.0]).key_set("k1")
