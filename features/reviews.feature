Feature: Reviewing routed and sampled actions
  A routed action waits for a named reviewer of its queue, within a time box.
  Reviewers claim, approve or reject with a note; the agent's own key and its
  accountable owner never review it; the largest tier-3 actions need two
  different approvers. An approval covers exactly the approved proposal, once.
  Sampled actions picked for audit get a post-hoc verdict.

  Background:
    Given a running gateway with review queues
    And an agent key allowing every action type
    And reviewers "fiona" and "felix" in the finance-approvers group

  Scenario: A reviewer claims a review and others must wait for the lease
    When the agent proposes a 5000 USD refund in production
    And fiona claims the review
    Then the review is claimed by fiona
    And felix claiming the review is refused with claimed_by_other

  Scenario: An approval reaches the waiting agent
    When the agent proposes a 5000 USD refund in production
    And the agent waits for the review
    And fiona approves the review
    Then the agent's wait ends with status approved
    And the audit log records review_approved for the decision

  Scenario: A rejection needs a note, and ends the action
    When the agent proposes a 5000 USD refund in production
    And fiona rejects the review without a note
    Then the step is refused with note_required
    When fiona rejects the review with the note "already refunded on INV-2211"
    Then the decision's status is rejected
    And using the approval is refused with not_approved

  Scenario: Four eyes: the agent's owner may not approve its action
    Given an agent key owned by the reviewer "olga" of the finance-approvers group
    When the agent proposes a 5000 USD refund in production
    And olga approves the review
    Then the step is refused with four_eyes
    And the decision's status is pending_review

  Scenario: The largest tier-3 actions need two different approvers
    When the agent proposes a 20000 USD refund in production
    Then the review needs 2 approvals
    When fiona approves the review
    Then the decision's status is pending_review
    When fiona approves the review
    Then the step is refused with already_approved
    When felix approves the review
    Then the decision's status is approved

  Scenario: Nobody decides in time and the action is denied
    When the agent proposes a 5000 USD refund in production
    And the review's time box runs out
    Then the decision's status is expired
    And the audit log records review_expired for the decision

  Scenario: Nobody decides in time and the review escalates
    Given reviewers "sam" and "sue" in the support-leads group
    When the agent proposes an email to a customer in production
    And the review's time box runs out
    Then the review is in the support-leads queue with a new time box
    And the audit log records review_escalated for the decision
    When sam approves the review
    Then the decision's status is approved

  Scenario: An approval covers exactly the approved proposal, once
    When the agent proposes a 5000 USD refund in production
    And fiona approves the review
    And the agent uses the approval for a 4000 USD refund in production
    Then the step is refused with approval_mismatch
    When the agent uses the approval for a 5000 USD refund in production
    Then the approval is spent
    When the agent uses the approval for a 5000 USD refund in production
    Then the step is refused with approval_used

  Scenario: A sampled action picked for audit gets a post-hoc verdict
    When the agent proposes a 5000 USD refund in sandbox
    Then a post-hoc review is open in the finance-approvers queue
    When fiona finds that it should not have happened, without a note
    Then the step is refused with note_required
    When fiona finds that it should not have happened, noting "customer had no duplicate charge"
    Then the post-hoc review is closed with verdict should_not_have_happened
    And the audit log records review_verdict for the decision
