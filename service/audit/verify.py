"""Verifying the audit chain: recompute every link, and hold the head to the signed checkpoints.

The chain alone catches an edited, deleted or reordered event anywhere before the head: the
recomputed hashes stop matching at the first one touched. It cannot catch a cut tail, or a
tail rewritten with freshly computed hashes; the checkpoints do, because each one is a
signature over (seq, hash) that the operator cannot make again without the signing key.

The columns stored beside each event (what auditors' queries filter on, and the rule index)
are outside the hash, so they are rebuilt from each event and compared: a row whose
`outcome` says allow while its event says route_to_human is reported at its seq.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select

from service.audit.checkpoints import Checkpoint, stored_checkpoints
from service.audit.event import GENESIS_HASH, MAX_SAFE_INTEGER, canonical, chain_hash
from service.audit.index import INDEX_COLUMNS, index_mismatch
from service.audit.signing import key_id, signature_valid
from service.audit.tables import AUDIT_EVENTS, AUDIT_RULES

# Rows fetched at a time when streaming the chain.
BATCH = 5_000


class ChainLink(NamedTuple):
    """One stored event, as the verifier reads it, with the columns stored beside it (the
    `INDEX_COLUMNS` and `rules`); None where they are not known (an old evidence pack)."""

    seq: int
    prev_hash: str
    hash: str
    event: str
    stored: dict[str, Any] | None = None


class Verification(BaseModel):
    """What verification found: all well, or the first broken `seq` and why."""

    ok: bool
    events: int
    head_seq: int
    head_hash: str
    checkpoints: int
    first_broken_seq: int | None = None
    reason: str | None = None


def verify(
    links: Iterable[ChainLink],
    checkpoints: list[Checkpoint],
    public: Ed25519PublicKey,
    *,
    after: tuple[int, str] = (0, GENESIS_HASH),
) -> Verification:
    """Recompute the chain link by link, then check every checkpoint against it. `after`
    starts from a known (seq, hash) instead of the genesis, to verify only what followed."""
    expected_seq, running, count = after[0] + 1, after[1], 0
    at_seq: dict[int, str] = {c.seq: "" for c in checkpoints}
    for link in links:
        problem = _link_problem(link, expected_seq, running)
        if problem is not None:
            return _verdict(count, expected_seq - 1, running, checkpoints, problem)
        if link.seq in at_seq:
            at_seq[link.seq] = link.hash
        running, expected_seq, count = link.hash, expected_seq + 1, count + 1
    head_seq = expected_seq - 1
    problem = _checkpoint_problem(checkpoints, at_seq, head_seq, public)
    return _verdict(count, head_seq, running, checkpoints, problem)


def _link_problem(link: ChainLink, expected_seq: int, running: str) -> tuple[int, str] | None:
    if link.seq != expected_seq:
        if link.seq > expected_seq:
            return expected_seq, f"seq {expected_seq} is missing (the next stored is {link.seq})"
        return link.seq, f"seq {link.seq} appears again after seq {expected_seq - 1}"
    if link.prev_hash != running:
        return link.seq, "its prev_hash is not the hash of the event before it"
    reason = _content_problem(link)
    return None if reason is None else (link.seq, reason)


def _ijson_number(text: str) -> int | float:
    """A number as RFC 8785 reads it: an IEEE double. A float such as 1e20 is written
    `100000000000000000000`; read back as a Python int it would be out of range."""
    value = int(text)
    return value if abs(value) <= MAX_SAFE_INTEGER else float(text)


def _content_problem(link: ChainLink) -> str | None:
    try:
        document = json.loads(link.event, parse_int=_ijson_number)
        if canonical(document) != link.event.encode():
            return "the stored event is not in canonical (RFC 8785) form"
    except ValueError:
        return "the stored event is not valid JSON"
    if chain_hash(link.prev_hash, link.event.encode()) != link.hash:
        return "its hash does not match its content: the event was edited"
    if link.stored is not None and isinstance(document, dict):
        return index_mismatch(link.stored, document)
    return None


def _checkpoint_problem(
    checkpoints: list[Checkpoint],
    hash_at: dict[int, str],
    head_seq: int,
    public: Ed25519PublicKey,
) -> tuple[int, str] | None:
    kid = key_id(public)
    for checkpoint in checkpoints:
        seq = checkpoint.seq
        if checkpoint.key_id != kid or not signature_valid(
            public, checkpoint.signed_bytes(), checkpoint.signature
        ):
            return seq, f"the checkpoint at seq {seq} is not signed by this key"
        if seq > head_seq:
            return head_seq + 1, (
                f"the chain ends at seq {head_seq}, but a checkpoint signed it up to seq {seq}: "
                "events were cut from the tail"
            )
        if hash_at[seq] != checkpoint.hash:
            return seq, (
                f"the hash at seq {seq} differs from the signed checkpoint: "
                "the chain was rewritten up to there"
            )
    return None


def _verdict(
    count: int,
    head_seq: int,
    head_hash: str,
    checkpoints: list[Checkpoint],
    problem: tuple[int, str] | None,
) -> Verification:
    return Verification(
        ok=problem is None,
        events=count,
        head_seq=head_seq,
        head_hash=head_hash,
        checkpoints=len(checkpoints),
        first_broken_seq=problem[0] if problem else None,
        reason=problem[1] if problem else None,
    )


@contextmanager
def stored_links(
    connection: Connection, *, after_seq: int = 0, batch: int = BATCH
) -> Iterator[Iterable[ChainLink]]:
    """The stored events after `after_seq`, in seq order, with the columns stored beside them,
    streamed `batch` rows at a time; the cursor (server-side on PostgreSQL) is closed on
    leaving, however far it was read."""
    columns = (
        AUDIT_EVENTS.c.seq,
        AUDIT_EVENTS.c.prev_hash,
        AUDIT_EVENTS.c.hash,
        AUDIT_EVENTS.c.event,
        *(AUDIT_EVENTS.c[column] for column in INDEX_COLUMNS),
    )
    result: Any = connection.execution_options(yield_per=batch).execute(
        select(*columns).where(AUDIT_EVENTS.c.seq > after_seq).order_by(AUDIT_EVENTS.c.seq)
    )
    try:
        yield _with_rules(connection, result, batch)
    finally:
        result.close()


def _with_rules(connection: Connection, result: Any, batch: int) -> Iterator[ChainLink]:
    """Each row as a link, with the rules the rule index holds for its seq (one query per
    batch of rows)."""
    for rows in result.partitions(batch):
        rules: dict[int, list[str]] = defaultdict(list)
        for rule, seq in connection.execute(
            select(AUDIT_RULES.c.rule, AUDIT_RULES.c.seq).where(
                AUDIT_RULES.c.seq >= rows[0].seq, AUDIT_RULES.c.seq <= rows[-1].seq
            )
        ):
            rules[int(seq)].append(str(rule))
        for row in rows:
            index = {column: getattr(row, column) for column in INDEX_COLUMNS}
            index["rules"] = sorted(rules.get(int(row.seq), []))
            yield ChainLink(int(row.seq), str(row.prev_hash), str(row.hash), str(row.event), index)


def verify_store(database: Engine, public: Ed25519PublicKey) -> Verification:
    """Verify the chain and checkpoints held in the database."""
    with database.connect() as connection, stored_links(connection) as links:
        return verify(links, stored_checkpoints(connection), public)
