"""Parse a proposal body in one pass, turning every parse failure into a stable error code."""

from __future__ import annotations

from pydantic import ValidationError

from policy.proposal import Proposal
from service.errors import InvalidJson, TooDeeplyNested, ValidationFailed


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
        details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
        raise ValidationFailed(details=details) from None
