"""A real OpenID provider for the identity tests: panva's `oidc-provider` (OpenID Certified),
installed by npm from tests/identity/provider's lockfile and started on loopback by node."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.node import node_with_packages

PROVIDER = Path(__file__).parent / "provider"


@dataclass(frozen=True)
class OpenIdProvider:
    """A running provider: its issuer URL."""

    issuer: str

    def client_token(self, client: str, secret: str, *, resource: str, scope: str) -> str:
        """An access token by client credentials, for `resource` (RFC 8707)."""
        answer = httpx.post(
            f"{self.issuer}/token",
            auth=(client, secret),
            data={"grant_type": "client_credentials", "resource": resource, "scope": scope},
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


@contextmanager
def openid_provider(config: dict[str, Any], folder: Path) -> Iterator[OpenIdProvider]:
    """The provider with these clients and accounts, until the block ends."""
    node = node_with_packages(PROVIDER, "oidc-provider")
    path = folder / "provider.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    process = subprocess.Popen(
        [node, str(PROVIDER / "provider.mjs"), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first:
            raise AssertionError("the OpenID provider did not start")
        yield OpenIdProvider(issuer=json.loads(first)["issuer"])
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
