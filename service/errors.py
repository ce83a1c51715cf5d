"""The service's errors, each with a stable code and its HTTP status, in one place."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class ServiceError(Exception):
    """Base of errors the API answers in the standard error shape."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    message: ClassVar[str] = "the gateway failed; nothing was decided"

    def __init__(self, message: str | None = None, details: list[dict[str, Any]] | None = None):
        super().__init__(message or self.message)
        self.details = details or []


class InvalidJson(ServiceError):
    code, status, message = "invalid_json", 400, "the body is not valid JSON"


class UnsupportedMediaType(ServiceError):
    code, status, message = (
        "unsupported_media_type",
        415,
        "the body must be JSON, sent as Content-Type: application/json",
    )


class TooDeeplyNested(ServiceError):
    code, status, message = "too_deeply_nested", 400, "the body nests deeper than allowed"


class ValidationFailed(ServiceError):
    code, status, message = "validation_failed", 422, "the request does not match the schema"


class BodyTooLarge(ServiceError):
    code, status, message = "body_too_large", 413, "the body is larger than allowed"


class Unauthenticated(ServiceError):
    code, status, message = "unauthenticated", 401, "a valid API key is required"


class InvalidToken(ServiceError):
    """An OAuth access token the gate refuses; `details[0].reason` says why."""

    code, status, message = "invalid_token", 401, "the access token is not accepted"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{self.message}: {message}", [{"reason": reason}])
        self.reason = reason


class InsufficientScope(ServiceError):
    code, status, message = "insufficient_scope", 403, "the access token lacks a scope needed"

    def __init__(self, scope: str) -> None:
        super().__init__(f"{self.message}: {scope}", [{"scope": scope}])
        self.scope = scope


class IdentityProviderUnavailable(ServiceError):
    code, status = "identity_provider_unavailable", 503
    message = "the identity provider's keys cannot be fetched; nothing was decided"


class Forbidden(ServiceError):
    code, status, message = "forbidden", 403, "this key's role may not do that"


class SlackSignatureInvalid(ServiceError):
    code, status, message = (
        "slack_signature_invalid",
        401,
        "the request is not signed with the Slack app's signing secret, or is older than 5 min",
    )


class InvalidSlackPayload(ServiceError):
    code, status, message = (
        "invalid_slack_payload",
        400,
        "the request is signed but its payload is not one Slack sends",
    )


class InvalidRevision(ServiceError):
    code, status, message = "invalid_revision", 422, "`revises` must name a decision it can revise"


class InvalidRulePack(ServiceError):
    code, status, message = "invalid_rule_pack", 422, "the rule pack does not load"


class NotFound(ServiceError):
    code, status, message = "not_found", 404, "no such resource"


class InvalidCursor(ServiceError):
    code, status, message = "invalid_cursor", 400, "the cursor is not one this API gave out"


class IdempotencyConflict(ServiceError):
    code, status = "idempotency_conflict", 409
    message = "this idempotency key was already used with a different body"


class AuditUnavailable(ServiceError):
    code, status = "audit_unavailable", 503
    message = "the audit record could not be committed, so no decision was issued"


class StoreUnavailable(ServiceError):
    code, status = "store_unavailable", 503
    message = "the store cannot be reached or written; nothing was changed, try again"


class WebhookDestinationRefused(ServiceError):
    code, status = "webhook_destination_refused", 422
    message = "webhooks may only post to public addresses"


class SignInNeeded(ServiceError):
    code, status, message = "sign_in_needed", 401, "sign in to the review pages first"


class NotReady(ServiceError):
    code, status, message = "not_ready", 503, "the gateway is not ready"


class NotQueueReviewer(ServiceError):
    code, status, message = "not_queue_reviewer", 403, "this key may not work that queue"


class FourEyes(ServiceError):
    code, status = "four_eyes", 403
    message = "an agent or its accountable owner (with any of their keys) may not review its action"


class NoteRequired(ServiceError):
    code, status, message = "note_required", 422, "say why in a note"


class ReviewClosed(ServiceError):
    code, status, message = "review_closed", 409, "the review is already resolved"


class ClaimedByOther(ServiceError):
    code, status, message = "claimed_by_other", 409, "another reviewer holds the claim"


class AlreadyApproved(ServiceError):
    code, status = "already_approved", 409
    message = "you approved this already; a second approval must come from someone else"


class WrongReviewKind(ServiceError):
    code, status = "wrong_review_kind", 409
    message = "blocking reviews are approved or rejected; post-hoc reviews take a verdict"


class ReviewsNotAlike(ServiceError):
    code, status, message = (
        "reviews_not_alike",
        422,
        "approve together only reviews of one action type in one queue",
    )


class ReviewConflict(ServiceError):
    code, status, message = "review_conflict", 409, "the review changed meanwhile; reload it"


class NotApproved(ServiceError):
    code, status, message = "not_approved", 409, "the action has no approval to use"


class ApprovalUsed(ServiceError):
    code, status, message = "approval_used", 409, "the approval was already used"


class ApprovalMismatch(ServiceError):
    code, status = "approval_mismatch", 409
    message = "the approval is for a different proposal; send exactly what was approved"


class PolicyChanged(ServiceError):
    code, status = "policy_changed", 409
    message = "the rules changed since the approval; propose the action again"


class OutcomeNotPermitted(ServiceError):
    code, status = "outcome_not_permitted", 409
    message = "the action's status does not allow that report; the attempt was recorded"


class HeldCallBusy(ServiceError):
    code, status = "held_call_busy", 409
    message = "another proxy replica is forwarding this call; ask again shortly"


class CallAlreadyHeld(ServiceError):
    """The MCP proxy asked about a call the agent already has held for review (the same
    upstream, tool and arguments): nothing new is decided; `details[0].held_call_id` names it."""

    code, status = "call_already_held", 409
    message = "this call is already held for review; nothing new was decided"


class HeldCallClosed(ServiceError):
    code, status = "held_call_closed", 409
    message = "the held call already completed or was cancelled"


class ErrorDetail(BaseModel):
    """What went wrong, machine-readable first."""

    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorBody(BaseModel):
    """The one error shape every endpoint answers."""

    error: ErrorDetail


class UnacceptableJson(ServiceError):
    """JSON that parses but cannot be recorded faithfully; `details` name the place."""

    code, status, message = "unacceptable_json", 422, "the body has a value the gate cannot take"


class DuplicateKey(UnacceptableJson):
    code, message = "duplicate_key", "a key appears twice in one object"


class NulCharacter(UnacceptableJson):
    code, message = "nul_character", "a string or key contains the NUL character"


class IntegerOutOfRange(UnacceptableJson):
    code, message = "integer_out_of_range", "an integer is outside ±(2^53 - 1)"


class NonFiniteNumber(UnacceptableJson):
    code, message = "non_finite_number", "NaN and Infinity are not JSON numbers"
