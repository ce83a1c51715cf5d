"""What a review looks like in Slack (Block Kit): the packet with Approve and Reject buttons
while it is open, and the same packet saying how and by whom once it resolved.

Built from the packet reviewers see on the page: the proposal as recorded (masked by the
pack), the rules' reasons, the queue and the due time. Text from the proposal is escaped, so
an agent cannot make Slack mention people or open links."""

from __future__ import annotations

from typing import Any

from service.reviews.models import IncidentCause, ReviewPacket, ReviewState

APPROVE = "sluicegate_approve"
REJECT = "sluicegate_reject"
REJECT_NOTE = "sluicegate_reject_note"
NOTE_BLOCK = "note"
NOTE_INPUT = "note_input"
CAUSE_BLOCK = "cause"
CAUSE_INPUT = "cause_input"
_MAX_CHANGES = 20


def escaped(text: object) -> str:
    """Slack's mrkdwn escaping: &, < and > (mentions and links need them)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _action_line(packet: ReviewPacket) -> str:
    action = packet.proposal.get("action", {})
    parts = [f"*{escaped(action.get('type', packet.action_type))}*"]
    if action.get("target"):
        parts.append(f"on `{escaped(action['target'])}`")
    parts.append(f"in {escaped(action.get('environment', '?'))}")
    amount = action.get("amount")
    if isinstance(amount, dict):
        parts.append(f"for {escaped(amount.get('value'))} {escaped(amount.get('currency'))}")
    return " ".join(parts)


def _changes_table(changes: list[dict[str, Any]]) -> str | None:
    """The changes as a fixed-width table: record, field, from, to."""
    if not changes:
        return None
    rows = [("record", "field", "from", "to")] + [
        (str(c.get("record")), str(c.get("field")), str(c.get("from")), str(c.get("to")))
        for c in changes[:_MAX_CHANGES]
    ]
    widths = [min(30, max(len(row[i]) for row in rows)) for i in range(4)]
    lines = ["  ".join(cell[:30].ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    more = len(changes) - _MAX_CHANGES
    if more > 0:
        lines.append(f"… and {more} more")
    return "```" + escaped("\n".join(lines)) + "```"


def _packet_blocks(packet: ReviewPacket) -> list[dict[str, Any]]:
    proposal = packet.proposal
    blocks = [
        _section(
            f"{_action_line(packet)}\nRisk tier {packet.risk_tier}, queue *{escaped(packet.queue)}*"
        )
    ]
    if proposal.get("justification"):
        blocks.append(_section(f"> {escaped(proposal['justification'])}"))
    table = _changes_table(proposal.get("changes") or [])
    if table:
        blocks.append(_section(table))
    reasons = "\n".join(
        f"• `{escaped(r.rule)}` ({r.outcome.value}): {escaped(r.message)}"
        for r in packet.decision.reasons
    )
    if reasons:
        blocks.append(_section(f"*Why it is here*\n{reasons}"))
    approvals = f"{len(packet.approvals)} of {packet.approvals_required} approvals"
    due = int(packet.due_at.timestamp())
    fallback = packet.due_at.isoformat()
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Due <!date^{due}^{{date_short_pretty}} {{time}}|{fallback}> "
                    f"(then: {escaped(packet.on_timeout)}) · {approvals} · "
                    f"decision `{packet.decision_id}`",
                }
            ],
        }
    )
    return blocks


def open_message(packet: ReviewPacket) -> tuple[str, list[dict[str, Any]]]:
    """The message for an open review: its text (for notifications) and its blocks."""
    text = f"Review needed: {packet.action_type} ({packet.queue})"
    buttons = {
        "type": "actions",
        "block_id": f"review:{packet.id}",
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": packet.id,
            },
            {
                "type": "button",
                "action_id": REJECT,
                "style": "danger",
                "text": {"type": "plain_text", "text": "Reject"},
                "value": packet.id,
            },
        ],
    }
    return text, [*_packet_blocks(packet), buttons]


def resolution_line(packet: ReviewPacket, resolver: str | None) -> str:
    """How the review resolved and by whom, in one line."""
    if packet.state is ReviewState.APPROVED:
        names = ", ".join(escaped(a.name) for a in packet.approvals) or escaped(resolver)
        line = f":white_check_mark: *Approved* by {names}"
    elif packet.state is ReviewState.REJECTED:
        line = f":no_entry: *Rejected* by {escaped(resolver or 'a reviewer')}"
    elif packet.state is ReviewState.EXPIRED:
        line = f":hourglass: *Expired*: nobody decided by {packet.due_at.isoformat()}"
    else:
        line = f"*{packet.state.value.capitalize()}*"
    if packet.note:
        line += f"\n> {escaped(packet.note)}"
    return line


def closed_message(packet: ReviewPacket, resolver: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The message once the review resolved: the packet, how, and by whom; no buttons."""
    line = resolution_line(packet, resolver)
    text = f"{packet.action_type}: {packet.state.value}"
    return text, [*_packet_blocks(packet), _section(line)]


def reject_modal(review_id: str, channel: str, ts: str) -> dict[str, Any]:
    """The modal that asks for the note a rejection needs."""
    return {
        "type": "modal",
        "callback_id": REJECT_NOTE,
        "private_metadata": f"{review_id}|{channel}|{ts}",
        "title": {"type": "plain_text", "text": "Reject"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "label": {"type": "plain_text", "text": "Why? The agent and the log see this."},
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_INPUT,
                    "multiline": True,
                    "min_length": 1,
                    "max_length": 2000,
                },
            },
            {
                "type": "input",
                "block_id": CAUSE_BLOCK,
                "label": {"type": "plain_text", "text": "Cause"},
                "element": {
                    "type": "static_select",
                    "action_id": CAUSE_INPUT,
                    "initial_option": _option(IncidentCause.OTHER),
                    "options": [_option(cause) for cause in IncidentCause],
                },
            },
        ],
    }


def _option(cause: IncidentCause) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": cause.label}, "value": cause.value}
