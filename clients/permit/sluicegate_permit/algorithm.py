"""The one signature algorithm permits use, EdDSA (Ed25519), as a registry that stays quiet.

joserfc warns (`SecurityWarning`) on every use of `alg` EdDSA, because RFC 9864 prefers the
fully specified name Ed25519. Permits say EdDSA, which every JOSE library verifies today, so
the warning is noise in every target process. This registry holds the same algorithm object
without its warning; nothing global changes, and the host's own warning filters stay its own."""

from __future__ import annotations

import copy

from joserfc.jws import JWSRegistry

ALGORITHM = "EdDSA"


class _QuietRegistry(JWSRegistry):
    # joserfc keeps its algorithms in this class-level dict; a subclass gets its own copy.
    algorithms = dict(JWSRegistry.algorithms)  # noqa: RUF012


_eddsa = copy.copy(JWSRegistry.algorithms[ALGORITHM])
_eddsa.security_warning = None
_QuietRegistry.algorithms[ALGORITHM] = _eddsa

# Pass as `registry=` to joserfc's `jwt.encode` / `jwt.decode`: EdDSA only, and no warning.
EDDSA_ONLY = _QuietRegistry(algorithms=[ALGORITHM])
