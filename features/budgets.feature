Feature: Budgets cap what many small actions add up to
  A per-action limit lets an agent issue forty 900 USD credits; a budget counts them. The
  default pack caps invoice credits at 3,000 USD per agent per rolling 24 hours: past that,
  a credit waits for a person. The count is taken with the decision's record, so requests
  that arrive together cannot overshoot, on SQLite and on PostgreSQL, across two gateways.

  Background:
    Given two gateways on one store with the default rule pack
    And a billing agent

  Scenario: Credits go through until the budget is spent, then wait for a person
    When the agent asks for 5 invoice credits of 500 USD, one after another
    Then 5 of them go through
    When the agent asks for 1 invoice credit of 600 USD, one after another
    Then it waits in the finance-approvers queue
    And the reason names invoice-credits-per-agent, 2,500.00 USD spent and the limit of 3,000.00 USD

  Scenario: A failed credit gives its amount back once its permit can no longer be used
    When the agent asks for 6 invoice credits of 500 USD, one after another
    And the agent reports the first credit failed
    And the agent asks for 1 invoice credit of 500 USD, one after another
    Then it waits in the finance-approvers queue
    When the first credit's permit has expired
    And the agent asks for 1 invoice credit of 500 USD, one after another
    Then it goes through

  Scenario: An approved credit counts when its approval is used
    When the agent asks for 5 invoice credits of 500 USD, one after another
    And the agent asks for 1 invoice credit of 2,000 USD, one after another
    And a finance approver approves it and the agent uses the approval
    And the agent asks for 1 invoice credit of 100 USD, one after another
    Then it waits in the finance-approvers queue

  Scenario: Credits asked for at once never overshoot the budget
    When the agent asks for 20 invoice credits of 500 USD at once, over both gateways
    Then exactly 6 of them go through and 14 wait for a person
    And the budget shows 3000 USD spent by the agent
