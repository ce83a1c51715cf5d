"""The rule pack's data (catalog, limits, queues, sampling, canaries), validated when the pack
loads."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policy.masking import pointer_tokens
from policy.outcome import Outcome
from policy.proposal import Environment, Proposal

Rate = Annotated[float, Field(ge=0, le=1)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Effect(StrEnum):
    """What an action does to the world, from the least to the most consequential."""

    READ = "read"
    DRAFT = "draft"
    WRITE = "write"
    SEND = "send"
    TRANSFER = "transfer"
    DEPLOY = "deploy"
    EXPORT = "export"


class Reversibility(StrEnum):
    """Whether the action can be undone; the catalog's word overrides the agent's claim."""

    REVERSIBLE = "reversible"
    IRREVERSIBLE = "irreversible"


class TimeoutAction(StrEnum):
    """What happens to a review nobody resolved in time."""

    DENY = "deny"
    ESCALATE = "escalate"


class CatalogEntry(_Data):
    """One action type the organisation knows, with its owner and what a proposal must carry."""

    description: str
    effect: Effect
    reversibility: Reversibility
    customer_facing: bool = False
    owner_queue: str
    sla: timedelta | None = None  # overrides the queue's SLA for this action type
    required_fields: list[str] = []  # dotted paths into the proposal, e.g. "action.amount"
    # The definition of done: dotted paths the reported artifact must carry for an executed
    # action to count as verified. Empty: nothing verifies it; it stays `executed`.
    done_when: list[str] = []


class Queue(_Data):
    """A named review queue: an owner with a time box."""

    description: str
    sla: timedelta
    on_timeout: TimeoutAction = TimeoutAction.DENY
    escalate_to: str | None = None
    # Who may work the queue: principal names, or `group:<name>` for every reviewer whose key
    # carries that scope. Nobody else may claim or resolve its reviews (an empty list: nobody).
    reviewers: tuple[str, ...] = ()
    # A Slack channel (id or #name) where its blocking reviews are posted with Approve and
    # Reject buttons (docs/slack.md); none: the queue is worked on the page and the API only.
    slack_channel: str | None = Field(default=None, min_length=1, max_length=80)

    @model_validator(mode="after")
    def _escalation_has_target(self) -> Queue:
        if (self.on_timeout is TimeoutAction.ESCALATE) != (self.escalate_to is not None):
            raise ValueError("escalate_to is required with on_timeout=escalate, and only then")
        return self


class Limits(_Data):
    """Thresholds of autonomy."""

    autonomous_limit: dict[str, float]  # by ISO currency; an unlisted currency counts as over
    confidence_floor: Rate
    regulated_data_classes: frozenset[str] = frozenset({"phi", "financial"})
    personal_data_classes: frozenset[str] = frozenset({"pii"})
    bulk_change_threshold: int = Field(default=50, ge=1)
    approved_export_targets: frozenset[str] = frozenset()
    # Tier-3 actions moving more than this (per currency; an unlisted currency counts as over)
    # need two distinct approvers. Empty: one approver is always enough.
    two_approver_limit: dict[str, float] = {}


class FailClosedPolicy(_Data):
    """Where fail-closed decisions go, and which causes deny instead of routing to a human."""

    queue: str
    outcomes: dict[str, Outcome] = {}

    @model_validator(mode="after")
    def _never_permissive(self) -> FailClosedPolicy:
        permissive = {c for c, o in self.outcomes.items() if o in (Outcome.ALLOW, Outcome.SAMPLE)}
        if permissive:
            raise ValueError(f"fail-closed causes may only route or deny: {sorted(permissive)}")
        return self


class BudgetScope(StrEnum):
    """Whose spending a budget adds up."""

    AGENT = "agent"  # each agent on its own
    OWNER = "owner"  # every agent of one accountable owner together (an agent without one: alone)


class Budget(_Data):
    """A cumulative limit over a rolling window: money per currency, or a count of actions.

    It counts what agents were let do (allow and sample when decided, an approval when used)
    among the actions it matches; an action that would pass the limit gets `when_exceeded`."""

    description: str = ""
    per: BudgetScope = BudgetScope.AGENT
    window: timedelta
    # Which actions count: action types (globs, e.g. "email.*"), effects, customer-facing
    # only. Every condition given must hold; none given: every action.
    action_types: tuple[str, ...] = ()
    effects: tuple[Effect, ...] = ()
    customer_facing: bool | None = None
    # Exactly one: money per currency (an action in an unlisted currency counts as over), or
    # a count of actions.
    limit: dict[str, Annotated[float, Field(gt=0)]] | None = None
    count: int | None = Field(default=None, ge=1)
    when_exceeded: Outcome = Outcome.ROUTE_TO_HUMAN

    @model_validator(mode="after")
    def _one_measure_and_a_stopping_outcome(self) -> Budget:
        if (self.limit is None) == (self.count is None):
            raise ValueError("a budget has either a money `limit` or a `count`, not both")
        if self.when_exceeded not in (Outcome.ROUTE_TO_HUMAN, Outcome.DENY):
            raise ValueError("when_exceeded is route_to_human or deny")
        if self.window <= timedelta(0):
            raise ValueError("the window must be longer than zero")
        return self


class AdaptiveRate(_Data):
    """A post-hoc rate that follows the evidence within the author's bounds: `rate` sets the
    review load, the evidence decides which action types it goes to (policy/sampling.py)."""

    rate: Rate
    min: Rate
    max: Rate
    adapt: bool = True

    @model_validator(mode="after")
    def _within_bounds(self) -> AdaptiveRate:
        if not self.min <= self.rate <= self.max:
            raise ValueError("an adaptive rate needs min <= rate <= max")
        return self


class AdaptiveSampling(_Data):
    """How adaptive rates learn: from the post-hoc verdicts of the last `window`, ranking
    action types by the highest violation rate their verdicts cannot rule out (the Wilson
    upper bound at `confidence`); with fewer than `min_reviews` verdicts in an environment
    and tier, the author's rates stand."""

    window: timedelta = timedelta(days=30)
    confidence: Annotated[float, Field(ge=0.5, le=0.999)] = 0.95
    min_reviews: Annotated[int, Field(ge=1)] = 20


