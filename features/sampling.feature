Feature: Post-hoc sampling that follows the evidence
  An author bounds a post-hoc rate and lets it adapt. The gate then samples each action type
  at a rate that follows what post-hoc reviewers find: more where actions should not have
  happened, fewer where thousands were fine, always within the author's bounds, and every
  change on the audit chain with the evidence behind it.

  Background:
    Given a pack whose production tier-1 rate adapts from 50%, between 2% and 100%
    And an agent updating CRM contacts, and a sales-ops reviewer

  Scenario: A rate rises after violations and falls back after clean verdicts
    When 30 contact updates are picked for post-hoc review and 10 should not have happened
    Then the contact-update rate rises from 50% to 100%
    And the change is on the audit chain with 30 reviewed and 10 violations
    And new contact updates record a rate of 100%
    When those verdicts leave the window, and 30 more are reviewed and all were fine
    Then the contact-update rate falls from 100% to 22.7%
    And the change is on the audit chain with 30 reviewed and 0 violations
    And every rate stayed between 2% and 100%
