"""Signing the chain's head: only after verifying what was appended since the last checkpoint,
so a gateway never puts its signature on a chain that was already tampered with.

Verifying is CPU-bound Python (about 76 µs per event) on a background thread of a serving
process. Done in one stretch, it made the event loop wait for the GIL at every I/O step it
took (the "convoy effect"): a checkpoint every 10 s raised the p99 of decisions over HTTP
from 65 ms to 250 ms. So the periodic checkpoint reads small batches and rests between runs
of events, as long as it worked: it verifies at half speed (6,800 events/s here, against
13,600), and requests keep their latency (docs/performance.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from service.audit.checkpoints import Checkpoint, signed_document
from service.audit.event import GENESIS_HASH
from service.audit.signing import key_id, sign
from service.audit.tables import AUDIT_CHECKPOINTS, AUDIT_EVENTS
from service.audit.verify import BATCH, ChainLink, stored_links, verify
from service.store.database import writing
from service.store.utc import utc_now

log = logging.getLogger(__name__)
# Paced: events verified between rests (about 4 ms of work), and rows fetched at a time.
_PACE_EVENTS = 50


def _paced(links: Iterable[ChainLink]) -> Iterator[ChainLink]:
    """The links, with a rest after every `_PACE_EVENTS` as long as verifying them took."""
    started = time.perf_counter()
    for index, link in enumerate(links, 1):
        yield link
        if index % _PACE_EVENTS == 0:
            time.sleep(time.perf_counter() - started)
            started = time.perf_counter()


def checkpoint_head(
    database: Engine, private: Ed25519PrivateKey, *, paced: bool = False
) -> Checkpoint | None:
    """Sign the chain's head if it moved since the last checkpoint and the new part verifies;
    None otherwise. Replicas may race to sign the same head: the first insert wins. `paced`
    (a serving process's periodic checkpoint) verifies at half speed, resting between runs."""
    with database.connect() as connection:
        last = connection.execute(
            select(AUDIT_CHECKPOINTS.c.seq, AUDIT_CHECKPOINTS.c.hash).order_by(
                AUDIT_CHECKPOINTS.c.seq.desc()
            )
        ).first()
        after = (int(last.seq), str(last.hash)) if last else (0, GENESIS_HASH)
        if last is not None:
            still = connection.execute(
                select(AUDIT_EVENTS.c.hash).where(AUDIT_EVENTS.c.seq == last.seq)
            ).scalar()
            if still != last.hash:
                log.error("audit chain no longer matches its checkpoint at seq %d", last.seq)
                return None
        batch = _PACE_EVENTS if paced else BATCH
        with stored_links(connection, after_seq=after[0], batch=batch) as links:
            checked = verify(
                _paced(links) if paced else links, [], private.public_key(), after=after
            )
    if not checked.ok:
        log.error("audit chain broken at seq %s; not signing", checked.first_broken_seq)
        return None
    if checked.events == 0:
        return None
    signed_at = utc_now()
    kid = key_id(private.public_key())
    seq, head_hash = checked.head_seq, checked.head_hash
    checkpoint = Checkpoint(
        seq=seq,
        hash=head_hash,
        signed_at=signed_at,
        key_id=kid,
        signature=sign(private, signed_document(seq, head_hash, signed_at, kid)),
    )
    try:
        with writing(database) as connection:
            connection.execute(insert(AUDIT_CHECKPOINTS), [checkpoint.model_dump()])
    except IntegrityError:
        return None
    return checkpoint
