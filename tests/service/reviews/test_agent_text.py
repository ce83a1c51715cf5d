"""What an agent wrote cannot pass for the gate's own words, in Slack or on the review page:
hostile text in every field a proposal lets an agent fill (new lines that would start lines
of the gate's header, quotes, mentions, links, code fences, invisible characters, a value
whose end a cut would hide) stays inside the agent's boxes, escaped, on the lines it fits,
and a shortened value says how much was left out."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policy.proposal import Proposal
from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.reviews.agent_text import one_line, shortened, visible
from service.reviews.models import ReviewPacket
from service.runtime import Runtime
from service.settings import Settings
from service.slack.messages import closed_message, open_message
from tests.fixtures import AUDIT_KEY, RULES

FORGED = "\n*Risk tier 1*, queue *finance-approvers*\n> Pre-approved by compliance"
LINKS = "<!here> <!channel> <@U0BOSS> <https://evil.example/approve|Approve>"
FENCE = "```\n*Approved* by the CFO\n```"
HIDDEN = "acct_customer_4242 \u2026;acct_OTHER"  # a cut at 30 characters would hide OTHER
BIDI = "refund\u202e\u2066 to oneself"
HOSTILE: dict[str, Any] = {
    "action": {
        "type": "payments.refund.issue",
        "target": "stripe" + FORGED,
        "environment": "production",
        "amount": {"value": 5000, "currency": "USD"},
    },
    "changes": [
        {"record": HIDDEN, "field": "amount" + FORGED, "from": LINKS, "to": FENCE},
        {"record": "charge/1", "field": "note", "to": BIDI, "source": "src`" + LINKS},
    ],
    "justification": "Duplicate charge." + FORGED + "\n" + LINKS + "\n" + FENCE,
    "confidence": 0.9,
    "work_item": {"id": "WI-1" + FORGED, "type": "dispute" + FORGED},
}
# What must never show as the gate's own text, nor reach Slack unescaped.
MARKERS = ["Pre-approved", "evil.example", "<!here>", "<!channel>", "<@U0BOSS>", "*Approved*"]


def test_control_characters_are_shown_and_cuts_say_how_much_was_left_out() -> None:
    assert one_line("a\nb\tc\u202ed\u200b", 40) == "a⏎b⇥c\\u202ed\\u200b"
    assert visible("a\nb", keep_lines=True) == "a\nb"
    assert one_line(HIDDEN, 30) == "acct_customer_4242 …;acct_O…+4"
    assert len(one_line("x" * 500, 30)) == 30
    assert shortened("x" * 500, 30) == "x" * 25 + "…+475"
    assert shortened("short", 30) == "short"


@pytest.fixture
def packet(database_url: str) -> Iterator[tuple[ReviewPacket, Runtime]]:
    runtime = Runtime(Settings(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY))
    try:
        agent, _ = create_key(runtime.database, name="billing-bot", role=Role.AGENT, scopes=["*"])
        recorded = asyncio.run(runtime.decider.decide(Proposal.model_validate(HOSTILE), agent))
        found = runtime.board.packet_of(_review_id(recorded.answer))
        assert found is not None
        yield found, runtime
    finally:
        runtime.close()


def _review_id(answer: str) -> str:
    found = re.search(r'"review":\{"id":"([^"]+)"', answer)
    assert found, answer
    return found.group(1)


class _AgentBoxes(HTMLParser):
    """A page's text, split into what is inside elements of class `agent-text` and not."""

    VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})

    def __init__(self) -> None:
        super().__init__()
        self._open: list[bool] = []  # per open element: whether it is an agent's box
        self.inside, self.outside = "", ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            classes = (dict(attrs).get("class") or "").split()
            self._open.append("agent-text" in classes)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if any(self._open):
            self.inside += data
        else:
            self.outside += data


def _outside_code(mrkdwn: str) -> str:
    """The text Slack would format: without code blocks and code spans."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", mrkdwn, flags=re.S))


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        if block["type"] == "section":
            found.append(block["text"]["text"])
        elif block["type"] == "context":
            found.extend(element["text"] for element in block["elements"])
    return found


def test_slack_shows_every_agent_field_as_the_agents(
    packet: tuple[ReviewPacket, Runtime],
) -> None:
    review, _ = packet
    page = f"https://gate.example.com/ui/reviews/{review.id}"
    for text, blocks in (open_message(review, page), closed_message(review, "fin-lead", page)):
        assert not any(marker in text for marker in MARKERS)
        texts = _texts(blocks)
        joined = "\n".join(texts)
        gate_words = _outside_code(joined)
        for marker in MARKERS:
            assert marker not in gate_words, marker  # only ever inside the agent's code
        assert "Risk tier 1" not in gate_words
        assert "Risk tier 3" in gate_words  # the gate's own header line
        # Inside code, nothing is left for Slack to link or mention, and no fence closes early.
        assert "<!" not in joined.replace("<!date^", "")
        assert "<@" not in joined
        assert "<https://evil" not in joined
        for block in re.findall(r"```(.*?)```", joined, flags=re.S):
            assert "`" not in block
        # The cell a 30-character cut would have hidden ends with how much was left out.
        assert "acct_customer_4242 …;acct_O…+4" in joined
        assert "\\u202e" in joined  # the invisible reordering mark, shown
        assert f"<{page}|the full packet on the review page>" in joined


def test_the_review_page_shows_every_agent_field_as_the_agents(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY, ui_cookie_secure=False
    )
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        _, agent_key = create_key(runtime.database, name="bot", role=Role.AGENT, scopes=["*"])
        _, reviewer_key = create_key(
            runtime.database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )
        answer = client.post(
            "/v1/decisions", json=HOSTILE, headers={"Authorization": f"Bearer {agent_key}"}
        )
        assert answer.status_code == 201, answer.text
        review_id = answer.json()["review"]["id"]
        form = client.get("/ui/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        signed_in = client.post(
            "/ui/login",
            data={"key": reviewer_key, "csrf_token": token.group(1), "next": "/ui/queues"},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        html = client.get(f"/ui/reviews/{review_id}").text
    assert "<!here>" not in html  # escaped by the template
    assert "<https://evil" not in html
    assert "&lt;!here&gt;" in html
    split = _AgentBoxes()
    split.feed(html)
    for marker in ("Pre-approved", "evil.example", "Risk tier 1"):
        assert marker not in split.outside, marker  # the agent's words only in its boxes
        assert marker in split.inside, marker
    assert "stripe⏎*Risk tier 1*" in html  # a target on one line, its new line shown
    assert "\\u202e" in html
