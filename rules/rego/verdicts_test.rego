package sluicegate.verdicts_test

import rego.v1

import data.sluicegate

test_verdicts_unite_every_rule_family if {
	vs := sluicegate.verdicts with input.proposal as {"action": {"environment": "production", "target": "dropbox://personal"}}
		with input.assessment as {"effect": "export", "risk_tier": 3, "over_limit": false}
	rules := {v.rule | some v in vs}
	rules == {"autonomy.table", "data_handling.unapproved_destination"}
}
