"""Recording which rule pack a gateway decides with: an audit event when the revision changes."""

from __future__ import annotations

from sqlalchemy import Engine, select

from policy.rule_pack import RulePack
from service.audit.chain import record
from service.store.database import writing
from service.store.tables import AuditEventRow
from service.store.utc import utc_now

_events = AuditEventRow.__table__  # type: ignore[attr-defined]
KIND = "rule_pack_activated"


def record_activation(database: Engine, pack: RulePack, *, rego_backend: str) -> bool:
    """Append a `rule_pack_activated` event unless the last one names this revision already;
    True when one was appended."""
    with writing(database) as connection:
        last = connection.execute(
            select(_events.c.policy_revision)
            .where(_events.c.kind == KIND)
            .order_by(_events.c.seq.desc())
            .limit(1)
        ).scalar()
        if last == pack.revision:
            return False
        pack_facts = {
            "revision": pack.revision,
            "previous": last,
            "engine": rego_backend,
            "path": str(pack.path),
        }
        body = {"subject": {"policy_revision": pack.revision}, "pack": pack_facts}
        record(connection, KIND, now=utc_now(), body=body)
    return True
