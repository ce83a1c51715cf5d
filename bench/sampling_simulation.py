"""Does adaptive post-hoc sampling let fewer violations go unreviewed than fixed rates, at no
more review load? A seeded simulation of the allocation the gateway uses
(`policy.sampling.adaptive_rates`), with the service's evidence (verdicts of a rolling window,
each standing for 1 / the rate its action was picked at).

The stream: 60 days of 20 action types of one environment and tier, with the volumes and
violation rates below (most types rarely go wrong, as most work is fine). On day 30 one type's
violation rate jumps from 1 % to 20 %. Every action is sampled; each is picked for a post-hoc
review at its type's current rate, and the reviewer's verdict arrives a day later (post-hoc
reviewers are not instant). Two ways to pick:

- fixed: the author's rate for every type (5 %, the default pack's tier-1 rate);
- adaptive: the same author rate made adaptive, {rate: 0.05, min: 0.01, max: 1.0}, with the
  pack's default window (30 days), recomputed every hour (the worker ticks every minute).

Measured: the violations that were never picked for review, and the reviews done (the load),
over the whole stream and after the jump. The same random stream (actions, violations, and
each action's pick draw) is used for both ways, so the difference is the rates alone.

Then the spread over seeds, with the others' violation rates lower and higher: the less the
others go wrong, the more of the violations are the jumper's, and the more there is to gain.

    python -m bench.sampling_simulation [--seed 26] [--seeds 10] [--others-rate 0.003]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta

from policy.pack_data import AdaptiveRate, AdaptiveSampling
from policy.sampling import Evidence, adaptive_rates

DAYS = 60
JUMP_DAY = 30
HOURS = 24
VERDICT_DELAY_HOURS = 24
WINDOW_HOURS = 30 * 24
FIXED = 0.05
BOUNDS = AdaptiveRate(rate=FIXED, min=0.01, max=1.0)
HOW = AdaptiveSampling(window=timedelta(hours=WINDOW_HOURS))
JUMPER = "type-07"
# Actions a day: a few busy types, more ordinary ones, a tail of rare ones.
VOLUMES = [2000] * 4 + [500] * 8 + [100] * 8


@dataclass
class Way:
    """One way of picking: its rates now, the verdicts it has, and its tallies."""

    adaptive: bool
    rates: dict[str, float]
    verdicts: deque[tuple[int, str, bool, float]] = field(default_factory=deque)
    pending: deque[tuple[int, str, bool, float]] = field(default_factory=deque)
    reviewed: list[int] = field(default_factory=lambda: [0, 0])  # [before, after the jump]
    missed: list[int] = field(default_factory=lambda: [0, 0])
    violations: list[int] = field(default_factory=lambda: [0, 0])
    # per type, the window's verdicts: [reviewed, violations, actions they stand for]
    window: dict[str, list[float]] = field(default_factory=dict)

    def act(self, hour: int, action_type: str, violated: bool, draw: float) -> None:
        rate = self.rates[action_type]
        half = hour >= JUMP_DAY * HOURS
        self.violations[half] += violated
        if draw < rate:
            self.reviewed[half] += 1
            self.pending.append((hour + VERDICT_DELAY_HOURS, action_type, violated, rate))
        else:
            self.missed[half] += violated

    def learn(self, hour: int) -> None:
        """Take the verdicts that arrived, drop those past the window, recompute."""
        while self.pending and self.pending[0][0] <= hour:
            verdict = self.pending.popleft()
            self.verdicts.append(verdict)
            self._count(verdict, 1)
        while self.verdicts and self.verdicts[0][0] <= hour - WINDOW_HOURS:
            self._count(self.verdicts.popleft(), -1)
        if self.adaptive:
            seen = {name: Evidence(int(r), int(v), a) for name, (r, v, a) in self.window.items()}
            self.rates |= adaptive_rates(BOUNDS, HOW, seen)

    def _count(self, verdict: tuple[int, str, bool, float], sign: int) -> None:
        _, action_type, violated, rate = verdict
        tally = self.window.setdefault(action_type, [0.0, 0.0, 0.0])
        tally[0] += sign
        tally[1] += sign * violated
        tally[2] += sign / rate
        if tally[0] == 0:
            del self.window[action_type]


def violation_rates(rng: random.Random, others: float) -> dict[str, float]:
    """Every type's violation rate before the jump: the jumper 1 %, the others spread
    log-uniformly over a tenth to twice `others`."""
    rates = {}
    for index in range(len(VOLUMES)):
        name = f"type-{index:02d}"
        rates[name] = 0.01 if name == JUMPER else others * 10 ** rng.uniform(-1, 0.301)
    return rates


def simulate(seed: int, others: float) -> tuple[Way, Way]:
    rng = random.Random(seed)
    violation = violation_rates(rng, others)
    types = list(violation)
    fixed = Way(adaptive=False, rates=dict.fromkeys(types, FIXED))
    adaptive = Way(adaptive=True, rates=dict.fromkeys(types, FIXED))
    for hour in range(DAYS * HOURS):
        if hour == JUMP_DAY * HOURS:
            violation[JUMPER] = 0.20
        for way in (fixed, adaptive):
            way.learn(hour)
        for action_type, per_day in zip(types, VOLUMES, strict=True):
            for _ in range(_poisson(rng, per_day / HOURS)):
                violated = rng.random() < violation[action_type]
                draw = rng.random()  # the same pick draw for both ways
                fixed.act(hour, action_type, violated, draw)
                adaptive.act(hour, action_type, violated, draw)
    return fixed, adaptive


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count by inversion (means here are small)."""
    threshold, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def ratios(fixed: Way, adaptive: Way, halves: tuple[int, ...]) -> tuple[float, float]:
    """How many times fewer violations adaptive left unreviewed, and its load over fixed's."""
    fewer = sum(fixed.missed[h] for h in halves) / max(1, sum(adaptive.missed[h] for h in halves))
    load = sum(adaptive.reviewed[h] for h in halves) / sum(fixed.reviewed[h] for h in halves)
    return fewer, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--seeds", type=int, default=10, help="seeds in the spread")
    parser.add_argument(
        "--others-rate", type=float, default=0.003, help="typical violation rate of the others"
    )
    args = parser.parse_args()
    fixed, adaptive = simulate(args.seed, args.others_rate)
    print(
        f"Seed {args.seed}; {len(VOLUMES)} types, {sum(VOLUMES):,} actions a day for {DAYS} "
        f"days; {JUMPER} jumps from 1 % to 20 % violations on day {JUMP_DAY}; the others "
        f"around {args.others_rate:.2%}."
    )
    print(f"{'':<34} {'violations':>10} {'unreviewed':>11} {'reviews (load)':>15}")
    for span, halves in (("whole stream", (0, 1)), ("after the jump", (1,))):
        for name, way in (("fixed 5 %", fixed), ("adaptive", adaptive)):
            total = sum(way.violations[h] for h in halves)
            missed = sum(way.missed[h] for h in halves)
            load = sum(way.reviewed[h] for h in halves)
            print(f"{span + ', ' + name:<34} {total:>10} {missed:>11} {load:>15,}")
        fewer, load_ratio = ratios(fixed, adaptive, halves)
        print(f"{span}: {fewer:.1f}x fewer unreviewed violations at {load_ratio:.3f}x the load")
    print(f"{JUMPER}'s adaptive rate at the end: {adaptive.rates[JUMPER]:.0%}")
    print(f"\nWhole stream over seeds 1-{args.seeds} (min / median / max):")
    for others in (0.001, 0.003, 0.01):
        runs = [ratios(*simulate(seed, others), (0, 1)) for seed in range(1, args.seeds + 1)]
        fewers = sorted(run[0] for run in runs)
        loads = sorted(run[1] for run in runs)
        print(
            f"  others around {others:.1%}: {fewers[0]:.1f} / {statistics.median(fewers):.1f} / "
            f"{fewers[-1]:.1f}x fewer unreviewed, at {loads[0]:.3f} / "
            f"{statistics.median(loads):.3f} / {loads[-1]:.3f}x the load"
        )


if __name__ == "__main__":
    main()
