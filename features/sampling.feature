Feature: Post-hoc sampling that follows the evidence
  An author bounds a post-hoc rate and lets it adapt. The author's rate sets how many sampled
  actions reviewers look at; the evidence decides which: the gate samples more of the action
  types where post-hoc reviewers find actions that should not have happened, and fewer where
  they find none, always within the author's bounds, never more reviews in all, and every
  change on the audit chain with the evidence behind it.

  Background:
    Given a pack whose production tier-1 rate adapts from 50%, between 2% and 100%
    And an agent updating CRM contacts and opportunity stages, and a sales-ops reviewer

  Scenario: The review load moves to where violations are, and back when they stop
    When 30 contact updates are picked for post-hoc review and 10 should not have happened
    And 30 stage updates are picked for post-hoc review and none should not have happened
    Then the contact-update rate rises from 50% to 85.35%
    And the stage-update rate falls from 50% to 2%
    And the contact-update change is on the audit chain with 30 reviewed and 10 violations
    And new contact updates record a rate of 85.35%
    And the review load is at most half of the sampled actions
    When those verdicts leave the window, and 30 more contact updates are reviewed and all were fine
    Then the contact-update rate falls from 85.35% to 50%
    And the stage-update rate rises from 2% to 50%
    And the contact-update change is on the audit chain with 30 reviewed and 0 violations
    And every rate stayed between 2% and 100%
