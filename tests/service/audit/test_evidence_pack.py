"""Evidence packs verify offline, and fail, saying where, once anything in them changes."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from policy.rule_pack import load_rule_pack
from service.app import create_app
from service.audit.evidence_pack import build_pack, reproducible_zip, verify_pack
from service.audit.signing import load_public_pem, new_private_pem, public_pem, sign
from service.audit.tables import AUDIT_EVENTS
from service.auth.roles import Role
from service.cli.main import app as cli
from service.settings import Settings
from service.store.database import database_engine
from tests.fixtures import AUDIT_KEY, REFUND, RULES, bearer


@pytest.fixture
def pack_bytes(database_url: str) -> tuple[bytes, str, Settings]:
    """A pack over the last hour: three decisions and two review steps."""
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        agent = bearer(runtime, Role.AGENT, ["*"])
        reviewer = bearer(runtime, Role.REVIEWER, ["group:finance-approvers"])
        for _ in range(3):
            review = client.post("/v1/decisions", json=REFUND, headers=agent).json()["review"]
        client.post(f"/v1/reviews/{review['id']}/claim", headers=reviewer)
        client.post(f"/v1/reviews/{review['id']}/approve", json={}, headers=reviewer)
        now = datetime.now(UTC)
        answer = client.get(
            "/v1/audit/evidence",
            params={
                "since": (now - timedelta(hours=1)).isoformat(),
                "until": (now + timedelta(minutes=1)).isoformat(),
            },
            headers=bearer(runtime, Role.AUDITOR),
        )
        assert answer.status_code == 200, answer.text
        public = client.get("/v1/audit/public-key", headers=bearer(runtime, Role.AUDITOR)).text
    return answer.content, public, settings


def test_a_pack_verifies_offline(pack_bytes: tuple[bytes, str, Settings]) -> None:
    data, public, _ = pack_bytes
    result = verify_pack(data, load_public_pem(public))
    assert result.ok, result.problem
    # The pack's activation, keys for the agent, the reviewer and the auditor, three decisions,
    # a claim and an approval.
    assert (result.events, result.first_seq, result.last_seq) == (9, 1, 9)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {"events.ndjson", "checkpoints.json", "manifest.json", "manifest.sig"} <= set(names)
    assert any(name.startswith("rule-packs/sha256-") for name in names)


def test_one_changed_byte_anywhere_fails_and_says_where(
    pack_bytes: tuple[bytes, str, Settings],
) -> None:
    data, public, _ = pack_bytes
    key = load_public_pem(public)
    for at in range(0, len(data), max(1, len(data) // 499)):  # ~500 places, headers and data
        changed = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
        result = verify_pack(changed, key)
        assert not result.ok, f"a change at byte {at} went unnoticed"
        # Where: a member's name, or the byte and the entry it is in.
        assert result.problem is not None
        assert ":" in result.problem or "byte" in result.problem


def _rewritten(data: bytes, name: str, edit: bytes, *, also_manifest: bool = False) -> bytes:
    """The pack rebuilt as a valid zip with one member changed (what a forger would do)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    files = {n: source.read(n) for n in source.namelist()}
    files[name] = edit
    if also_manifest:
        manifest = json.loads(files["manifest.json"])
        manifest["files"][name] = "sha256:" + hashlib.sha256(edit).hexdigest()
        files["manifest.json"] = json.dumps(manifest, indent=1).encode()
    return reproducible_zip(list(files.items()))


def test_a_forged_member_is_named(pack_bytes: tuple[bytes, str, Settings]) -> None:
    data, public, _ = pack_bytes
    key = load_public_pem(public)
    events = zipfile.ZipFile(io.BytesIO(data)).read("events.ndjson")
    edited = events.replace(b"5000", b"4000", 1)
    assert verify_pack(_rewritten(data, "events.ndjson", edited), key).problem == (
        "events.ndjson: its sha256 differs from the manifest's"
    )
    forged = verify_pack(_rewritten(data, "events.ndjson", edited, also_manifest=True), key)
    assert forged.problem == "manifest.json: the signature does not match"
    other_key = load_public_pem(_public_of(new_private_pem()))
    assert verify_pack(data, other_key).problem == "manifest.json: the signature does not match"


