"""Parse a proposal body in one pass, turning every parse failure into a stable error code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from policy.proposal import Proposal
from service.api.validation import field_errors
from service.errors import InvalidJson, TooDeeplyNested


def parse_proposal(body: bytes) -> Proposal:
    """Validate the raw JSON; the schema is closed, so nesting is bounded by it, and the parser
    stops at its recursion limit before building anything deeper."""
    try:
        return Proposal.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        for error in errors:
            if error["type"] == "json_invalid":
                if "recursion limit" in error["msg"]:
                    raise TooDeeplyNested() from None
                raise InvalidJson(f"the body is not valid JSON: {error['msg']}") from None
        raise field_errors(errors) from None


def proposal_from(value: Mapping[str, Any]) -> Proposal:
    """Validate a proposal already parsed (a caller in process), with the same errors."""
    try:
        return Proposal.model_validate(value)
    except ValidationError as exc:
        raise field_errors(exc.errors(include_url=False, include_input=False)) from None
