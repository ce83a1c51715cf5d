"""The gateway's settings: one validated object, read from `SLUICEGATE_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, HttpUrl, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def bundled_rules() -> Path:
    """The default rule pack: inside the installed package, or `rules/` of a source checkout."""
    installed = Path(__file__).parent / "bundled_rules"
    return installed if installed.is_dir() else Path(__file__).parent.parent / "rules"


class Settings(BaseSettings):
    """Everything the gateway can be told; invalid values stop it at start, loudly."""

    model_config = SettingsConfigDict(env_prefix="SLUICEGATE_", frozen=True, extra="ignore")

    # Where decisions, keys and the audit log live; a SQLite file in the working directory.
    database_url: str = "sqlite:///sluicegate.db"
    # The rule pack directory (Rego, data, Python rules).
    rules: Path = Field(default_factory=bundled_rules)
    # Which backend evaluates the pack's Rego (policy/backends/registry.py): `rego-embedded`
    # needs nothing else running; `opa` asks an OPA server (a sidecar), the production path.
    # The older name SLUICEGATE_ENGINE is still read.
    rego_backend: Literal["rego-embedded", "opa"] = Field(
        default="rego-embedded",
        validation_alias=AliasChoices(
            "rego_backend", "SLUICEGATE_REGO_BACKEND", "SLUICEGATE_ENGINE"
        ),
    )
    # Where the OPA sidecar listens (backend `opa`).
    opa_url: HttpUrl = HttpUrl("http://127.0.0.1:8181")
    # How the sidecar gets the pack: it polls the gateway's bundle endpoint (`bundle`), or the
    # gateway writes it through OPA's policy and data APIs (`push`, one local sidecar only).
    opa_mode: Literal["bundle", "push"] = "bundle"
    # The name OPA's configuration gives the gateway's bundle; its revision is checked per decision.
    opa_bundle: str = "sluicegate"
    # A bearer token for OPA, when it runs with `--authentication=token`.
    opa_token: SecretStr | None = None
    # Per-decision time budget for the rule engines; beyond it the decision fails closed.
    decision_budget_ms: int = Field(default=250, ge=5, le=10_000)
    # Threads that run rule engines (each keeps its own Rego interpreter).
    eval_workers: int = Field(default=4, ge=1, le=64)
    # Largest request body accepted, in bytes.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=8 * 1024 * 1024)
    # Most audit records committed together by the single writer.
    audit_batch_max: int = Field(default=256, ge=1, le=10_000)
    # How long an authenticated key is trusted without a database lookup, in seconds: at most
    # 1, so a key revoked on one gateway is refused by every gateway within a second.
    auth_cache_seconds: float = Field(default=1.0, ge=0, le=1.0)
    # How long a reviewer's claim on a review lasts before others may take it, in seconds.
    review_lease_seconds: float = Field(default=900, ge=1, le=86_400)
    # How often the SLA clock looks for reviews past due, in seconds.
    sla_tick_seconds: float = Field(default=1.0, gt=0, le=300)
    # How often a long poll re-reads the store for a review resolved by another replica.
    long_poll_recheck_seconds: float = Field(default=0.5, gt=0, le=5)
    # The longest a long poll (`GET /v1/decisions/{id}?wait=`) is held, in seconds: a wait
    # asked for beyond it is cut to it (for proxies that close idle requests sooner).
    long_poll_max_seconds: float = Field(default=60.0, gt=0, le=60)
    # Waits between webhook attempts, in seconds; after the last one a delivery is failed.
    # The default follows the Standard Webhooks guidance (5 s, 5 min, 30 min, 2 h, 5 h, 10 h).
    webhook_backoff_seconds: tuple[float, ...] = (5, 300, 1800, 7200, 18_000, 36_000)
    # How long one webhook POST may take, in seconds.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # How long a permit is valid after it is issued, in seconds (at most 5 minutes).
    permit_ttl_seconds: int = Field(default=300, ge=5, le=300)
    # The `iss` of every permit: a name target systems expect.
    permit_issuer: str = Field(default="sluicegate", min_length=1, max_length=200)
    # When set, `/metrics` answers only `Authorization: Bearer <this key>`.
    metrics_key: SecretStr | None = None
    # Networks (CIDR) webhooks may post to although they are not public, e.g. ["10.1.0.0/16"];
    # loopback, private, link-local and metadata addresses are refused otherwise.
    webhook_allowed_networks: tuple[IPvAnyNetwork, ...] = ()
    # How often the webhook sender looks for due deliveries, in seconds.
    webhook_tick_seconds: float = Field(default=0.5, gt=0, le=60)
    # The Ed25519 private key (PEM) that signs checkpoints of the audit chain. Unset on an
    # embedded SQLite store: a key file is kept beside the database (`<db>.audit-key.pem`).
    audit_signing_key: SecretStr | None = None
    # How often the chain's head is checkpointed (when it moved), in seconds.
    audit_checkpoint_seconds: float = Field(default=60, gt=0, le=86_400)
    # Candidate rule packs, one folder each, that authors and auditors may replay against the
    # log by name (`POST /v1/rules/impact`); unset: the API has none (the CLI takes a path).
    candidates_dir: Path | None = None
    # OpenTelemetry traces (service/tracing.py): an OTLP/HTTP collector's base URL, e.g.
    # http://127.0.0.1:4318; unset, nothing is traced.
    otel_endpoint: HttpUrl | None = None
    otel_service_name: str = Field(default="sluicegate", min_length=1, max_length=100)
    # The share of requests traced (0 to 1): tracing every one costs about a third of the
    # throughput over HTTP (docs/performance.md); a tenth costs little.
    otel_sample_ratio: float = Field(default=1.0, ge=0, le=1)
    # How often a gateway looks whether a queue is due a canary (known-answer review), in s.
    canary_tick_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Name reviewers in the canary metrics of /metrics (off: per queue only).
    metrics_name_reviewers: bool = False
    # How often a gateway recomputes adaptive post-hoc rates from the verdicts, in seconds.
    sampling_tick_seconds: float = Field(default=60.0, gt=0, le=3600)
    # How often a gateway looks for a shadow run started or stopped (`rules shadow`), in s.
    shadow_tick_seconds: float = Field(default=2.0, gt=0, le=60)
    # Slack approvals (docs/slack.md): the app's signing secret verifies what Slack sends to
    # /v1/integrations/slack/interactions; the bot token posts and updates review messages.
    # Without both, nothing is posted and interactions are refused.
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    # Where Slack's Web API is (a local fake in tests).
    slack_api_url: HttpUrl = HttpUrl("https://slack.com/api/")
    # How often the Slack worker posts new reviews and updates resolved ones, in seconds.
    slack_tick_seconds: float = Field(default=1.0, gt=0, le=60)
    # Where people reach this gateway (e.g. https://gate.example.com): Slack messages link
    # to the review's page there. Without it they name the page's path.
    # It is also the API's OAuth resource identifier: access tokens must name it as `aud`.
    public_url: HttpUrl | None = None
    # Issuers whose JWT access tokens agents may present instead of gate keys, space-separated
    # (e.g. https://login.example.com/realms/acme); keys found by OpenID or RFC 8414 discovery.
    # Needs SLUICEGATE_PUBLIC_URL. Empty: only gate keys (docs/identity.md).
    oauth_issuers: str = ""
    # The scope an access token must carry to act here (403 insufficient_scope without it).
    oauth_scope: str = Field(default="sluicegate", min_length=1, max_length=200)
    # Clock skew tolerated on a token's `exp` and `nbf`, in seconds.
    oauth_clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    # How the server logs: `text` for people, `json` (one object a line) for log pipelines.
    # Every request is one line: method, route, status, duration, principal, decision id.
    log_format: Literal["text", "json"] = "text"
    # The least severe level logged (DEBUG, INFO, WARNING, ERROR).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # How long a reviewer stays signed in to the review pages, in hours.
    ui_session_hours: float = Field(default=8, gt=0, le=24 * 7)
    # Mark the session cookie `Secure` (sent over HTTPS only). Turn off only for plain-HTTP
    # development on loopback; browsers treat http://127.0.0.1 as secure anyway.
    ui_cookie_secure: bool = True
    # People sign in to the pages with the organisation's OpenID provider (authorization code
    # with PKCE): its issuer, and this gate's client there (redirect URI:
    # SLUICEGATE_PUBLIC_URL + ui/login/oidc/callback). docs/identity.md.
    oidc_issuer: str | None = Field(default=None, pattern=r"^https?://")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    # Also find a person by their provider's verified email, when no subject is linked: the
    # principal whose name is that email. Off unless an operator turns it on.
    oidc_link_by_email: bool = False
    # Whether people may still sign in to the pages by pasting a key (automation, break-glass).
    ui_key_sign_in: bool = True

    @property
    def trusted_issuers(self) -> list[str]:
        """SLUICEGATE_OAUTH_ISSUERS, one issuer each."""
        return self.oauth_issuers.split()

    @model_validator(mode="after")
    def _sign_in_needs_a_client(self) -> Settings:
        if self.oidc_issuer is not None and (
            self.oidc_client_id is None
            or self.oidc_client_secret is None
            or self.public_url is None
        ):
            raise ValueError(
                "SLUICEGATE_OIDC_ISSUER needs SLUICEGATE_OIDC_CLIENT_ID, "
                "SLUICEGATE_OIDC_CLIENT_SECRET and SLUICEGATE_PUBLIC_URL (the redirect's base)"
            )
        return self

    @model_validator(mode="after")
    def _tokens_need_a_resource(self) -> Settings:
        if self.trusted_issuers and self.public_url is None:
            raise ValueError(
                "SLUICEGATE_OAUTH_ISSUERS needs SLUICEGATE_PUBLIC_URL: tokens are checked to "
                "name this gate's URL as their audience"
            )
        return self