def _public_of(private_pem: str) -> str:
    key = load_pem_private_key(private_pem.encode(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return public_pem(key.public_key())


def test_the_cli_writes_and_verifies_a_pack(
    pack_bytes: tuple[bytes, str, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, public, settings = pack_bytes
    monkeypatch.setenv("SLUICEGATE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SLUICEGATE_AUDIT_SIGNING_KEY", AUDIT_KEY.get_secret_value())
    out = tmp_path / "pack.zip"
    key = tmp_path / "key.pem"
    key.write_text(public)
    runner = CliRunner()
    now = datetime.now(UTC)
    made = runner.invoke(
        cli,
        [
            "audit",
            "evidence",
            "--since",
            f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M:%S}",
            "--until",
            f"{now + timedelta(minutes=1):%Y-%m-%dT%H:%M:%S}",
            "-o",
            str(out),
        ],
    )
    assert made.exit_code == 0, made.output
    checked = runner.invoke(cli, ["audit", "verify", "--pack", str(out), "--public-key", str(key)])
    assert checked.exit_code == 0, checked.output
    assert "OK: " in checked.output
    data = out.read_bytes()
    out.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    broken = runner.invoke(cli, ["audit", "verify", "--pack", str(out), "--public-key", str(key)])
    assert broken.exit_code == 1
    assert "BROKEN" in broken.output


def test_a_pack_of_a_store_whose_index_was_edited_fails_offline(
    pack_bytes: tuple[bytes, str, Settings],
) -> None:
    """The columns queries filter on are outside the hash; the pack carries them, and the
    offline verifier rebuilds them from each event, as `audit verify` does."""
    _, public, settings = pack_bytes
    database = database_engine(settings.database_url)
    try:
        with database.begin() as connection:
            connection.execute(
                update(AUDIT_EVENTS)
                .where(AUDIT_EVENTS.c.kind == "decision")
                .values(outcome="allow")
            )
            first = connection.execute(
                select(func.min(AUDIT_EVENTS.c.seq)).where(AUDIT_EVENTS.c.kind == "decision")
            ).scalar_one()
        private = load_pem_private_key(AUDIT_KEY.get_secret_value().encode(), None)
        assert isinstance(private, Ed25519PrivateKey)
        now = datetime.now(UTC)
        tampered = build_pack(
            database,
            private,
            load_rule_pack(RULES),
            since=now - timedelta(hours=1),
            until=now + timedelta(minutes=1),
        )
    finally:
        database.dispose()
    result = verify_pack(tampered, load_public_pem(public))
    assert not result.ok
    assert result.problem is not None
    assert result.problem.startswith(f"events.ndjson: seq {first}: its index column outcome")


def test_a_pack_without_stored_columns_still_verifies(
    pack_bytes: tuple[bytes, str, Settings],
) -> None:
    """A version 1 pack (before links carried their stored columns) verifies its chain."""
    data, public, _ = pack_bytes
    source = zipfile.ZipFile(io.BytesIO(data))
    files = {n: source.read(n) for n in source.namelist()}
    lines = [json.loads(line) for line in files["events.ndjson"].splitlines()]
    files["events.ndjson"] = b"".join(
        json.dumps({k: v for k, v in line.items() if k != "stored"}).encode() + b"\n"
        for line in lines
    )
    manifest = json.loads(files["manifest.json"])
    manifest["version"] = 1
    manifest["files"]["events.ndjson"] = _sha256(files["events.ndjson"])
    files["manifest.json"] = json.dumps(manifest, indent=1).encode()
    private = load_pem_private_key(AUDIT_KEY.get_secret_value().encode(), None)
    assert isinstance(private, Ed25519PrivateKey)
    files["manifest.sig"] = sign(private, files["manifest.json"]).encode()
    members = [(n, files[n]) for n in source.namelist()]
    result = verify_pack(reproducible_zip(members), load_public_pem(public))
    assert result.ok, result.problem


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
