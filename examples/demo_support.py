"""What both agent examples share: their settings, the billing agent's three tools and the
proposal each tool's call becomes, the ledger of what the tools really did, the reviewer who
stands in for a person, and the check that decides their exit status.

Not part of the client: an agent never approves its own actions. The examples do it with a
reviewer's key (`SLUICEGATE_REVIEWER_KEY`) only so that they can run unattended.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class Demo:
    """The gateway to talk to and the two keys: the agent's and a reviewer's."""

    url: str
    agent_key: str
    reviewer_key: str

    @classmethod
    def from_environment(cls) -> Demo:
        """`SLUICEGATE_URL`, `SLUICEGATE_KEY` (an agent key), `SLUICEGATE_REVIEWER_KEY`."""
        missing = [
            name
            for name in ("SLUICEGATE_URL", "SLUICEGATE_KEY", "SLUICEGATE_REVIEWER_KEY")
            if not os.environ.get(name)
        ]
        if missing:
            sys.exit(f"set {', '.join(missing)} (see docs/agents.md)")
        return cls(
            os.environ["SLUICEGATE_URL"],
            os.environ["SLUICEGATE_KEY"],
            os.environ["SLUICEGATE_REVIEWER_KEY"],
        )

    def approve(self, decision_id: str, note: str) -> None:
        """Approve the decision's review as the reviewer (what a person does on the page)."""
        with httpx.Client(base_url=self.url, timeout=10) as http:
            status = http.get(
                f"/v1/decisions/{decision_id}",
                headers={"Authorization": f"Bearer {self.agent_key}"},
            )
            status.raise_for_status()
            review_id = status.json()["review"]["id"]
            approved = http.post(
                f"/v1/reviews/{review_id}/approve",
                json={"note": note},
                headers={"Authorization": f"Bearer {self.reviewer_key}"},
            )
            approved.raise_for_status()

    def status(self, decision_id: str) -> str:
        """The action's status now (`executed` once its outcome was reported)."""
        with httpx.Client(base_url=self.url, timeout=10) as http:
            answer = http.get(
                f"/v1/decisions/{decision_id}",
                headers={"Authorization": f"Bearer {self.agent_key}"},
            )
            answer.raise_for_status()
            return str(answer.json()["status"])


class Ledger:
    """What the tools did, one JSON line per run, in a file that outlives each process."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, tool: str, **details: Any) -> None:
        """Note that `tool` ran."""
        with self.path.open("a") as file:
            file.write(json.dumps({"tool": tool, **details}) + "\n")

    def runs(self, tool: str) -> int:
        """How many times `tool` ran."""
        if not self.path.exists():
            return 0
        lines = self.path.read_text().splitlines()
        return sum(1 for line in lines if json.loads(line)["tool"] == tool)


class BillingTools:
    """The agent's tools, as plain functions a framework wraps; each writes to the ledger when
    it really runs."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def search_knowledge(self, query: str) -> str:
        """Search the knowledge base."""
        self._ledger.record("search_knowledge", query=query)
        return "Duplicate charges are refunded in full."

    def issue_refund(self, invoice: str, amount_usd: int) -> str:
        """Refund a customer (irreversible money out)."""
        self._ledger.record("issue_refund", invoice=invoice, amount_usd=amount_usd)
        return f"refund re_1 issued for {invoice}"

    def export_customers(self, destination: str) -> str:
        """Export the customer list."""
        self._ledger.record("export_customers", destination=destination)
        return f"exported to {destination}"

    def all(self) -> list[Callable[..., str]]:
        """The three tools, in the order the scripted models call them."""
        return [self.search_knowledge, self.issue_refund, self.export_customers]


def proposals(example: str) -> dict[str, Callable[[Any], dict[str, Any]]]:
    """Each tool's arguments → the proposal the gate decides, labelled with the example."""

    def proposal(action: dict[str, Any], why: str) -> dict[str, Any]:
        return {
            "action": action,
            "justification": why,
            "confidence": 0.9,
            "work_item": {"id": "WI-981", "type": "billing-dispute"},
            "labels": {"example": example},
        }

    return {
        "search_knowledge": lambda args: proposal(
            {"type": "knowledge.search", "environment": "production"}, f"look up {args['query']}"
        ),
        "issue_refund": lambda args: proposal(
            {
                "type": "payments.refund.issue",
                "target": "stripe",
                "environment": "production",
                "amount": {"value": args["amount_usd"], "currency": "USD"},
                "customer_facing": True,
            },
            f"duplicate charge on {args['invoice']}",
        ),
        "export_customers": lambda args: proposal(
            {
                "type": "data.export",
                "target": args["destination"],
                "environment": "production",
                "data_classes": ["pii"],
            },
            "customer list for the quarterly review",
        ),
    }


def verdict(checks: dict[str, bool]) -> int:
    """Print each check; 0 only when all hold."""
    for name, held in checks.items():
        print(f"{'ok  ' if held else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1
