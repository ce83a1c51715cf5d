"""Evidence packs: a time range of the chain, its checkpoints and rule packs, in one signed file
that an auditor verifies offline, without the gateway or its database.

The pack is a byte-reproducible, uncompressed zip (each member has its own CRC, and the
verifier rebuilds the archive from its contents, so any changed byte is found and located):

    events.ndjson            every chain link in the range: seq, prev_hash, hash, event, and
                             `stored`, the columns the store keeps beside it (what queries
                             filter on, and the rule index), rebuilt from the event and
                             compared by the verifier
    checkpoints.json         the signed checkpoints that fall in the range
    rule-packs.json          the rule-pack revisions the range's decisions were made under
    rule-packs/<rev>.tar.gz  the bundle of each revision this gateway still has
    public-key.pem           the key that signs checkpoints and this manifest
    manifest.json            the range, its first prev_hash and last hash, sha256 of each file
    manifest.sig             Ed25519 over manifest.json
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections import defaultdict
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel
from sqlalchemy import Engine, select

from policy.opa_bundle import bundle_archive
from policy.rule_pack import RulePack
from service.audit.checkpoints import Checkpoint
from service.audit.index import INDEX_COLUMNS
from service.audit.signing import key_id, load_public_pem, public_pem, sign, signature_valid
from service.audit.tables import AUDIT_CHECKPOINTS, AUDIT_EVENTS, AUDIT_RULES
from service.audit.verify import ChainLink, verify
from service.store.utc import utc_now

PACK_VERSION = 2  # 2: each link carries its stored columns; version 1 packs still verify


class PackCheck(BaseModel):
    """What verifying a pack found; `problem` says where it failed."""

    ok: bool
    events: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    checkpoints: int = 0
    problem: str | None = None


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_pack(
    database: Engine,
    private: Ed25519PrivateKey,
    pack: RulePack,
    *,
    since: datetime,
    until: datetime,
) -> bytes:
    """The evidence pack for events recorded in [since, until)."""
    with database.connect() as connection:
        rows = connection.execute(
            select(
                AUDIT_EVENTS.c.seq,
                AUDIT_EVENTS.c.prev_hash,
                AUDIT_EVENTS.c.hash,
                AUDIT_EVENTS.c.event,
                *(AUDIT_EVENTS.c[column] for column in INDEX_COLUMNS),
            )
            .where(AUDIT_EVENTS.c.recorded_at >= since, AUDIT_EVENTS.c.recorded_at < until)
            .order_by(AUDIT_EVENTS.c.seq)
        ).all()
        first = rows[0].seq if rows else 0
        last = rows[-1].seq if rows else 0
        rules: dict[int, list[str]] = defaultdict(list)
        for rule, seq in connection.execute(
            select(AUDIT_RULES.c.rule, AUDIT_RULES.c.seq)
            .where(AUDIT_RULES.c.seq >= first, AUDIT_RULES.c.seq <= last)
            .order_by(AUDIT_RULES.c.rule)
        ):
            rules[int(seq)].append(str(rule))
        checkpoints = connection.execute(
            select(AUDIT_CHECKPOINTS)
            .where(AUDIT_CHECKPOINTS.c.seq >= first, AUDIT_CHECKPOINTS.c.seq <= last)
            .order_by(AUDIT_CHECKPOINTS.c.seq)
        ).all()
    links = b"".join(
        json.dumps(
            {
                "seq": r.seq,
                "prev_hash": r.prev_hash,
                "hash": r.hash,
                "event": r.event,
                "stored": _stored(r, rules[r.seq]),
            },
            separators=(",", ":"),
        ).encode()
        + b"\n"
        for r in rows
    )
    revisions = sorted({r.policy_revision for r in rows if r.policy_revision})
    files: dict[str, bytes] = {
        "events.ndjson": links,
        "checkpoints.json": json.dumps(
            [
                Checkpoint.model_validate(c, from_attributes=True).model_dump(mode="json")
                for c in checkpoints
            ],
            indent=1,
        ).encode(),
        "rule-packs.json": json.dumps(
            {rev: {"included": rev == pack.revision} for rev in revisions}, indent=1
        ).encode(),
        "public-key.pem": public_pem(private.public_key()).encode(),
    }
    if pack.revision in revisions:
        files[f"rule-packs/{pack.revision.replace(':', '-')}.tar.gz"] = bundle_archive(pack)
    manifest = json.dumps(
        {
            "version": PACK_VERSION,
            "created_at": utc_now().isoformat(),
            "range": {
                "since": since.isoformat(),
                "until": until.isoformat(),
                "first_seq": first,
                "last_seq": last,
                "first_prev_hash": rows[0].prev_hash if rows else None,
                "last_hash": rows[-1].hash if rows else None,
            },
            "key_id": key_id(private.public_key()),
            "files": {name: _sha256(data) for name, data in sorted(files.items())},
        },
        indent=1,
    ).encode()
    members = [*files.items(), ("manifest.json", manifest)]
    members.append(("manifest.sig", sign(private, manifest).encode()))
    return reproducible_zip(members)


def _stored(row: Any, rules: list[str]) -> dict[str, Any]:
    """The columns stored beside an event, as JSON (the time in ISO 8601), and its rules."""
    stored = {column: getattr(row, column) for column in INDEX_COLUMNS}
    stored["recorded_at"] = row.recorded_at.isoformat()
    return stored | {"rules": sorted(rules)}


def reproducible_zip(members: list[tuple[str, bytes]]) -> bytes:
    """A byte-reproducible zip: stored (not compressed), fixed times and modes, given order.
    The verifier rebuilds it from the contents, so every byte of the file is accounted for."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def verify_pack(data: bytes, public: Ed25519PublicKey | None = None) -> PackCheck:
    """Check a pack offline: the archive, the manifest's signature, every file's digest, the
    chain through the range, and each checkpoint. `public` should be a key the auditor
    holds; without it, the key in the pack is used (which proves integrity, not origin)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        return PackCheck(ok=False, problem=f"the archive's directory is not readable: {exc}")
    files: dict[str, bytes] = {}
    with archive:
        members = archive.infolist()
        for member in members:
            try:
                files[member.filename] = archive.read(member)
            # A damaged header may also claim encryption or an unknown compression method.
            except (
                zipfile.BadZipFile,
                zlib.error,
                OSError,
                EOFError,
                ValueError,
                RuntimeError,
                NotImplementedError,
            ) as exc:
                return PackCheck(ok=False, problem=f"{member.filename}: damaged ({exc})")
    rebuilt = reproducible_zip(list(files.items()))
    if rebuilt != data:
        return PackCheck(ok=False, problem=_where(data, rebuilt, members))
    return _check_contents(files, public)


def _where(data: bytes, rebuilt: bytes, members: list[zipfile.ZipInfo]) -> str:
    """Name the first byte that differs from the canonical archive, and whose entry it is in."""
    offset = next(
        (i for i, (a, b) in enumerate(zip(data, rebuilt, strict=False)) if a != b),
        min(len(data), len(rebuilt)),
    )
    owner = "the zip directory"
    for member in sorted(members, key=lambda m: m.header_offset):
        if (
            member.header_offset
            <= offset
            < member.header_offset + 30 + len(member.filename) + member.compress_size
        ):
            owner = f"the entry of {member.filename}"
    return f"byte {offset} ({owner}) differs from the archive its contents make"


def _check_contents(files: dict[str, bytes], public: Ed25519PublicKey | None) -> PackCheck:
    if "manifest.json" not in files or "manifest.sig" not in files:
        return PackCheck(ok=False, problem="manifest.json or manifest.sig is missing")
    try:
        key = public or load_public_pem(files.get("public-key.pem", b"").decode())
    except ValueError:
        return PackCheck(ok=False, problem="public-key.pem: not an Ed25519 public key")
    manifest_bytes = files["manifest.json"]
    if not signature_valid(key, manifest_bytes, files["manifest.sig"].decode(errors="replace")):
        return PackCheck(ok=False, problem="manifest.json: the signature does not match")
    manifest: dict[str, Any] = json.loads(manifest_bytes)
    problem = _file_problem(files, manifest["files"])
    if problem is not None:
        return PackCheck(ok=False, problem=problem)
    return _check_chain(files, manifest, key)


def _file_problem(files: dict[str, bytes], listed: dict[str, str]) -> str | None:
    for name, want in listed.items():
        if name not in files:
            return f"{name}: missing"
        if _sha256(files[name]) != want:
            return f"{name}: its sha256 differs from the manifest's"
    extra = set(files) - set(listed) - {"manifest.json", "manifest.sig"}
    return f"{sorted(extra)[0]}: not listed in the manifest" if extra else None


def _check_chain(
    files: dict[str, bytes], manifest: dict[str, Any], key: Ed25519PublicKey
) -> PackCheck:
    span = manifest["range"]
    links = [ChainLink(**json.loads(line)) for line in files["events.ndjson"].splitlines() if line]
    checkpoints = [Checkpoint.model_validate(c) for c in json.loads(files["checkpoints.json"])]
    base = PackCheck(
        ok=True,
        events=len(links),
        first_seq=span["first_seq"],
        last_seq=span["last_seq"],
        checkpoints=len(checkpoints),
    )
    if not links:
        return base
    result = verify(links, checkpoints, key, after=(span["first_seq"] - 1, span["first_prev_hash"]))
    if not result.ok:
        problem = f"events.ndjson: seq {result.first_broken_seq}: {result.reason}"
        return base.model_copy(update={"ok": False, "problem": problem})
    if result.head_seq != span["last_seq"] or result.head_hash != span["last_hash"]:
        problem = "events.ndjson: the range does not end where the manifest says"
        return base.model_copy(update={"ok": False, "problem": problem})
    return base
