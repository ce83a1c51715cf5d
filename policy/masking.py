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
    """The document without the masked values, and the pointers actually erased. The document
    is left as it is: containers on an erased path are copied, everything else is shared."""
    masked: Any = document
    erased: list[str] = []
    for pointer in pointers:
        masked = _without(masked, pointer_tokens(pointer), "", erased)
    return masked, sorted(set(erased))


def _without(node: Any, tokens: list[str], at: str, erased: list[str]) -> Any:
    """The node without the values `tokens` reach: itself when nothing is erased, else a
    shallow copy with the erased fields removed (objects) or set to null (arrays)."""
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
        return node
    copied: Any = None
    for key in keys:
        path = f"{at}/{_escape(str(key))}"
        if rest:
            child = _without(node[key], rest, path, erased)
            if child is node[key]:
                continue
            copied = copied if copied is not None else copy.copy(node)
            copied[key] = child
            continue
        copied = copied if copied is not None else copy.copy(node)
        if isinstance(copied, dict):
            del copied[key]
        else:
            copied[key] = None
        erased.append(path)
    return node if copied is None else copied
