"""`verify`: the one check a target system makes before it acts."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, DecodeError, JoseError
from joserfc.jwk import KeySet

from sluicegate_permit.algorithm import ALGORITHM, EDDSA_ONLY
from sluicegate_permit.digest import action_digest
from sluicegate_permit.errors import PermitError
from sluicegate_permit.jwks import JwksSource, StaticJwks
from sluicegate_permit.replay import ReplayCache

# Clock skew tolerated between the gate and the target, in seconds.
LEEWAY_SECONDS = 30


def verify(
    token: str,
    *,
    action: Mapping[str, Any],
    changes: Sequence[Any],
    audience: str,
    jwks: JwksSource | Mapping[str, Any],
    replay: ReplayCache,
    issuer: str | None = None,
    leeway: int = LEEWAY_SECONDS,
) -> dict[str, Any]:
    """The permit's claims, if it was signed by the gate, is for `audience`, has not expired,
    is for exactly this action and these changes, and was not used before (it is used now).
    Otherwise PermitError with the reason."""
    source = jwks if not isinstance(jwks, Mapping) else StaticJwks(dict(jwks))
    claims = _signed_claims(token, source)
    now = int(time.time())
    if not isinstance(claims.get("exp"), int) or claims["exp"] + leeway < now:
        raise PermitError("expired", "the permit has expired")
    if issuer is not None and claims.get("iss") != issuer:
        raise PermitError("bad_signature", "the permit names another issuer")
    if claims.get("aud") != audience:
        raise PermitError("wrong_audience", f"the permit is for {claims.get('aud')!r}")
    if claims.get("act") != action.get("type") or claims.get("dig") != action_digest(
        dict(action), list(changes)
    ):
        raise PermitError("action_mismatch", "the permit is for another action or changes")
    if not replay.first_use(str(claims.get("jti")), int(claims["exp"]) + leeway):
        raise PermitError("replayed", "the permit was used before")
    return claims


def _signed_claims(token: str, source: JwksSource) -> dict[str, Any]:
    try:
        header = jws.extract_compact(token.encode()).protected
    except (DecodeError, JoseError, ValueError) as exc:
        raise PermitError("bad_signature", "the permit is not a compact JWS") from exc
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise PermitError("bad_signature", "the permit is not signed with EdDSA and a kid")
    keys = _keys_with(source, kid)
    try:
        decoded = jwt.decode(token, keys, registry=EDDSA_ONLY)
    except BadSignatureError as exc:
        raise PermitError("bad_signature", "the signature does not verify") from exc
    except (DecodeError, JoseError, ValueError) as exc:
        raise PermitError("bad_signature", f"the permit cannot be read: {exc}") from exc
    return dict(decoded.claims)


def _keys_with(source: JwksSource, kid: str) -> KeySet:
    for refresh in (False, True):  # a rotated key: fetch the JWKS again, once
        keys = source.key_set(refresh=refresh)
        if any(key.kid == kid for key in keys.keys):
            return keys
    raise PermitError("unknown_key", f"no key {kid!r} in the gate's JWKS")
