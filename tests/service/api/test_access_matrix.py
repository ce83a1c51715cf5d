"""Who may call what, on whose objects: every route of the app by every kind of caller.

The table below names, for each route, the callers that get past authentication and
authorization; every other caller must get 401, 403 or 404 (a decision that is not yours
is "not found"). The routes come from the app itself, so a route added without a line here
fails this test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth.keys import create_key
from service.auth.principals import principal_named
from service.auth.roles import Role
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, REFUND, RULES, api_routes

ANYONE = {
    "anonymous",
    "proposer",
    "other_agent",
    "owner",
    "queue_reviewer",
    "other_reviewer",
    "author",
    "auditor",
    "admin",
    "sidecar",
}
AGENTS = {"proposer", "other_agent"}
REVIEWERS = {"queue_reviewer", "other_reviewer", "owner"}
AUDIT = {"auditor", "admin"}

ALLOWED: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/decisions"): AGENTS,
    ("GET", "/v1/decisions/{decision_id}"): {"proposer", "owner", "queue_reviewer", *AUDIT},
    ("POST", "/v1/decisions/{decision_id}/proceed"): {"proposer"},
    ("POST", "/v1/decisions/{decision_id}/withdraw"): {"proposer"},
    ("POST", "/v1/decisions/{decision_id}/outcome"): {"proposer"},
    # Another agent's held call is a 404: it learns nothing of it.
    ("POST", "/v1/held-calls"): {"proposer"},
    ("GET", "/v1/held-calls"): AGENTS,  # each finds only its own
    ("GET", "/v1/held-calls/{call_id}"): {"proposer"},
    ("POST", "/v1/held-calls/{call_id}/forwarding"): {"proposer"},
    ("POST", "/v1/held-calls/{call_id}/result"): {"proposer"},
    ("POST", "/v1/held-calls/{call_id}/cancel"): {"proposer"},
    ("GET", "/v1/reviews/queues"): REVIEWERS | {"auditor"},
    ("GET", "/v1/reviews"): REVIEWERS | {"auditor"},
    ("GET", "/v1/reviews/{review_id}"): {"queue_reviewer", "auditor"},
    ("POST", "/v1/reviews/{review_id}/claim"): {"queue_reviewer"},
    ("POST", "/v1/reviews/{review_id}/release"): {"queue_reviewer"},
    ("POST", "/v1/reviews/{review_id}/approve"): {"queue_reviewer"},
    ("POST", "/v1/reviews/{review_id}/reject"): {"queue_reviewer"},
    ("POST", "/v1/reviews/{review_id}/verdict"): {"queue_reviewer"},
    # Any reviewer gets past the door; each review of the batch is then checked on its own.
    ("POST", "/v1/reviews:approve"): REVIEWERS,
    ("GET", "/v1/audit/verify"): AUDIT,
    ("GET", "/v1/audit/checkpoints"): AUDIT,
    ("GET", "/v1/audit/public-key"): AUDIT,
    ("GET", "/v1/audit/events"): AUDIT,
    ("GET", "/v1/audit/export.ndjson"): AUDIT,
    ("GET", "/v1/audit/export.csv"): AUDIT,
    ("GET", "/v1/audit/evidence"): AUDIT,
    ("GET", "/v1/audit/rollback-candidates"): AUDIT,
    ("GET", "/v1/work-items/{work_item}/trace"): AUDIT,
    ("GET", "/v1/analytics/throughput"): AUDIT,
    ("GET", "/v1/analytics/canaries"): {"author", "auditor"},
    ("POST", "/v1/webhooks"): AGENTS,
    ("GET", "/v1/webhooks"): AGENTS,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): {"proposer"},
    ("DELETE", "/v1/webhooks/{webhook_id}"): {"proposer"},
    ("GET", "/v1/bundles/sluicegate.tar.gz"): {"sidecar", "author", "admin"},
    ("GET", "/healthz"): ANYONE,
    ("GET", "/readyz"): ANYONE,
    ("GET", "/metrics"): ANYONE,
    ("GET", "/.well-known/jwks.json"): ANYONE,
    # 404 unless agents may present OAuth tokens (tests/identity covers it configured).
    ("GET", "/.well-known/oauth-protected-resource"): set(),
    ("GET", "/.well-known/oauth-protected-resource/{path:path}"): set(),
    ("GET", "/v1/principals/me"): ANYONE - {"anonymous"},
    ("POST", "/v1/rules/impact"): {"author", "auditor"},
    ("POST", "/v1/rules/shadow"): {"author"},
    ("GET", "/v1/rules/shadow"): {"author", "auditor"},
    ("DELETE", "/v1/rules/shadow"): {"author"},
    # Slack signs its calls; no API key opens it (tests/service/slack covers the signatures).
    ("POST", "/v1/integrations/slack/interactions"): set(),
}
# The review pages sign in with a key and keep a session; tests/service/ui covers them.
PAGES = "/ui"
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/decisions"): REFUND,
    ("POST", "/v1/decisions/{decision_id}/proceed"): REFUND,
    ("POST", "/v1/decisions/{decision_id}/outcome"): {"status": "executed"},
    ("POST", "/v1/held-calls/{call_id}/result"): {"result": {"content": []}},
    ("POST", "/v1/reviews/{review_id}/approve"): {},
    ("POST", "/v1/reviews/{review_id}/reject"): {"note": "no"},
    ("POST", "/v1/reviews/{review_id}/verdict"): {"verdict": "ok"},
    ("POST", "/v1/reviews:approve"): {"review_ids": ["no-such-review"]},
    ("POST", "/v1/webhooks"): {"url": "https://93.184.216.34/hook"},
    ("POST", "/v1/rules/impact"): {"candidate": "default"},
    ("POST", "/v1/rules/shadow"): {"candidate": "default"},
}
QUERIES = {
    "/v1/held-calls": {"call_digest": "sha256:" + "0" * 64},
    "/v1/audit/evidence": {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
}


@pytest.fixture
def world(
    database_url: str, tmp_path: Any
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], dict[str, str]]]:
    shutil.copytree(RULES, tmp_path / "candidates" / "default")  # for /v1/rules/impact
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=RULES,
        candidates_dir=tmp_path / "candidates",
    )
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        database = runtime.database

        def key(name: str, role: Role, scopes: list[str], owner: str | None = None) -> str:
            owner_id = principal_named(database, owner) if owner else None
            _, secret = create_key(database, name=name, role=role, scopes=scopes, owner_id=owner_id)
            return secret

        keys = {
            "owner": key("olga", Role.REVIEWER, ["group:sales-ops"]),
            "queue_reviewer": key("fiona", Role.REVIEWER, ["group:finance-approvers"]),
            "other_reviewer": key("sam", Role.REVIEWER, ["group:sales-ops"]),
            "proposer": key("bot", Role.AGENT, ["*"], owner="olga"),
            "other_agent": key("other-bot", Role.AGENT, ["*"]),
            "author": key("ann", Role.AUTHOR, []),
            "auditor": key("audrey", Role.AUDITOR, []),
            "admin": key("ada", Role.ADMIN, []),
            "sidecar": key("opa", Role.SIDECAR, []),
        }
        headers = {name: {"Authorization": f"Bearer {k}"} for name, k in keys.items()}
        headers["anonymous"] = {}
        decided = client.post("/v1/decisions", json=REFUND, headers=headers["proposer"]).json()
        hook = client.post(
            "/v1/webhooks", json=BODIES[("POST", "/v1/webhooks")], headers=headers["proposer"]
        ).json()
        held = {"upstream": "u", "tool": "t", "arguments": {}, "proposal": REFUND}
        BODIES[("POST", "/v1/held-calls")] = held | {"decision_id": decided["decision_id"]}
        call = client.post(
            "/v1/held-calls", json=BODIES[("POST", "/v1/held-calls")], headers=headers["proposer"]
        ).json()
        ids = {
            "call_id": call["id"],
            "path": "v1",
            "decision_id": decided["decision_id"],
            "review_id": decided["review"]["id"],
            "work_item": REFUND["work_item"]["id"],
            "webhook_id": hook["id"],
        }
        yield client, headers, ids


def test_every_route_answers_only_the_callers_it_should(
    world: tuple[TestClient, dict[str, dict[str, str]], dict[str, str]],
) -> None:
    client, headers, ids = world
    routes = [r for r in api_routes(client.app) if not r.path.startswith(PAGES)]
    found = {(method, r.path) for r in routes for method in r.methods or ()}
    assert found == set(ALLOWED), "a route without a line in ALLOWED, or a line without a route"
    # Deleting comes last, so the others still find what they read.
    ordered = sorted(found, key=lambda route: route[0] == "DELETE")
    wrong = []
    for method, path in ordered:
        url = path.replace(":path}", "}").format(**ids)
        # The denied first, so a step an allowed caller takes cannot change their answer.
        for caller in sorted(ANYONE, key=lambda c: c in ALLOWED[(method, path)]):
            answer = client.request(
                method,
                url,
                json=BODIES.get((method, path)),
                params=QUERIES.get(path),
                headers=headers[caller],
            )
            denied = answer.status_code in {401, 403, 404}
            if denied == (caller in ALLOWED[(method, path)]):
                wrong.append((method, path, caller, answer.status_code))
    assert wrong == [], "\n".join(map(str, wrong))
