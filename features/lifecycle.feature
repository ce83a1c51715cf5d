Feature: Reporting what the agent did
  After acting, the agent reports the outcome with its artifact. An action is
  verified only when the artifact meets its type's definition of done (the
  catalog's done_when). Reporting on an action that was not allowed, or is
  still waiting, is refused and recorded as a violation.

  Background:
    Given a running gateway with review queues
    And an agent key allowing every action type
    And reviewers "fiona" and "felix" in the finance-approvers group

  Scenario: An executed action whose artifact meets the definition of done is verified
    When the agent proposes a CRM contact change in sandbox
    And the agent reports it executed with record_url and updated_fields
    Then the decision's status is verified
    And the audit log records outcome_reported for the decision

  Scenario: An artifact that misses part of the definition of done leaves it executed
    When the agent proposes a CRM contact change in sandbox
    And the agent reports it executed with record_url
    Then the decision's status is executed
    And the report says updated_fields is missing for done

  Scenario: A failed action is failed
    When the agent proposes a CRM contact change in sandbox
    And the agent reports it failed
    Then the decision's status is failed

  Scenario: A verified action that is rolled back is rolled back
    When the agent proposes a CRM contact change in sandbox
    And the agent reports it executed with record_url and updated_fields
    And the agent reports it rolled_back
    Then the decision's status is rolled_back

  Scenario: Reporting on an action still waiting for a human is a violation
    When the agent proposes a 5000 USD refund in production
    And the agent reports it executed with refund_id and amount
    Then the step is refused with outcome_not_permitted
    And the audit log records outcome_violation for the decision
    And the decision's status is pending_review

  Scenario: Reporting on a rejected action is a violation
    When the agent proposes a 5000 USD refund in production
    And fiona rejects the review with the note "not a duplicate"
    And the agent reports it executed with refund_id and amount
    Then the step is refused with outcome_not_permitted
    And the audit log records outcome_violation for the decision

  Scenario: An approved action is reported after its approval is used
    When the agent proposes a 5000 USD refund in production
    And fiona approves the review
    And the agent reports it executed with refund_id and amount
    Then the step is refused with outcome_not_permitted
    When the agent uses the approval for a 5000 USD refund in production
    And the agent reports it executed with refund_id and amount
    Then the decision's status is verified

  Scenario: The same outcome cannot be reported twice
    When the agent proposes a CRM contact change in sandbox
    And the agent reports it executed with record_url and updated_fields
    And the agent reports it executed with record_url and updated_fields
    Then the step is refused with outcome_not_permitted
