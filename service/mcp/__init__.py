"""The MCP proxy: an MCP server in front of MCP servers, gating every tool call."""
