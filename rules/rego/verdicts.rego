# The entry point both Rego engines query: every verdict of every Rego rule.
package sluicegate

import rego.v1

verdicts := data.sluicegate.rules.autonomy.verdicts | data.sluicegate.rules.data_handling.verdicts
