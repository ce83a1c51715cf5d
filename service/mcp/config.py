"""The proxy's configuration (YAML), and how a tool call becomes a proposal.

Values in a tool's mapping that start with `$.` are JSONPath (RFC 9535) into the call's
arguments; others are literals. The arguments also become the proposal's `changes` (record
`<upstream>/<tool>`, field = argument name, to = value), so a reviewer sees what will run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jsonpath import JSONPathEnvironment
from pydantic import BaseModel, ConfigDict, Field, model_validator

_PATHS = JSONPathEnvironment()


class ToolMapping(BaseModel):
    """How one upstream tool is proposed to the gate."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(min_length=1)
    target: Any = None
    environment: Any = None
    amount: Any = None
    work_item: Any = None
    justification: Any = None
    labels: dict[str, Any] = {}
    # What the executed call's outcome report carries: artifact field → JSONPath into
    # `{"arguments": the call's, "result": the upstream's structured result}`, so the action
    # can meet its type's definition of done (`done_when`) and reach `verified`.
    done: dict[str, str] = {}

    @model_validator(mode="after")
    def _done_paths(self) -> ToolMapping:
        for name, path in self.done.items():
            if not path.startswith("$."):
                raise ValueError(f"done.{name} must be a JSONPath starting with `$.`")
            _PATHS.compile(path)
        return self


class Upstream(BaseModel):
    """An MCP server behind the proxy: a command on stdio, or a streamable-HTTP URL."""

    model_config = ConfigDict(extra="forbid")

    command: list[str] | None = None
    url: str | None = None
    env: dict[str, str] = {}
    tools: dict[str, ToolMapping]

    @model_validator(mode="after")
    def _one_transport(self) -> Upstream:
        if (self.command is None) == (self.url is None):
            raise ValueError("give an upstream exactly one of `command` and `url`")
        return self


class Listen(BaseModel):
    """Where the proxy serves MCP."""

    host: str = "127.0.0.1"
    port: int = Field(default=8766, ge=1, le=65535)


class ProxyConfig(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    gate: str
    listen: Listen = Listen()
    upstreams: dict[str, Upstream]
    # How long the gate may take to answer, in seconds; beyond it nothing is forwarded.
    gate_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # This proxy's external URL for MCP (https://mcp.example.com/mcp): the resource that MCP
    # clients' access tokens must name as `aud`, and where its RFC 9728 metadata points.
    public_url: str | None = Field(default=None, pattern=r"^https?://")
    # Issuers whose JWT access tokens MCP clients may present instead of gate keys. Needs
    # `public_url`, and the proxy's own key (role proxy) in SLUICEGATE_PROXY_KEY.
    oauth_issuers: list[str] = []
    # The scope a token must carry.
    oauth_scope: str = Field(default="sluicegate", min_length=1)

    @model_validator(mode="after")
    def _tokens_need_a_resource(self) -> ProxyConfig:
        if self.oauth_issuers and self.public_url is None:
            raise ValueError("oauth_issuers needs public_url: tokens must name it as audience")
        return self

    @model_validator(mode="after")
    def _tool_names_unique(self) -> ProxyConfig:
        seen: set[str] = set()
        for upstream in self.upstreams.values():
            for name in upstream.tools:
                if name in seen:
                    raise ValueError(f"the tool {name!r} is mapped by two upstreams")
                seen.add(name)
        return self

    def served_at(
        self, *, gate: str | None = None, host: str | None = None, port: int | None = None
    ) -> ProxyConfig:
        """This configuration with the gate's URL or the listening address replaced (the
        command line and the environment win over the file), checked again."""
        document = self.model_dump()
        if gate is not None:
            document["gate"] = gate
        listen = document["listen"]
        document["listen"] = {
            "host": host if host is not None else listen["host"],
            "port": port if port is not None else listen["port"],
        }
        return ProxyConfig.model_validate(document)

    def upstream_env(self, upstream: Upstream) -> dict[str, str]:
        """What a stdio upstream is started with: where the gate and its JWKS are (so a target
        checking permits follows the gate wherever it runs), then the upstream's own `env`."""
        gate = self.gate.rstrip("/")
        return {
            "SLUICEGATE_GATE_URL": gate,
            "SLUICEGATE_JWKS_URL": f"{gate}/.well-known/jwks.json",
            **upstream.env,
        }

    def mapping(self, tool: str) -> tuple[str, ToolMapping] | None:
        """The upstream that serves `tool`, and its mapping; None for an unmapped tool."""
        for name, upstream in self.upstreams.items():
            if tool in upstream.tools:
                return name, upstream.tools[tool]
        return None


def load_config(path: Path) -> ProxyConfig:
    """Read and check the YAML file (pydantic's ValidationError names what is wrong)."""
    return ProxyConfig.model_validate(yaml.safe_load(path.read_text()))


def _resolve(value: Any, arguments: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$."):
        found = _PATHS.findall(value, arguments)
        return found[0] if found else None
    if isinstance(value, dict):
        return {key: _resolve(item, arguments) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, arguments) for item in value]
    return value


def done_artifact(
    mapping: ToolMapping, arguments: dict[str, Any], result: dict[str, Any] | None
) -> dict[str, Any]:
    """The fields the mapping's `done` names, found in the call and the upstream's result;
    a path that finds nothing is left out (the report then shows the action unverified)."""
    document = {"arguments": arguments, "result": result or {}}
    found = {name: _resolve(path, document) for name, path in mapping.done.items()}
    return {name: value for name, value in found.items() if value is not None}


def proposal_for(
    upstream: str, tool: str, mapping: ToolMapping, arguments: dict[str, Any]
) -> dict[str, Any]:
    """The proposal the gate is asked about for this call."""
    action: dict[str, Any] = {"type": mapping.action}
    for name in ("target", "environment", "amount"):
        resolved = _resolve(getattr(mapping, name), arguments)
        if resolved is not None:
            action[name] = resolved
    proposal: dict[str, Any] = {
        "action": action,
        "changes": [
            {"record": f"{upstream}/{tool}", "field": name, "to": value}
            for name, value in arguments.items()
        ],
        "labels": {"via": "mcp-proxy", **_resolve(mapping.labels, arguments)},
    }
    for name in ("work_item", "justification"):
        resolved = _resolve(getattr(mapping, name), arguments)
        if resolved is not None:
            proposal[name] = resolved
    return proposal
