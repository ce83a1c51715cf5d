Feature: Rework and incidents, traced to their causes
  A rejection says why it happened (an ambiguous spec, a model error, missing context, a
  gap in the rules), and an agent that tries again says which decision it revises. The
  throughput indicators then tell authors how much work was accepted without rework, how
  much needed it, and which rules and action types sit behind ambiguous specs.

  Background:
    Given a running gateway with an agent, a finance approver and an auditor
    And the agent asked for a refund on WI-1, rejected for an ambiguous spec
    And the agent revised it, and the revision was approved
    And the agent asked for a refund on WI-2, approved, and reported it done in 1.5 s
    And the agent asked for a refund on WI-3, rejected as a model error

  Scenario: The indicators count rework and incidents by cause
    When the auditor reads the throughput
    Then the rework rate is 25%
    And accepted without rework is 25%
    And the incidents by cause are ambiguous_spec 1 and model_error 1
    And payments.refund.issue and money.irreversible_over_limit are behind the ambiguous spec
    And the agent computed for 1.5 s at the median
    And the throughput page shows the same

  Scenario: A revision must be of the same agent's decision on the same work item
    When the agent revises the WI-1 decision for work item WI-9
    Then it is refused as an invalid revision
    When another agent revises the WI-1 decision
    Then it is refused as an invalid revision
