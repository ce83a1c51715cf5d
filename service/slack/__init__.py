"""Approvals in Slack: review messages with buttons, and the people who press them."""
