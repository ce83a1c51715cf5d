"""Masking: JSON pointers into the proposal whose values must never be stored or exported.

Like OPA's `system.log.mask`, a pointer names a field to erase (`/labels/customer_email`;
an OPA-style `/input/...` prefix is accepted). Unlike it, a `*` segment matches every key of
an object or every item of an array (`/changes/*/to`), because proposals carry lists.
Erased object fields are removed; erased array items become null.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

WILDCARD = "*"


def pointer_tokens(pointer: str) -> list[str]:
    """The unescaped segments of a JSON pointer (RFC 6901); ValueError if it is malformed."""
    if not pointer.startswith("/") or pointer == "/":
        raise ValueError(f"a mask path is a JSON pointer like /labels/email, not {pointer!r}")
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
    return tokens[1:] if tokens[0] == "input" and len(tokens) > 1 else tokens


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def mask(document: dict[str, Any], pointers: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """A copy of the document without the masked values, and the pointers actually erased."""
    masked = copy.deepcopy(document)
    erased: list[str] = []
    for pointer in pointers:
        _erase(masked, pointer_tokens(pointer), "", erased)
    return masked, sorted(set(erased))


def _erase(node: Any, tokens: list[str], at: str, erased: list[str]) -> None:
    head, rest = tokens[0], tokens[1:]
    if isinstance(node, dict):
        keys: list[Any] = list(node) if head == WILDCARD else [head] if head in node else []
    elif isinstance(node, list):
        count = len(node)
        keys = (
            list(range(count))
            if head == WILDCARD
            else ([int(head)] if head.isdigit() and int(head) < count else [])
        )
    else:
        return
    for key in keys:
        path = f"{at}/{_escape(str(key))}"
        if rest:
            _erase(node[key], rest, path, erased)
        elif isinstance(node, dict):
            del node[key]
            erased.append(path)
        else:
            node[key] = None
            erased.append(path)
