"""The verifier on its own: replay caches in memory and in SQLite, the JWKS fetched and
cached with a TTL, a rotated key found by fetching again, and nothing of the gateway."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey
from sluicegate_permit import (
    PERMIT_META_KEY,
    MemoryReplayCache,
    PermitError,
    RemoteJwks,
    SqliteReplayCache,
    action_digest,
    permit_from_meta,
    verify,
)
from sluicegate_permit.algorithm import EDDSA_ONLY

ACTION = {"type": "payments.refund.issue", "target": "stripe", "amount": {"value": 10}}
CHANGES: list[Any] = []


def _key(kid: str) -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid})


def _permit(key: OKPKey, *, jti: str = "d1", ttl: int = 300) -> str:
    now = int(time.time())
    claims = {
        "iss": "sluicegate",
        "sub": "agent",
        "aud": "stripe",
        "jti": jti,
        "iat": now,
        "exp": now + ttl,
        "act": ACTION["type"],
        "dig": action_digest(ACTION, CHANGES),
        "rev": "r1",
    }
    return jwt.encode({"alg": "EdDSA", "kid": key.kid}, claims, key, registry=EDDSA_ONLY)


def _jwks(*keys: OKPKey) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


@pytest.mark.parametrize("make_cache", [MemoryReplayCache, "sqlite"])
def test_each_replay_cache_takes_a_permit_once(make_cache: Any, tmp_path: Path) -> None:
    cache = SqliteReplayCache(tmp_path / "seen.db") if make_cache == "sqlite" else make_cache()
    future = int(time.time()) + 60
    assert cache.first_use("a", future)
    assert not cache.first_use("a", future)
    assert cache.first_use("b", future)
    assert cache.first_use("old", int(time.time()) - 10)
    assert cache.first_use("old", future)  # expired entries are forgotten


def test_the_sqlite_cache_is_shared_by_processes_of_a_host(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    assert SqliteReplayCache(path).first_use("shared", int(time.time()) + 60)
    assert not SqliteReplayCache(path).first_use("shared", int(time.time()) + 60)


def test_the_jwks_is_cached_and_fetched_again_for_a_new_kid() -> None:
    old, new = _key("old"), _key("new")
    published = {"document": _jwks(old)}
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        fetched.append(url)
        return published["document"]

    jwks = RemoteJwks("https://gate/.well-known/jwks.json", fetch=fetch, min_refresh_seconds=0)
    arguments: dict[str, Any] = {"action": ACTION, "changes": CHANGES, "audience": "stripe"}
    verify(_permit(old, jti="1"), jwks=jwks, replay=MemoryReplayCache(), **arguments)
    verify(_permit(old, jti="2"), jwks=jwks, replay=MemoryReplayCache(), **arguments)
    assert len(fetched) == 1  # cached
    published["document"] = _jwks(new, old)  # the gate rotated
    verify(_permit(new, jti="3"), jwks=jwks, replay=MemoryReplayCache(), **arguments)
    assert len(fetched) == 2
    with pytest.raises(PermitError) as refused:
        verify(_permit(_key("forged"), jti="4"), jwks=jwks, replay=MemoryReplayCache(), **arguments)
    assert refused.value.reason == "unknown_key"


def test_garbage_is_a_bad_signature() -> None:
    with pytest.raises(PermitError) as refused:
        verify(
            "not.a.permit",
            action=ACTION,
            changes=CHANGES,
            audience="stripe",
            jwks=_jwks(_key("k")),
            replay=MemoryReplayCache(),
        )
    assert refused.value.reason == "bad_signature"


def test_the_verifier_loads_without_the_gateway() -> None:
    probe = (
        "import sys, sluicegate_permit; "
        "bad = [m for m in ('service', 'policy', 'fastapi', 'sqlalchemy', 'httpx') "
        "if m in sys.modules]; print(bad)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "[]"


def test_verifying_warns_of_nothing() -> None:
    """joserfc warns on every use of `alg` EdDSA; a target process must not see it."""
    key = _key("k")
    token = _permit(key)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # shown, whatever the host's filters say
        verify(
            token,
            action=ACTION,
            changes=CHANGES,
            audience="stripe",
            jwks=_jwks(key),
            replay=MemoryReplayCache(),
        )
    assert [str(w.message) for w in caught] == []


def test_importing_warns_of_nothing() -> None:
    probe = [sys.executable, "-W", "error", "-c", "import sluicegate_permit"]
    assert subprocess.run(probe, check=True, capture_output=True, text=True).stderr == ""


def test_the_permit_is_read_from_meta_in_each_shape_mcp_libraries_give() -> None:
    # mcp 2.x gives a dict; mcp 1.x and FastMCP 2.x a pydantic model whose undeclared keys
    # are extras (this model has the shape of mcp 1.x's `RequestParams.Meta`).
    from pydantic import BaseModel, ConfigDict, Field

    class Meta(BaseModel):
        model_config = ConfigDict(extra="allow", populate_by_name=True)
        progress_token: str | int | None = Field(default=None, alias="progressToken")

    as_model = Meta.model_validate({"progressToken": 1, PERMIT_META_KEY: "tok"})
    assert permit_from_meta({PERMIT_META_KEY: "tok"}) == "tok"
    assert permit_from_meta(as_model) == "tok"
    assert permit_from_meta(Meta()) is None
    assert permit_from_meta({}) is None
    assert permit_from_meta(None) is None
    assert permit_from_meta({PERMIT_META_KEY: 7}) is None  # not a token
