"""One strict JSON parser for every body: what parses loosely but cannot be recorded
faithfully is refused with a stable code and the JSON pointer of the place, and nothing is
written."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from service.api.strict_json import StrictJsonRoute, parse_strict
from service.app import create_app
from service.audit.signing import new_private_pem
from service.audit.tables import AuditEventRow
from service.auth.roles import Role
from service.decisions.tables import DecisionRow
from service.errors import UnacceptableJson
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import REFUND, RULES, api_routes, bearer

DRAFT_TYPE = "email.customer.draft"


CASES = [
    pytest.param(
        '{"action": {"type": "payments.refund.issue", "type": "' + DRAFT_TYPE + '", '
        '"environment": "production"}}',
        "duplicate_key",
        "/action/type",
        id="a key given twice",
    ),
    pytest.param(
        json.dumps(REFUND | {"justification": "dup\u0000licate"}),
        "nul_character",
        "/justification",
        id="NUL in a string",
    ),
    pytest.param(
        json.dumps(REFUND | {"idempotency_key": "k\u0000"}),
        "nul_character",
        "/idempotency_key",
        id="NUL in the idempotency key",
    ),
    pytest.param(
        json.dumps(REFUND | {"labels": {"a\u0000b": "x"}}),
        "nul_character",
        "/labels/a\u0000b",
        id="NUL in a key",
    ),
    pytest.param(
        json.dumps(REFUND | {"changes": [{"record": "r", "field": "f", "from": 1, "to": 2**53}]}),
        "integer_out_of_range",
        "/changes/0/to",
        id="an integer of 2^53",
    ),
    pytest.param(
        json.dumps(REFUND | {"confidence": 1e400}),
        "non_finite_number",
        "/confidence",
        id="a number too large for a double",
    ),
    pytest.param(
        json.dumps(REFUND).replace('"confidence": 0.9', '"confidence": NaN'),
        "non_finite_number",
        "/confidence",
        id="NaN",
    ),
]


def _counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.database.connect() as connection:
        decisions = connection.execute(select(func.count()).select_from(DecisionRow)).scalar()
        events = connection.execute(select(func.count()).select_from(AuditEventRow)).scalar()
    return int(decisions or 0), int(events or 0)


@pytest.mark.parametrize(("body", "code", "pointer"), CASES)
def test_a_decision_body_is_refused_where_it_is_unsafe(
    client: TestClient,
    runtime: Runtime,
    agent_headers: dict[str, str],
    body: str,
    code: str,
    pointer: str,
) -> None:
    before = _counts(runtime)
    headers = agent_headers | {"content-type": "application/json"}
    for path in ("/v1/decisions", "/v1/decisions/some-id/proceed"):
        answer = client.post(path, content=body.encode(), headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == code
        assert answer.json()["error"]["details"] == [{"pointer": pointer}]
    assert _counts(runtime) == before  # nothing written


@pytest.mark.parametrize(
    ("artifact", "pointer"),
    [
        ('{"n": NaN}', "/artifact/n"),
        ('{"n": Infinity}', "/artifact/n"),
        ('{"n": -Infinity}', "/artifact/n"),
        ('{"n": 18446744073709551616}', "/artifact/n"),
        ('{"list": [1, {"deep": 9007199254740992}]}', "/artifact/list/1/deep"),
    ],
)
def test_an_outcome_artifact_is_refused_where_it_is_unsafe(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str], artifact: str, pointer: str
) -> None:
    made = client.post(
        "/v1/decisions",
        json=REFUND | {"action": REFUND["action"] | {"amount": {"value": 10, "currency": "USD"}}},
        headers=agent_headers,
    ).json()
    before = _counts(runtime)
    body = '{"status": "executed", "artifact": ' + artifact + "}"
    answer = client.post(
        f"/v1/decisions/{made['decision_id']}/outcome",
        content=body.encode(),
        headers=agent_headers | {"content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"] == [{"pointer": pointer}]
    assert _counts(runtime) == before


def test_a_nul_never_reaches_the_store(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, rules=RULES, audit_signing_key=SecretStr(new_private_pem())
    )
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        headers = bearer(runtime, Role.AGENT, ["*"])
        bad = client.post(
            "/v1/decisions", json=REFUND | {"justification": "a\u0000b"}, headers=headers
        )
        assert bad.status_code == 422
        good = client.post("/v1/decisions", json=REFUND, headers=headers)
        assert good.status_code == 201


# Slack posts forms, signed; whatever the body, an unsigned one must get 401, not a JSON error.
NOT_JSON = {"/v1/integrations/slack/interactions"}


def test_every_route_with_a_body_parses_strictly(client: TestClient) -> None:
    routes = [
        r for r in api_routes(client.app) if r.path.startswith("/v1/") and r.path not in NOT_JSON
    ]
    assert len(routes) > 20
    for route in routes:
        assert isinstance(route, StrictJsonRoute), route.path


def test_deep_nesting_and_broken_json_keep_their_codes() -> None:
    from service.errors import InvalidJson, TooDeeplyNested

    with pytest.raises(TooDeeplyNested):
        parse_strict(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(InvalidJson):
        parse_strict(b'{"a": ')
    assert parse_strict(b'{"a": [1, -9007199254740991, 1.5, "x"]}') == {
        "a": [1, -9007199254740991, 1.5, "x"]
    }
    with pytest.raises(UnacceptableJson):
        parse_strict(b'{"a~/b": {"c": 1, "c": 2}}')


def test_a_nul_in_a_path_or_query_parameter_is_refused(
    client: TestClient, runtime: Runtime
) -> None:
    auditor = bearer(runtime, Role.AUDITOR)
    for path in ("/v1/audit/export.ndjson?agent_id=a%00b", "/v1/decisions/x%00y"):
        answer = client.get(path, headers=auditor)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "nul_character"


NOT_JSON_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain",
    "application/xml",
]


@pytest.mark.parametrize("content_type", NOT_JSON_TYPES)
@pytest.mark.parametrize(("body", "code", "pointer"), CASES)
def test_a_body_declared_as_anything_but_json_is_refused_before_it_is_read(
    client: TestClient,
    runtime: Runtime,
    agent_headers: dict[str, str],
    content_type: str,
    body: str,
    code: str,
    pointer: str,
) -> None:
    """A form or text Content-Type once skipped the strict parser: a duplicate `type` was
    decided as the harmless one, NUL was stored, NaN gave 500. Now: 415, nothing written."""
    before = _counts(runtime)
    headers = agent_headers | {"content-type": content_type}
    for path in ("/v1/decisions", "/v1/decisions/some-id/proceed", "/v1/decisions/x/outcome"):
        answer = client.post(path, content=body.encode(), headers=headers)
        assert answer.status_code == 415, answer.text
        assert answer.json()["error"]["code"] == "unsupported_media_type"
    assert _counts(runtime) == before


def test_json_by_any_of_its_names_is_parsed_strictly(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    duplicate = CASES[0].values[0]
    for content_type in ("application/json; charset=utf-8", "application/problem+json", None):
        headers = agent_headers | ({"content-type": content_type} if content_type else {})
        answer = client.post("/v1/decisions", content=str(duplicate).encode(), headers=headers)
        assert answer.status_code == 422, (content_type, answer.text)
        assert answer.json()["error"]["code"] == "duplicate_key"
