"""Whatever arrives at Slack's route, malformed headers or bodies, signed or not, is answered
400 or 401 (or 404 for a signed payload of a kind this app does not handle), never 500, and
changes nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from service.app import create_app
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, RULES

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ROUTE = "/v1/integrations/slack/interactions"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        audit_signing_key=AUDIT_KEY,
        rules=RULES,
        slack_signing_secret=SecretStr(SECRET),
        slack_bot_token=SecretStr("xoxb-test"),
        slack_api_url="http://127.0.0.1:9/api/",  # never called: no review is open
    )
    with TestClient(create_app(settings)) as served:
        yield served


def _signed(body: bytes | str, timestamp: str | None = None) -> dict[str, str]:
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=raw)
    assert signature is not None
    return {
        "content-type": FORM,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature,
    }


def _payload(document: object) -> str:
    return urlencode({"payload": json.dumps(document)})


PRESS = _payload({"type": "block_actions", "user": {"id": "U1"}, "actions": []})

MALFORMED_HEADERS = {
    "a timestamp that is not a number": {"x-slack-request-timestamp": "soon"},
    "an empty timestamp": {"x-slack-request-timestamp": ""},
    "a timestamp with a sign": {"x-slack-request-timestamp": "-1"},
    "a timestamp in exponent form": {"x-slack-request-timestamp": "1e10"},
    "a timestamp of non-ASCII digits": {"x-slack-request-timestamp": "١٧٦٧٠٠٠٠٠٠".encode()},
    "a huge timestamp": {"x-slack-request-timestamp": "9" * 400},
    "a signature of non-ASCII text": {"x-slack-signature": "v0=é".encode()},
    "an empty signature": {"x-slack-signature": ""},
    "no timestamp": {"x-slack-request-timestamp": None},
    "no signature": {"x-slack-signature": None},
}


@pytest.mark.parametrize("change", list(MALFORMED_HEADERS.values()), ids=list(MALFORMED_HEADERS))
def test_malformed_headers_are_401(
    client: TestClient, change: dict[str, str | bytes | None]
) -> None:
    headers: dict[str, str | bytes] = dict(_signed(PRESS))
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    signed_anyway = dict(headers)  # and the same, signed over the odd timestamp
    stamp = change.get("x-slack-request-timestamp")
    if stamp:
        text = stamp.decode("latin-1") if isinstance(stamp, bytes) else stamp
        signed_anyway = {**_signed(PRESS, timestamp=text), "x-slack-request-timestamp": stamp}
    for attempt in (headers, signed_anyway):
        raw = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in attempt.items()}
        answer = client.post(ROUTE, content=PRESS.encode(), headers=raw)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "slack_signature_invalid"


MALFORMED_BODIES = {
    "not UTF-8": b"payload=\xff\xfe\xfd",
    "no payload": b"token=x",
    "an empty payload": b"payload=",
    "broken JSON": b"payload=%7B%22type",
    "a JSON list": _payload([1, 2]).encode(),
    "a JSON string": _payload("block_actions").encode(),
    "a press with no actions or user": _payload({"type": "block_actions"}).encode(),
    "a press whose action is a string": _payload(
        {"type": "block_actions", "user": {"id": "U1"}, "actions": ["approve"]}
    ).encode(),
    "a submission with no view": _payload({"type": "view_submission"}).encode(),
    "a submission whose view is a list": _payload({"type": "view_submission", "view": []}).encode(),
    "two payloads": b"payload=%7B%7D&payload=%5B%5D",
    "JSON instead of a form": b'{"type": "block_actions"}',
}


@pytest.mark.parametrize("body", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
def test_malformed_bodies_are_4xx_signed_or_not(client: TestClient, body: bytes) -> None:
    unsigned = client.post(ROUTE, content=body, headers={"content-type": FORM})
    assert unsigned.status_code == 401, unsigned.text
    signed = client.post(ROUTE, content=body, headers=_signed(body))
    assert signed.status_code in {200, 400, 404}, signed.text
    if signed.status_code != 200:
        assert signed.json()["error"]["code"] in {"invalid_slack_payload", "not_found"}
