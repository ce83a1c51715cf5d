"""Recording which rule pack a gateway decides with: an audit event when the revision changes."""

from __future__ import annotations

import uuid_utils
from sqlalchemy import Engine, select

from policy.rule_pack import RulePack
from service.audit_chain import ChainEvent, append
from service.audit_event import EVENT_VERSION
from service.store.database import writing
from service.store.tables import AuditEventRow
from service.store.utc import utc_now

_events = AuditEventRow.__table__  # type: ignore[attr-defined]
KIND = "rule_pack_activated"


def record_activation(engine: Engine, pack: RulePack, *, rego_engine: str) -> bool:
    """Append a `rule_pack_activated` event unless the last one names this revision already;
    True when one was appended."""
    with writing(engine) as connection:
        last = connection.execute(
            select(_events.c.policy_revision)
            .where(_events.c.kind == KIND)
            .order_by(_events.c.seq.desc())
            .limit(1)
        ).scalar()
        if last == pack.revision:
            return False
        now = utc_now()
        event_id = str(uuid_utils.uuid7())
        document = {
            "version": EVENT_VERSION,
            "kind": KIND,
            "event_id": event_id,
            "recorded_at": now.isoformat(),
            "subject": {"policy_revision": pack.revision},
            "pack": {
                "revision": pack.revision,
                "previous": last,
                "engine": rego_engine,
                "path": str(pack.path),
            },
        }
        append(connection, [ChainEvent(KIND, event_id, None, now, document)])
    return True
