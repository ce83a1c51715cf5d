"""What a review looks like in Slack (Block Kit): the packet with Approve and Reject buttons
while it is open, and the same packet saying how and by whom once it resolved.

Built from the packet reviewers see on the page: the proposal as recorded (masked by the
pack), the rules' reasons, the queue and the due time. Everything the agent wrote is shown
as the agent's: in code spans and a code block, escaped (no mentions, no links), on the lines
it fits, long values shortened with a mark that says how much was left out
(`reviews/agent_text.py`), so nothing the agent writes can pass for the gate's own header,
lines or buttons; the message links to the full packet on the review page."""

from __future__ import annotations

from typing import Any

from service.reviews.agent_text import one_line, shortened, visible
from service.reviews.models import IncidentCause, ReviewPacket, ReviewState

APPROVE = "sluicegate_approve"
REJECT = "sluicegate_reject"
REJECT_NOTE = "sluicegate_reject_note"
NOTE_BLOCK = "note"
NOTE_INPUT = "note_input"
CAUSE_BLOCK = "cause"
CAUSE_INPUT = "cause_input"
_MAX_CHANGES = 20
_CELL = 30  # characters of a change's cell
_JUSTIFICATION = 600  # characters of the justification shown in the message
_VALUE = 80  # characters of a value in a line (the action type, the target, ...)
_REASON = 300  # characters of a reason's message
# What a backtick in agent text is shown as: one would close the code span or block.
_BACKTICK = "\u02cb"  # MODIFIER LETTER GRAVE ACCENT


def escaped(text: object) -> str:
    """Slack's mrkdwn escaping: &, < and > (mentions and links need them)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def agent_span(value: object, limit: int = _VALUE) -> str:
    """An agent's value as an inline code span on one line: no formatting, mention or link
    can come out of it, and a backtick cannot close it."""
    return "`" + escaped(one_line(value, limit)).replace("`", _BACKTICK) + "`"


def agent_block(text: object, limit: int) -> str:
    """An agent's text of several lines as a code block, whose lines stay inside it."""
    shown = shortened(visible(text, keep_lines=True), limit)
    return "```" + escaped(shown).replace("`", _BACKTICK) + "```"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _action_line(packet: ReviewPacket) -> str:
    action = packet.proposal.get("action", {})
    parts = [f"*Action* {agent_span(action.get('type', packet.action_type))}"]
    if action.get("target"):
        parts.append(f"on {agent_span(action['target'])}")
    parts.append(f"in {agent_span(action.get('environment', '?'))}")
    amount = action.get("amount")
    if isinstance(amount, dict):
        value, currency = amount.get("value"), amount.get("currency")
        parts.append(f"for {agent_span(f'{value} {currency}')}")
    return " ".join(parts)


def _changes_table(changes: list[dict[str, Any]]) -> str | None:
    """The changes as a fixed-width table: record, field, from, to."""
    if not changes:
        return None
    rows = [("record", "field", "from", "to")] + [
        tuple(one_line(c.get(key), _CELL) for key in ("record", "field", "from", "to"))
        for c in changes[:_MAX_CHANGES]
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    more = len(changes) - _MAX_CHANGES
    if more > 0:
        lines.append(f"… and {more} more on the review page")
    return "```" + escaped("\n".join(lines)).replace("`", _BACKTICK) + "```"


def _packet_blocks(packet: ReviewPacket, packet_url: str | None) -> list[dict[str, Any]]:
    proposal = packet.proposal
    blocks = [
        _section(
            f"{_action_line(packet)}\nRisk tier {packet.risk_tier}, queue *{escaped(packet.queue)}*"
        )
    ]
    if proposal.get("justification"):
        said = agent_block(proposal["justification"], _JUSTIFICATION)
        blocks.append(_section(f"*The agent's justification*\n{said}"))
    table = _changes_table(proposal.get("changes") or [])
    if table:
        blocks.append(_section(f"*The agent's changes*\n{table}"))
    reasons = "\n".join(
        f"• {agent_span(r.rule)} ({r.outcome.value}): {agent_span(r.message, _REASON)}"
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
                    f"decision `{packet.decision_id}` · {_full_packet(packet, packet_url)}",
                }
            ],
        }
    )
    return blocks


def _full_packet(packet: ReviewPacket, packet_url: str | None) -> str:
    """Where the whole packet is: a link to its review page, or the page's path when the
    gateway's public address is not configured (SLUICEGATE_PUBLIC_URL)."""
    if packet_url is None:
        return f"the full packet: `/ui/reviews/{packet.id}`"
    return f"<{packet_url}|the full packet on the review page>"


def open_message(
    packet: ReviewPacket, packet_url: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The message for an open review: its text (for notifications) and its blocks."""
    text = f"Review needed: {escaped(one_line(packet.action_type, _VALUE))} ({packet.queue})"
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
    return text, [*_packet_blocks(packet, packet_url), buttons]


def resolution_line(packet: ReviewPacket, resolver: str | None) -> str:
    """How the review resolved and by whom, in one line."""
    if packet.state is ReviewState.APPROVED:
        names = ", ".join(escaped(a.name) for a in packet.approvals) or escaped(resolver)
        line = f":white_check_mark: *Approved* by {names}"
    elif packet.state is ReviewState.REJECTED:
        line = f":no_entry: *Rejected* by {escaped(resolver or 'a reviewer')}"
    elif packet.state is ReviewState.EXPIRED:
        line = f":hourglass: *Expired*: nobody decided by {packet.due_at.isoformat()}"
    elif packet.state is ReviewState.WITHDRAWN:
        line = ":leftwards_arrow_with_hook: *Withdrawn* by the agent before anyone decided"
    else:
        line = f"*{packet.state.value.capitalize()}*"
    if packet.note:
        line += f"\n> {escaped(one_line(packet.note, _JUSTIFICATION))}"
    return line


def closed_message(
    packet: ReviewPacket, resolver: str | None, packet_url: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The message once the review resolved: the packet, how, and by whom; no buttons."""
    line = resolution_line(packet, resolver)
    text = f"{escaped(one_line(packet.action_type, _VALUE))}: {packet.state.value}"
    return text, [*_packet_blocks(packet, packet_url), _section(line)]


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
