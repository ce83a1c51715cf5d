"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.schemathesis_hooks): each operation is called
with a key of the role that may use it, so the fuzzing reaches past authorization. The keys
come from SLUICEGATE_FUZZ_KEYS, a JSON object of role -> key."""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

# Path prefix -> the role whose key calls it; the first match wins.
_ROLE_BY_PREFIX = (
    ("/v1/reviews", "reviewer"),
    ("/v1/audit", "auditor"),
    ("/v1/work-items", "auditor"),
    ("/v1/analytics", "auditor"),
    ("/v1/bundles", "sidecar"),
    # No candidates folder is configured: impact and shadow answer 404 after their checks,
    # so fuzzing reaches them without replaying the log thousands of times.
    ("/v1/rules", "author"),
    ("/v1/", "agent"),
)


def key_for(path: str) -> str | None:
    """The key to call `path` with, if it needs one."""
    keys: dict[str, str] = json.loads(os.environ["SLUICEGATE_FUZZ_KEYS"])
    for prefix, role in _ROLE_BY_PREFIX:
        if path.startswith(prefix):
            return keys[role]
    return None


@schemathesis.auth(refresh_interval=None)
class RoleKeys:
    """The key of the role the operation is for."""

    def get(self, case: Any, context: Any) -> str | None:
        return key_for(case.operation.path)

    def set(self, case: Any, data: str | None, context: Any) -> None:
        if data is not None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
