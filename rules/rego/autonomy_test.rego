package sluicegate.rules.autonomy_test

import rego.v1

import data.sluicegate.rules.autonomy

# regopy cannot replace the whole input (`with input as {...}`); replacing its
# top-level keys works on both engines, so the tests do that.

test_sandbox_tier3_is_sampled if {
	vs := autonomy.verdicts with input.proposal as {"action": {"environment": "sandbox"}}
		with input.assessment as {"risk_tier": 3, "over_limit": false}
	{v.outcome | some v in vs} == {"sample"}
}

test_staging_tier2_is_sampled if {
	vs := autonomy.verdicts with input.proposal as {"action": {"environment": "staging"}}
		with input.assessment as {"risk_tier": 2, "over_limit": false}
	{v.outcome | some v in vs} == {"sample"}
}

test_production_tier3_routes if {
	vs := autonomy.verdicts with input.proposal as {"action": {"environment": "production"}}
		with input.assessment as {"risk_tier": 3, "over_limit": true}
	{v.outcome | some v in vs} == {"route_to_human"}
}

test_production_tier2_over_limit_routes if {
	vs := autonomy.verdicts with input.proposal as {"action": {"environment": "production", "amount": {"value": 5000, "currency": "USD"}}}
		with input.assessment as {"risk_tier": 2, "over_limit": true}
	{v.rule | some v in vs} == {"autonomy.table", "autonomy.over_limit"}
	some v in vs
	v.rule == "autonomy.over_limit"
	v.outcome == "route_to_human"
}

test_production_tier2_under_limit_is_sampled if {
	vs := autonomy.verdicts with input.proposal as {"action": {"environment": "production", "amount": {"value": 50, "currency": "USD"}}}
		with input.assessment as {"risk_tier": 2, "over_limit": false}
	{v.outcome | some v in vs} == {"sample"}
}

test_production_tier0_is_allowed if {
	vs := autonomy.verdicts with input.proposal as {"action": {"environment": "production"}}
		with input.assessment as {"risk_tier": 0, "over_limit": false}
	{v.outcome | some v in vs} == {"allow"}
}
