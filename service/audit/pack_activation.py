"""Recording which rule pack a gateway decides with: an audit event when the revision changes,
and the impact reports computed for candidate packs, which `rules activate` asks for."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from policy.rule_pack import RulePack
from service.audit.chain import record
from service.audit.tables import AUDIT_EVENTS
from service.store.database import writing
from service.store.utc import utc_now

KIND = "rule_pack_activated"
IMPACT_KIND = "rules_impact_computed"


def record_activation(
    database: Engine,
    pack: RulePack,
    *,
    rego_backend: str,
    impact: dict[str, Any] | None = None,
    forced: bool = False,
) -> bool:
    """Append a `rule_pack_activated` event unless the last one names this revision already;
    True when one was appended. `rules activate` adds the impact summary it checked (or
    `forced` when it was told to go without one)."""
    with writing(database) as connection:
        last = connection.execute(
            select(AUDIT_EVENTS.c.policy_revision)
            .where(AUDIT_EVENTS.c.kind == KIND)
            .order_by(AUDIT_EVENTS.c.seq.desc())
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
        if impact is not None or forced:
            pack_facts |= {"impact": impact, "forced": forced}
        body = {"subject": {"policy_revision": pack.revision}, "pack": pack_facts}
        record(connection, KIND, now=utc_now(), body=body)
    return True


def record_impact(database: Engine, summary: dict[str, Any]) -> None:
    """Append a `rules_impact_computed` event: which candidate was replayed against which
    active revision, over which window, and what it found."""
    with writing(database) as connection:
        body = {"subject": {"policy_revision": summary["candidate_revision"]}, "impact": summary}
        record(connection, IMPACT_KIND, now=utc_now(), body=body)


def recent_impact(
    database: Engine, *, candidate: str, active: str | None, now: datetime, within: timedelta
) -> dict[str, Any] | None:
    """The latest impact summary of `candidate` against the `active` revision, computed no
    longer than `within` ago; None when there is none."""
    with database.connect() as connection:
        rows = connection.execute(
            select(AUDIT_EVENTS.c.event, AUDIT_EVENTS.c.recorded_at)
            .where(AUDIT_EVENTS.c.kind == IMPACT_KIND, AUDIT_EVENTS.c.policy_revision == candidate)
            .order_by(AUDIT_EVENTS.c.seq.desc())
            .limit(20)
        ).all()
    for raw, recorded_at in rows:
        summary: dict[str, Any] = json.loads(raw)["impact"]
        if summary["active_revision"] == active and now - recorded_at <= within:
            return summary
    return None


def latest_impacts(database: Engine, limit: int) -> list[dict[str, Any]]:
    """The latest impact summaries recorded on the chain, newest first, each with the time
    it was computed (`computed_at`)."""
    with database.connect() as connection:
        rows = connection.execute(
            select(AUDIT_EVENTS.c.event, AUDIT_EVENTS.c.recorded_at)
            .where(AUDIT_EVENTS.c.kind == IMPACT_KIND)
            .order_by(AUDIT_EVENTS.c.seq.desc())
            .limit(limit)
        ).all()
    return [json.loads(raw)["impact"] | {"computed_at": at} for raw, at in rows]
