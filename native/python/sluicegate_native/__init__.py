"""Sluicegate's compiled core: Rego evaluated on Microsoft's regorus (see native/README.md)."""

from sluicegate_native._native import REGORUS_VERSION, CompiledRule, RegoError, compile

__all__ = ["REGORUS_VERSION", "CompiledRule", "RegoError", "compile"]
