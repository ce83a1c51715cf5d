"""Who may work a review: the queue's named reviewers, never the agent or its owner."""

from __future__ import annotations

from policy.pack_data import Queue
from service.auth.principals import Principal
from service.auth.roles import Role

GROUP_PREFIX = "group:"


def may_review(principal: Principal, queue: Queue | None) -> bool:
    """A reviewer named by the queue, directly or through a `group:` scope on their key."""
    if principal.role is not Role.REVIEWER or queue is None:
        return False
    for entry in queue.reviewers:
        if entry.startswith(GROUP_PREFIX):
            if entry in principal.scopes:
                return True
        elif entry == principal.name:
            return True
    return False


def may_read(principal: Principal, queue: Queue | None) -> bool:
    """Auditors read every review; reviewers read the queues they work."""
    return principal.role is Role.AUDITOR or may_review(principal, queue)


def four_eyes_violated(principal: Principal, *, agent_id: str, owner_id: str | None) -> bool:
    """The agent's own key, or its accountable owner, reviewing the agent's action."""
    return principal.id in {agent_id, owner_id}
