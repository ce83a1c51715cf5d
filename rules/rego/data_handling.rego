# Data leaving its system of record goes only to approved destinations.
package sluicegate.rules.data_handling

import rego.v1

verdicts contains verdict if {
	input.assessment.effect == "export"
	input.proposal.action.environment == "production"
	target := object.get(input.proposal.action, "target", "(none)")
	not target in data.sluicegate.limits.approved_export_targets
	verdict := {
		"rule": "data_handling.unapproved_destination",
		"outcome": "deny",
		"message": sprintf("exports go only to approved destinations; %s is not one", [target]),
	}
}
