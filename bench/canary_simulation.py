"""Does the canary flag rule tell a rubber stamp from a careful reviewer? A seeded simulation
of the rule the gateway uses (`service.canaries.scores.flagged`), on the seeder's rotation.

A queue's canaries are seeded in the order the pack lists them (service/canaries/seeder.py),
so the share of should-reject checks a reviewer meets is the pack's mix. Three reviewers
share the queue; each seeded canary goes to one of them at random, so the reviewer measured
meets a random third of the rotation. Two mixes: three should-reject checks in four (what
docs/authors.md recommends) and one in two (the least a pack should have).

- A rubber stamp approves everything: wrong on every should-reject check. Measured: how many
  checks they answer before the rule flags them (median, 99th percentile, and the share
  flagged within 10).
- A careful reviewer is wrong on 2 % of checks, either way. A simulated month is the most
  checks one reviewer can get: 22 working days at the pack's default daily most (5), with
  the score read after every answer (the page and /metrics show it live). Measured: the
  share of months in which the rule flags them at any point.

    python -m bench.canary_simulation [--seed 26] [--runs 20000]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Callable, Iterator

from service.canaries.scores import (
    FLAG_CONFIDENCE,
    FLAG_ERROR_RATE,
    FLAG_MIN_ANSWERS,
    flagged,
)

REVIEWERS = 3
MONTH = 22 * 5  # working days x the pack's default max_per_reviewer_per_day
CAREFUL_ERRORS = 0.02
MOST = 500  # checks a stamp is followed for before it counts as never flagged
MIXES = {"3 of 4 should-reject": "RRRA", "1 of 2 should-reject": "RA"}

# Whether a reviewer answers a check wrongly, given what it should be ("R" or "A").
Reviewer = Callable[[str, random.Random], bool]


def rubber_stamp(expect: str, rng: random.Random) -> bool:
    return expect == "R"  # approves everything


def careful(expect: str, rng: random.Random) -> bool:
    return rng.random() < CAREFUL_ERRORS


def checks_met(rotation: str, rng: random.Random) -> Iterator[str]:
    """The checks this reviewer meets, in order: the rotation goes on while the other
    reviewers take theirs."""
    position = rng.randrange(len(rotation))
    while True:
        position = (position + 1) % len(rotation)
        if rng.random() < 1 / REVIEWERS:
            yield rotation[position]


def answers_until_flagged(
    reviewer: Reviewer, rotation: str, rng: random.Random, most: int
) -> int | None:
    """How many checks the reviewer answers before the rule flags them (None: not within
    `most`)."""
    errors = 0
    met = checks_met(rotation, rng)
    for answered in range(1, most + 1):
        errors += reviewer(next(met), rng)
        if flagged(errors, answered):
            return answered
    return None


def percentile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(
        f"Rule: flagged when, after at least {FLAG_MIN_ANSWERS} answers, the Wilson lower "
        f"bound ({FLAG_CONFIDENCE:.0%}) of the error rate is above {FLAG_ERROR_RATE:.0%}. "
        f"Seed {args.seed}, {args.runs:,} runs each, {REVIEWERS} reviewers share the queue."
    )
    print(f"{'canary mix':<22} {'stamp: median':>14} {'p99':>5} {'within 10':>10} "
          f"{'careful: months flagged':>24}")  # fmt: skip
    for name, rotation in MIXES.items():
        stamp = [
            answers_until_flagged(rubber_stamp, rotation, rng, MOST) or MOST + 1
            for _ in range(args.runs)
        ]
        months = [
            answers_until_flagged(careful, rotation, rng, MONTH) is not None
            for _ in range(args.runs)
        ]
        within = sum(n <= 10 for n in stamp) / len(stamp)
        print(
            f"{name:<22} {statistics.median(stamp):>14.0f} {percentile(stamp, 0.99):>5} "
            f"{within:>10.2%} {sum(months) / len(months):>24.2%}"
        )


if __name__ == "__main__":
    main()
