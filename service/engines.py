"""Building a gate from the settings: the configured Rego backend (embedded, or the OPA
sidecar) beside the pack's Python rules, with the decision's time box."""

from __future__ import annotations

from policy.backends import BackendOptions, backends_for
from policy.gate import Gate
from policy.rule_pack import RulePack
from policy.sampling import RateSource
from service.settings import Settings

# The time box of a replayed evaluation, in ms (the longest the settings allow).
REPLAY_BUDGET_MS = 10_000


def backend_options(settings: Settings) -> BackendOptions:
    """What the evaluation backends are configured with, from the gateway's settings."""
    return BackendOptions(
        timeout_seconds=settings.decision_budget_ms / 1000,
        opa_url=str(settings.opa_url),
        opa_token=settings.opa_token.get_secret_value() if settings.opa_token else None,
        opa_bundle=settings.opa_bundle,
        opa_push=settings.opa_mode == "push",
    )


def build_gate(settings: Settings, pack: RulePack, *, rates: RateSource | None = None) -> Gate:
    """A gate over the pack with the configured Rego backend and the pack's Python rules;
    post-hoc rates from `rates` (adaptive ones: service/sampling/), else the author's."""
    return Gate(
        pack,
        backends_for(pack, settings.rego_backend, backend_options(settings)),
        budget_seconds=settings.decision_budget_ms / 1000,
        workers=settings.eval_workers,
        rates=rates,
    )


def replay_gate(settings: Settings, pack: RulePack) -> Gate:
    """A gate over the pack on the embedded engine, whatever the gateway uses: replays
    (rules impact, shadow) need no sidecar serving the candidate. Nobody waits on a replay,
    so it gets the longest time box: a busy machine must not turn an evaluation into a
    fail-closed answer and report it as a change."""
    replaying = {"rego_backend": "rego-embedded", "decision_budget_ms": REPLAY_BUDGET_MS}
    return build_gate(settings.model_copy(update=replaying), pack)
