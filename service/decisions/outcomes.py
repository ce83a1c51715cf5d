"""After the decision: the agent reports what it did, and the action gets its final status.

    allowed | sampled | approved (approval used) ──executed──▶ executed, or verified when the
                                                  ──failed────▶ failed    artifact meets the
    executed | verified ──rolled_back──▶ rolled_back                   definition of done

A report the status does not permit (an action that was denied, rejected, expired or is
still waiting; an approval not yet used; a second report of the same thing) is recorded as
an `outcome_violation` event and refused with 409: the log shows the attempt either way.

A `failed` or `rolled_back` report gives back what the action spent of its budgets, but
only once its permit can no longer be used: the agent's word alone never frees money while
a valid permit for the same action is still in its hands (`give_back_at`).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, update

from policy.decision import AuditRef
from policy.done import is_done, missing_for_done
from policy.rule_pack import RulePack
from service.audit.chain import record
from service.auth.principals import Principal
from service.decisions import budgets
from service.decisions.lookup import status_and_row, stored_permit
from service.decisions.status import GIVES_BACK, ActionStatus, DecisionStatus
from service.decisions.tables import DECISIONS
from service.errors import OutcomeNotPermitted
from service.permits.signer import PermitSigner, StoredPermit
from service.store.database import writing
from service.store.utc import utc_now


class Reported(StrEnum):
    """What an agent may report."""

    EXECUTED = "executed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class OutcomeReport(BaseModel):
    """The agent's report: what happened, and the artifact that shows it."""

    status: Reported
    artifact: Annotated[dict[str, Any], Field(max_length=64)] = {}
    note: Annotated[str, Field(max_length=4000)] | None = None
    # How long the agent computed for this action (its own time, not the gate's or a human's).
    duration_ms: Annotated[int, Field(ge=0, le=7 * 24 * 3600 * 1000)] | None = None


class OutcomeRecorded(BaseModel):
    """The action's status after the report, and why it is (or is not) verified."""

    decision_id: str
    status: ActionStatus
    missing_for_done: list[str]
    audit: AuditRef


_MAY_REPORT = {
    Reported.EXECUTED: {ActionStatus.ALLOWED, ActionStatus.SAMPLED, ActionStatus.APPROVED},
    Reported.FAILED: {ActionStatus.ALLOWED, ActionStatus.SAMPLED, ActionStatus.APPROVED},
    Reported.ROLLED_BACK: {ActionStatus.EXECUTED, ActionStatus.VERIFIED},
}


def report_outcome(
    database: Engine,
    pack: RulePack,
    agent: Principal,
    decision_id: str,
    report: OutcomeReport,
    *,
    permits: PermitSigner,
) -> OutcomeRecorded:
    """Record the agent's report on its own action, or record the attempt and refuse it."""
    now = utc_now()
    with writing(database) as connection:
        # Only the agent that proposed the action reports on it.
        current, row = status_and_row(
            connection, decision_id, lambda _, row: row.principal_id == agent.id
        )
        refusal = _refusal(current, report)
        action_type = str(row.action_type)
        if refusal is None:
            entry = pack.data.catalog.get(action_type)
            missing = missing_for_done(entry, report.artifact) if entry else []
            status = _resulting(report, entry is not None and is_done(entry, report.artifact))
            changed = connection.execute(
                update(DECISIONS)
                .where(
                    DECISIONS.c.decision_id == decision_id,
                    DECISIONS.c.lifecycle_version == row.lifecycle_version,
                )
                .values(
                    lifecycle_status=status.value,
                    lifecycle_at=now,
                    artifact=report.artifact,
                    lifecycle_version=row.lifecycle_version + 1,
                    **(
                        {"agent_duration_ms": report.duration_ms}
                        if report.duration_ms is not None
                        else {}
                    ),
                )
            ).rowcount
            if changed != 1:
                refusal = "another report on this action landed first"
            elif status in GIVES_BACK:
                at = give_back_at(current, stored_permit(row), permits, now)
                budgets.release(connection, decision_id, at)
        kind = "outcome_reported" if refusal is None else "outcome_violation"
        details: dict[str, Any] = {"reported": report.status.value, "was": current.status.value}
        if refusal is None:
            details |= {"status": status.value, "missing_for_done": missing}
            details |= {"artifact": report.artifact, "note": report.note}
            details |= {"duration_ms": report.duration_ms} if report.duration_ms is not None else {}
        else:
            details["refused"] = refusal
        body = _event_body(current=current, agent=agent, action_type=action_type, details=details)
        ref = record(connection, kind, now=now, decision_id=decision_id, body=body)
    if refusal is not None:
        raise OutcomeNotPermitted(f"{refusal} (recorded as seq {ref.seq})")
    return OutcomeRecorded(
        decision_id=decision_id, status=status, missing_for_done=missing, audit=ref
    )


def give_back_at(
    current: DecisionStatus, stored: StoredPermit | None, permits: PermitSigner, now: datetime
) -> datetime:
    """When a failed or rolled-back action's budget share comes back: when the last permit
    for it stops verifying (the decision's own, or the one its used approval got), or now
    when it never had one."""
    expiries = [stored.expires_at] if stored is not None else []
    if current.review is not None and current.review.used_at is not None:
        expiries.append(permits.expires_at(current.review.used_at))
    return max([now, *expiries])


def _refusal(current: DecisionStatus, report: OutcomeReport) -> str | None:
    if current.status not in _MAY_REPORT[report.status]:
        return f"an action that is {current.status.value} cannot be reported {report.status.value}"
    if current.status is ActionStatus.APPROVED and (
        current.review is None or current.review.used_at is None
    ):
        return "the approval was not used; POST /v1/decisions/{id}/proceed before acting"
    return None


def _resulting(report: OutcomeReport, done: bool) -> ActionStatus:
    if report.status is Reported.EXECUTED:
        return ActionStatus.VERIFIED if done else ActionStatus.EXECUTED
    return ActionStatus(report.status.value)


def _event_body(
    *,
    current: DecisionStatus,
    agent: Principal,
    action_type: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "subject": {
            "agent_id": agent.id,
            "action_type": action_type,
            "risk_tier": current.risk_tier,
            "policy_revision": current.policy.revision,
        },
        "actor": {"id": agent.id, "name": agent.name, "role": agent.role.value},
        "details": json.loads(json.dumps(details, default=str)),
    }
