Feature: The impact of a rule change, before it is made
  A compliance author replays the decisions the gate has recorded with a candidate rule
  pack, to see what would change, for which rules and which queues, before activating it.
  The active pack, replayed the same way, must reproduce what was recorded.

  Background:
    Given a gateway that has decided a day of invoice credits and other actions
    And an author

  Scenario: Lowering the autonomous limit sends more credits to finance
    When the author replays the day with the USD autonomous limit at 500
    Then 2 decisions change from sample to route_to_human
    And the rules behind the changes include autonomy.over_limit
    And the finance-approvers queue gets 2 more reviews a day
    And the active pack reproduces every replayed decision
    And no decision is unreplayable

  Scenario: Raising it lets more through without a person
    When the author replays the day with the USD autonomous limit at 2000
    Then 1 decision changes from route_to_human to sample
    And the finance-approvers queue gets 1 fewer review a day
    And the active pack reproduces every replayed decision

  Scenario: The same pack changes nothing
    When the author replays the day with the USD autonomous limit at 1000
    Then no decision changes
    And the active pack reproduces every replayed decision
