package sluicegate.rules.data_handling_test

import rego.v1

import data.sluicegate.rules.data_handling

test_export_to_unapproved_target_is_denied if {
	vs := data_handling.verdicts with input.proposal as {"action": {"environment": "production", "target": "dropbox://personal"}}
		with input.assessment as {"effect": "export"}
	some v in vs
	v.outcome == "deny"
}

test_export_to_approved_target_passes if {
	vs := data_handling.verdicts with input.proposal as {"action": {"environment": "production", "target": "warehouse.internal"}}
		with input.assessment as {"effect": "export"}
	count(vs) == 0
}

test_sandbox_exports_are_not_checked if {
	vs := data_handling.verdicts with input.proposal as {"action": {"environment": "sandbox", "target": "dropbox://personal"}}
		with input.assessment as {"effect": "export"}
	count(vs) == 0
}
