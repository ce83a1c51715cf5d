"""The gate in process: the decision path of `POST /v1/decisions`, without HTTP.

For trusted code that runs beside the store (a worker of the same deployment, a benchmark):
the same rules, the same audit record committed before the answer, the same idempotency.
The caller names the agent; there is no key to check, so whoever can call this can act as
any agent it names. Agents that are separate programs use the HTTP API and their own key.

    with open_gate(database_url="sqlite:///gate.db", rules="rules") as gate:
        answer = gate.decide({"action": {...}}, agent="billing-bot")         # from plain code
        answer = await gate.adecide({"action": {...}}, agent="billing-bot")  # from async code

The answer is the JSON answer of `POST /v1/decisions` as a dict. A proposal the API would
refuse raises the error the API would answer with (`ServiceError`, with its stable `code`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service.api.proposal_body import proposal_from
from service.api.strict_json import check_value
from service.auth.keys import create_key
from service.auth.principals import Principal, acting_as
from service.auth.roles import Role
from service.runtime import Runtime
from service.settings import Settings


class EmbeddedGate:
    """A runtime without a web server; agents are named, and created on first use."""

    def __init__(self, runtime: Runtime, *, agent_scopes: tuple[str, ...]) -> None:
        self._runtime = runtime
        self._scopes = agent_scopes
        self._agents: dict[str, Principal] = {}
        self._lock = threading.Lock()

    async def adecide(self, proposal: Mapping[str, Any], *, agent: str) -> dict[str, Any]:
        """Decide and record, as `POST /v1/decisions` does for this agent's key; the answer
        comes once its record is committed."""
        check_value(proposal)
        checked = proposal_from(proposal)
        principal = self._agents.get(agent)
        if principal is None:
            principal = await asyncio.to_thread(self._agent, agent)
        recorded = await self._runtime.decider.decide(checked, principal)
        answer: dict[str, Any] = json.loads(recorded.answer)
        return answer

    def decide(self, proposal: Mapping[str, Any], *, agent: str) -> dict[str, Any]:
        """`adecide` for code without an event loop."""
        return asyncio.run(self.adecide(proposal, agent=agent))

    def _agent(self, name: str) -> Principal:
        with self._lock:
            if name not in self._agents:
                database = self._runtime.database
                try:
                    found = acting_as(database, name, Role.AGENT)
                except LookupError:
                    # ValueError when the name is a person's: people do not propose actions.
                    found, _ = create_key(
                        database, name=name, role=Role.AGENT, scopes=list(self._scopes)
                    )
                self._agents[name] = found
            return self._agents[name]

    def close(self) -> None:
        """Stop the workers, drain the writer, close the store."""
        self._runtime.close()

    def __enter__(self) -> EmbeddedGate:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_gate(
    *,
    database_url: str | None = None,
    rules: str | Path | None = None,
    agent_scopes: tuple[str, ...] = ("*",),
    **settings: Any,
) -> EmbeddedGate:
    """A gate on the given store and rule pack (defaults as for `sluicegate serve`); agents
    named for the first time get `agent_scopes`."""
    values: dict[str, Any] = dict(settings)
    if database_url is not None:
        values["database_url"] = database_url
    if rules is not None:
        values["rules"] = Path(rules)
    return EmbeddedGate(Runtime(Settings(**values)), agent_scopes=agent_scopes)
