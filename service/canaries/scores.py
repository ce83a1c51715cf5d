"""Whether reviews are real: each reviewer's and each queue's answers to known-answer checks.

From the chain's `canary_answered` events: how many a reviewer answered, how many rightly,
how often they approved one that should have been rejected (the rubber stamp's mark), how
long they took, and whether the evidence flags them. The rule, stated once: a reviewer with
at least `FLAG_MIN_ANSWERS` answers is flagged when even the lowest error rate their answers
allow (the Wilson lower bound at `FLAG_CONFIDENCE`) is above `FLAG_ERROR_RATE`. A careful
reviewer's rare slip does not flag them; a stamp that approves everything is flagged within
a handful of checks (bench/canary_simulation.py measures both)."""

from __future__ import annotations

import statistics
from collections import defaultdict

from pydantic import BaseModel
from sqlalchemy import Engine

from policy.estimates import lower_bound
from service.audit.query import EventFilter, stream_events
from service.reviews.desk import CANARY_ANSWERED

FLAG_ERROR_RATE = 0.10
FLAG_CONFIDENCE = 0.95
# One slip in the first answers would otherwise flag: 1 wrong of 1 has a lower bound of 21 %.
FLAG_MIN_ANSWERS = 5


def flagged(errors: int, answered: int) -> bool:
    """Whether `errors` wrong answers in `answered` checks show an error rate above the
    line, at the stated confidence."""
    if answered < FLAG_MIN_ANSWERS:
        return False
    return lower_bound(errors, answered, FLAG_CONFIDENCE) > FLAG_ERROR_RATE


class CanaryScore(BaseModel):
    """One reviewer in one queue (or a whole queue): their answers to known-answer checks."""

    queue: str
    reviewer: str | None = None  # None: the queue's line
    answered: int = 0
    correct: int = 0
    approved_should_reject: int = 0
    expired: int = 0  # nobody answered in time (a queue's line only)
    median_seconds: float | None = None
    accuracy: float | None = None
    flagged: bool = False


class CanaryReport(BaseModel):
    """Every reviewer's and every queue's scores; canaries are in no indicator of real work."""

    reviewers: list[CanaryScore]
    queues: list[CanaryScore]


class _Tally:
    def __init__(self) -> None:
        self.answered = self.correct = self.stamped = self.expired = 0
        self.seconds: list[float] = []

    def add(self, answer: dict[str, object]) -> None:
        if answer["answered"] == "expired":
            self.expired += 1
            return
        self.answered += 1
        self.correct += bool(answer["correct"])
        self.stamped += answer["answered"] == "approved" and answer["expect"] == "reject"
        self.seconds.append(float(str(answer["seconds"])))

    def score(self, queue: str, reviewer: str | None) -> CanaryScore:
        errors = self.answered - self.correct
        return CanaryScore(
            queue=queue,
            reviewer=reviewer,
            answered=self.answered,
            correct=self.correct,
            approved_should_reject=self.stamped,
            expired=self.expired,
            median_seconds=statistics.median(self.seconds) if self.seconds else None,
            accuracy=self.correct / self.answered if self.answered else None,
            flagged=flagged(errors, self.answered),
        )


def canary_report(database: Engine) -> CanaryReport:
    """Every answer to a canary so far, by reviewer and queue, and by queue."""
    by_reviewer: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    by_queue: dict[str, _Tally] = defaultdict(_Tally)
    with database.connect() as connection:
        for event in stream_events(connection, EventFilter(kind=CANARY_ANSWERED)):
            answer, queue = event.event["canary"], event.event["review"]["queue"]
            by_queue[queue].add(answer)
            if answer["answered"] != "expired":
                by_reviewer[(queue, event.event["actor"]["name"])].add(answer)
    return CanaryReport(
        reviewers=[tally.score(q, name) for (q, name), tally in sorted(by_reviewer.items())],
        queues=[tally.score(q, None) for q, tally in sorted(by_queue.items())],
    )
