"""Check a Sluicegate permit: signed by the gate, for you, for exactly this action, once."""

from sluicegate_permit.digest import action_digest
from sluicegate_permit.errors import PermitError
from sluicegate_permit.jwks import RemoteJwks, StaticJwks
from sluicegate_permit.meta import PERMIT_META_KEY, permit_from_meta
from sluicegate_permit.replay import MemoryReplayCache, ReplayCache, SqliteReplayCache
from sluicegate_permit.verify import verify

__all__ = [
    "PERMIT_META_KEY",
    "MemoryReplayCache",
    "PermitError",
    "RemoteJwks",
    "ReplayCache",
    "SqliteReplayCache",
    "StaticJwks",
    "action_digest",
    "permit_from_meta",
    "verify",
]
