Feature: The autonomy table
  What an agent may do on its own depends on the risk tier of the action and
  the environment it acts in. Tiers come from the action catalog: reads and
  drafts are tier 0; irreversible actions with money over the limit or customer
  impact, and regulated data, are tier 3; customer-facing actions, money and
  personal data are tier 2; the rest is tier 1.

  Scenario Outline: <example> in <environment> is <outcome>
    Given an agent whose key allows every action type
    When it proposes <example> in <environment>
    Then the outcome is <outcome>
    And the risk tier is <tier>

    Examples:
      | example                       | environment | tier | outcome        |
      | a CRM lookup                  | sandbox     | 0    | allow          |
      | a CRM contact change          | sandbox     | 1    | allow          |
      | a ticket change with PII      | sandbox     | 2    | allow          |
      | a 5000 USD refund             | sandbox     | 3    | sample         |
      | a CRM lookup                  | staging     | 0    | allow          |
      | a CRM contact change          | staging     | 1    | allow          |
      | a ticket change with PII      | staging     | 2    | sample         |
      | a 5000 USD refund             | staging     | 3    | route_to_human |
      | a CRM lookup                  | production  | 0    | allow          |
      | a CRM contact change          | production  | 1    | sample         |
      | a ticket change with PII      | production  | 2    | sample         |
      | a 5000 USD refund             | production  | 3    | route_to_human |
      | a 2500 USD credit note        | production  | 2    | route_to_human |
      | a 200 USD credit note         | production  | 2    | sample         |

  Scenario: A large refund waits for the finance approvers
    Given an agent whose key allows every action type
    When it proposes a 5000 USD refund in production
    Then the outcome is route_to_human
    And the review is in the finance-approvers queue, with deny on timeout
    And the reasons include money.irreversible_over_limit

  Scenario: A sampled action carries a deterministic sample
    Given an agent whose key allows every action type
    When it proposes a CRM contact change in production
    Then the outcome is sample
    And the sample rate is 0.05
    And deciding the same decision id again selects the same way
