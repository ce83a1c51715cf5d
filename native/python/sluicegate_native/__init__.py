"""Sluicegate's compiled core: Rego evaluated on Microsoft's regorus, and RFC 8785 canonical
JSON (docs/architecture.md)."""

from sluicegate_native._native import (
    REGORUS_VERSION,
    CanonicalizationError,
    CompiledRule,
    RegoError,
    canonical_json,
    compile,
)

__all__ = [
    "REGORUS_VERSION",
    "CanonicalizationError",
    "CompiledRule",
    "RegoError",
    "canonical_json",
    "compile",
]
