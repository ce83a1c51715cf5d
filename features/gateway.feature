Feature: Asking the gateway
  Agents ask over HTTP with their own key. The gate answers only once the
  decision's audit record is committed, and a retried request with the same
  idempotency key gets the same decision.

  Background:
    Given a running gateway
    And an agent key allowing every action type

  Scenario: The answer comes with its audit record
    When the agent asks about a 5000 USD refund in production
    Then the gateway answers 201 with outcome route_to_human
    And the audit log holds that decision at the sequence number the answer gives

  Scenario: A retry with the same idempotency key gets the same decision
    When the agent asks twice about an email draft in sandbox with idempotency key "draft-7"
    Then both answers carry the same decision id
    And the audit log holds one decision

  Scenario: Reusing an idempotency key for another proposal is refused
    When the agent asks about an email draft in sandbox with idempotency key "k-1"
    And the agent asks about a 5000 USD refund in production with idempotency key "k-1"
    Then the gateway answers 409 with error idempotency_conflict

  Scenario: When the audit log cannot be written, nothing is decided
    Given the audit log refuses writes
    When the agent asks about an email draft in sandbox
    Then the gateway answers 503 with error audit_unavailable
    And the audit log holds no decision
