"""Generated proposals: the embedded engine (regorus) and OPA decide every one alike.

The cases and examples cover what authors thought of; these cover the combinations they did
not: every action type (and an unknown one) in every environment, amounts on and around the
limits in the limits' currencies and others, data classes, export targets, bulk changes,
confidence around its floor, with and without the fields each action requires. Hypothesis is
derandomised, so a run is repeatable; a divergence fails with the proposal and both decisions.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.gate import Gate
from policy.proposal import Proposal
from policy.rule_pack import load_rule_pack
from tests.fixtures import RULES
from tests.policy.agreement import AGENT, ENVIRONMENTS, divergence

_PACK = load_rule_pack(RULES)
ACTION_TYPES = (*sorted(_PACK.data.catalog), "crm.opportunity.teleport")
CURRENCIES = (*sorted(_PACK.data.limits.autonomous_limit), "JPY")
_LIMITS = sorted(
    {
        *_PACK.data.limits.autonomous_limit.values(),
        *_PACK.data.limits.two_approver_limit.values(),
    }
)
DATA_CLASSES = ("pii", "financial", "phi", "public", "internal")
TARGETS = (*sorted(_PACK.data.limits.approved_export_targets), "dropbox://personal", "prod-eu")
EXAMPLES = 1000

# Amounts on each limit, a cent either side, and anywhere from nothing to far above.
_amount_values = st.one_of(
    st.sampled_from(_LIMITS).flatmap(lambda v: st.sampled_from((v - 0.01, v, v + 0.01))),
    st.integers(min_value=0, max_value=50_000).map(float),
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
)
_change_values = st.fixed_dictionaries(
    {"field": st.just("title")},
    optional={
        "to": st.sampled_from(("VP", "CFO", None, 3)),
        "source": st.sampled_from(("call/1", "email/2")),
    },
)


@st.composite
def proposals(draw: st.DrawFn) -> Proposal:
    """A proposal; nine in ten carry every field their action type requires, so the rules run
    (a proposal missing one is routed before any engine sees it)."""
    action_type = draw(st.sampled_from(ACTION_TYPES))
    entry = _PACK.data.catalog.get(action_type)
    required = set(entry.required_fields if entry else ()) if draw(st.integers(0, 9)) else set()
    action: dict[str, Any] = {
        "type": action_type,
        "environment": draw(st.sampled_from(ENVIRONMENTS)),
        "data_classes": draw(st.lists(st.sampled_from(DATA_CLASSES), unique=True)),
    }
    if "action.amount" in required or draw(st.booleans()):
        action["amount"] = {
            "value": draw(_amount_values),
            "currency": draw(st.sampled_from(CURRENCIES)),
        }
    if "action.target" in required or draw(st.booleans()):
        action["target"] = draw(st.sampled_from(TARGETS))
    body: dict[str, Any] = {"action": action}
    sizes = (1, 2, _PACK.data.limits.bulk_change_threshold + 1)
    size = draw(st.sampled_from(sizes if "changes" in required else (0, *sizes)))
    # Distinct records, unless drawn otherwise: two changes to one field may contradict.
    records = 1 if draw(st.integers(0, 9)) == 0 else size
    body["changes"] = [
        {"record": f"contact/{i % records}", **draw(_change_values)} for i in range(size)
    ]
    if "confidence" in required or draw(st.booleans()):
        floor = _PACK.data.limits.confidence_floor
        body["confidence"] = draw(st.sampled_from((0.0, floor - 0.01, floor, 0.9, 1.0)))
    if "justification" in required or draw(st.booleans()):
        body["justification"] = "generated"
    if "work_item" in required or draw(st.booleans()):
        body["work_item"] = {"id": "WI-1", "type": "billing-dispute"}
    return Proposal.model_validate(body)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(proposal=proposals())
def test_generated_proposals_decide_alike(
    proposal: Proposal, both_gates: tuple[Gate, Gate]
) -> None:
    embedded, opa = (gate.decide(proposal, AGENT) for gate in both_gates)
    report = divergence(proposal, embedded, opa)
    assert report is None, report