class Sampling(_Data):
    """Post-hoc audit rates by environment and tier (a number is fixed; a mapping with `min`,
    `max` and `adapt` follows the evidence), and how adaptive ones learn (`adaptive:`)."""

    rates: dict[Environment, dict[int, Rate | AdaptiveRate]]
    adaptive: AdaptiveSampling = AdaptiveSampling()

    @model_validator(mode="before")
    @classmethod
    def _from_the_file(cls, value: Any) -> Any:
        """sampling.yaml names environments at its top, beside `adaptive`."""
        if isinstance(value, dict) and "rates" not in value:
            rates = {k: v for k, v in value.items() if k != "adaptive"}
            return {"rates": rates} | (
                {"adaptive": value["adaptive"]} if "adaptive" in value else {}
            )
        return value

    def rate(self, environment: Environment, risk_tier: int) -> Rate | AdaptiveRate | None:
        """The author's rate for a tier in an environment; None when there is none."""
        return self.rates.get(environment, {}).get(risk_tier)


class CanaryQueue(_Data):
    """How often a queue gets a canary: one per `every` real reviews, and no reviewer asked
    more than `max_per_reviewer_per_day` in a day."""

    every: Annotated[int, Field(ge=1)]
    max_per_reviewer_per_day: Annotated[int, Field(ge=0)] = 5


class Canary(_Data):
    """A known-answer review: a proposal as an agent would send it, the queue it goes to, the
    agent shown as proposing it, and the right verdict with why."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    queue: str
    agent: Annotated[str, Field(min_length=1, max_length=128)]
    expect: Literal["approve", "reject"]
    why: Annotated[str, Field(min_length=1, max_length=2000)]
    proposal: dict[str, Any]

    @model_validator(mode="after")
    def _proposal_is_one(self) -> Canary:
        Proposal.model_validate(self.proposal)  # raises what makes it not one
        return self


class CanarySettings(_Data):
    """Whether a reviewer is told, after the verdict, that it was a check and why."""

    reveal_after_verdict: bool = False


class Canaries(_Data):
    """canaries.yaml: known-answer reviews seeded among real ones, and how often per queue."""

    settings: CanarySettings = CanarySettings()
    queues: dict[str, CanaryQueue] = {}
    canaries: tuple[Canary, ...] = ()

    def of(self, canary_id: str) -> Canary | None:
        """The canary with this id, if the pack still has it."""
        return next((c for c in self.canaries if c.id == canary_id), None)

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Canaries:
        ids = [canary.id for canary in self.canaries]
        if len(ids) != len(set(ids)):
            raise ValueError("two canaries have the same id")
        return self


class PackData(_Data):
    """Everything the rule pack's data files hold, as one validated value."""

    catalog: dict[str, CatalogEntry]
    limits: Limits
    queues: dict[str, Queue]
    autonomy: dict[Environment, dict[int, Outcome]]
    sampling: Sampling
    fail_closed: FailClosedPolicy
    # JSON pointers into the proposal whose values never reach the audit log (policy/masking.py).
    masking: tuple[str, ...] = ()
    # Cumulative limits per agent or owner (policy/budgets.py), by name.
    budgets: dict[str, Budget] = {}
    # Known-answer reviews seeded into queues (service/canaries/).
    canaries: Canaries = Canaries()

    def time_box(self, queue: str, action_type: str | None = None) -> timedelta:
        """How long a review in `queue` may take: the action type's own `sla` from the catalog,
        else the queue's. Blocking and post-hoc reviews both take it from here."""
        entry = self.catalog.get(action_type) if action_type is not None else None
        if entry is not None and entry.sla is not None:
            return entry.sla
        return self.queues[queue].sla

    @model_validator(mode="after")
    def _mask_paths_are_pointers(self) -> PackData:
        for pointer in self.masking:
            pointer_tokens(pointer)  # raises ValueError, which pydantic reports with the path
        return self

    @model_validator(mode="after")
    def _queues_exist(self) -> PackData:
        named = {entry.owner_queue for entry in self.catalog.values()} | {self.fail_closed.queue}
        named |= {q.escalate_to for q in self.queues.values() if q.escalate_to}
        named |= set(self.canaries.queues) | {canary.queue for canary in self.canaries.canaries}
        missing = named - self.queues.keys()
        if missing:
            raise ValueError(f"queues named but not defined: {sorted(missing)}")
        return self
