"""Calls an MCP proxy holds while a person reviews them, kept in the gate's store so any proxy
replica answers for any of them and a restarted proxy loses nothing."""
