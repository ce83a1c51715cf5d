"""Signed webhooks (Standard Webhooks): registered by agents, fed by an outbox, retried."""
