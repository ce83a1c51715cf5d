Feature: Known-answer checks in review queues
  Authors seed checks whose right answer they know among real reviews. Reviewers cannot tell
  them apart; each answer is counted for or against the reviewer, and a check never acts:
  no agent sees it, no permit, webhook or budget follows from it.

  Background:
    Given a pack with a canary for finance-approvers, one per 3 real reviews, whose right answer is reject
    And a billing agent with a webhook for all its decisions, and a finance reviewer

  Scenario: A canary is seeded, answered wrongly, and counted against the reviewer
    When the agent's 3 refunds wait in finance-approvers
    Then a 4th review waits there, and nothing a reviewer reads tells it from the real ones
    When the reviewer approves every review in the queue
    Then the check counts against the reviewer: 1 answered, 0 right, 1 approved that should have been rejected
    And the answer is on the audit chain, which auditors read
    And the agent sees nothing of the check: no decision, no webhook, no way to proceed
