# The autonomy table (data.sluicegate.autonomy): what each risk tier may do in
# each environment, plus the production rule for tier 2 above the money limit.
package sluicegate.rules.autonomy

import rego.v1

environment := input.proposal.action.environment

tier := input.assessment.risk_tier

verdicts contains verdict if {
	outcome := data.sluicegate.autonomy[environment][format_int(tier, 10)]
	verdict := {
		"rule": "autonomy.table",
		"outcome": outcome,
		"message": sprintf("risk tier %d in %s: %s", [tier, environment, outcome]),
	}
}

verdicts contains verdict if {
	environment == "production"
	tier == 2
	input.assessment.over_limit
	amount := input.proposal.action.amount
	verdict := {
		"rule": "autonomy.over_limit",
		"outcome": "route_to_human",
		"message": sprintf("%v %s is above the autonomous limit for production", [amount.value, amount.currency]),
	}
}
