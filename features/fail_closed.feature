Feature: Failing closed
  When anything is unclear the gate never allows: it routes to a named human
  queue, or denies where the rule data says so, and says why.

  Background:
    Given an agent whose key allows every action type

  Scenario: An unknown action type goes to the exceptions queue
    When it proposes an unknown action in production
    Then the outcome is route_to_human
    And the decision fails closed because of unknown_action_type
    And the review is in the policy-exceptions queue, with deny on timeout

  Scenario: A missing field the catalog requires
    When it proposes a refund without a work item in sandbox
    Then the outcome is route_to_human
    And the decision fails closed because of missing_required_field

  Scenario: Confidence under the floor
    When it proposes a low-confidence CRM change in sandbox
    Then the outcome is route_to_human
    And the decision fails closed because of low_confidence

  Scenario: Two sources disagree about the same field
    When it proposes contradictory CRM changes in sandbox
    Then the outcome is route_to_human
    And the decision fails closed because of contradictory_sources

  Scenario: A Python rule that crashes
    Given a rule pack with a Python rule that raises
    When it proposes an email draft in sandbox
    Then the outcome is route_to_human
    And the decision fails closed because of engine_error

  Scenario: A rule that takes longer than the time budget
    Given a rule pack with a Python rule that takes two seconds
    When it proposes an email draft in sandbox
    Then the outcome is route_to_human
    And the decision fails closed because of engine_timeout

  Scenario: An agent acting outside the scope of its key is denied
    Given an agent whose key allows only "crm.*"
    When it proposes a 5000 USD refund in production
    Then the outcome is deny
    And the decision fails closed because of agent_out_of_scope

  Scenario: Rule data may turn a cause into a denial
    Given a rule pack where contradictory sources deny
    When it proposes contradictory CRM changes in sandbox
    Then the outcome is deny
    And the decision fails closed because of contradictory_sources
