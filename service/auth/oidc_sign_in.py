"""People sign in to the pages with the organisation's OpenID provider: the authorization code
flow with PKCE (Authlib's OAuth 2 client), the ID token checked as access tokens are
(auth/token_checks.py: the provider's published keys, issuer, audience = our client id,
expiry), and the nonce we sent.

The ID token's issuer and subject name one person principal (`sluicegate principals link NAME
--oidc-subject SUB`), or, when an operator allows it, the person whose principal name is the
provider's verified email. Nobody is created: an unknown person is refused. Roles stay ours:
the person acts with their live reviewer, auditor or author key's role, so revoking it here
ends the session, and the session ends at the ID token's expiry at the latest."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy import Engine, select

from service.auth.identities import IdentityKind, linked_principal
from service.auth.keys import live_keys_of, principal_of_key
from service.auth.principals import Principal, PrincipalKind
from service.auth.roles import Role
from service.auth.tables import PRINCIPALS
from service.auth.token_checks import TokenVerifier
from service.errors import InvalidToken

# Who may sign in to the pages, in the order a person's keys are chosen.
PAGE_ROLES = (Role.REVIEWER, Role.AUDITOR, Role.AUTHOR)
CALLBACK_PATH = "ui/login/oidc/callback"
_SCOPES = "openid email"


class SignInRefused(Exception):
    """The sign-in did not name anyone who may use the pages; the message is for the page."""


@dataclass(frozen=True)
class SignInFlow:
    """What the browser keeps (an HttpOnly cookie) between leaving for the provider and
    coming back: the state and nonce to compare, and the PKCE verifier."""

    state: str
    nonce: str
    verifier: str
    next_path: str

    def cookie(self) -> str:
        """The cookie's value."""
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @classmethod
    def from_cookie(cls, value: str | None) -> SignInFlow | None:
        """The flow a cookie holds, or None for a missing or malformed one."""
        try:
            fields = json.loads(base64.urlsafe_b64decode((value or "").encode()))
            return cls(**{name: str(fields[name]) for name in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError):
            return None


class OidcSignIn:
    """The sign-in with one OpenID provider, for one client (this gate)."""

    def __init__(
        self,
        database: Engine,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        public_url: str,
        link_by_email: bool = False,
    ) -> None:
        self._database = database
        self._issuer = issuer
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = public_url.rstrip("/") + "/" + CALLBACK_PATH
        self._link_by_email = link_by_email
        self._tokens = TokenVerifier(issuers=[issuer], audience=client_id, scope=None)

    def start(self, next_path: str) -> tuple[str, SignInFlow]:
        """Where to send the browser, and the flow to keep until it comes back."""
        flow = SignInFlow(generate_token(32), generate_token(32), generate_token(64), next_path)
        with self._client() as client:
            url, _ = client.create_authorization_url(
                self._tokens.metadata(self._issuer)["authorization_endpoint"],
                state=flow.state,
                nonce=flow.nonce,
                code_verifier=flow.verifier,
            )
        return str(url), flow

    def finish(
        self, flow: SignInFlow | None, *, code: str, state: str
    ) -> tuple[Principal, datetime]:
        """The person who signed in, acting with their page role, and when the session must
        end at the latest; SignInRefused otherwise."""
        if flow is None or state != flow.state:
            raise SignInRefused("The sign-in expired or was not started here. Try again.")
        try:
            with self._client() as client:
                token = client.fetch_token(
                    self._tokens.metadata(self._issuer)["token_endpoint"],
                    code=code,
                    code_verifier=flow.verifier,
                )
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise SignInRefused("The identity provider did not complete the sign-in.") from exc
        claims = self._id_token_claims(str(token.get("id_token", "")), flow.nonce)
        person = self._person(claims)
        return person, datetime.fromtimestamp(int(claims["exp"]), UTC)

    def close(self) -> None:
        """Close the connections to the provider."""
        self._tokens.close()

    def _client(self) -> OAuth2Client:
        return OAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope=_SCOPES,
            redirect_uri=self._redirect_uri,
            code_challenge_method="S256",
        )

    def _id_token_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token, checked as access tokens are (auth/token_checks.py), with our client
        id as its audience, and the nonce this sign-in sent."""
        try:
            claims = self._tokens.verify(id_token)
        except InvalidToken as exc:
            raise SignInRefused(f"The ID token is not acceptable ({exc.reason}).") from exc
        if claims.get("nonce") != nonce:
            raise SignInRefused("The ID token is not the answer to this sign-in (nonce).")
        return dict(claims)

    def _person(self, claims: dict[str, Any]) -> Principal:
        subject = str(claims["sub"])
        linked = linked_principal(self._database, IdentityKind.OIDC, self._issuer, subject)
        person_id = (
            linked.id if linked is not None and linked.kind is PrincipalKind.PERSON else None
        )
        email = claims.get("email")
        if person_id is None and self._link_by_email and claims.get("email_verified") is True:
            person_id = self._person_named(str(email))
        if person_id is None:
            raise SignInRefused(
                f"Your account at the identity provider (subject {subject}"
                + (f", {email}" if email else "")
                + ") is not linked to anyone here. An administrator links it with "
                f"`sluicegate principals link NAME --oidc-subject {subject}`."
            )
        with self._database.connect() as connection:
            for key_id in live_keys_of(connection, person_id, PAGE_ROLES):
                principal = principal_of_key(connection, key_id)
                if principal is not None:
                    return principal
        raise SignInRefused("You have no reviewer, auditor or author role here.")

    def _person_named(self, name: str) -> str | None:
        with self._database.connect() as connection:
            found = connection.execute(
                select(PRINCIPALS.c.id).where(
                    PRINCIPALS.c.name == name, PRINCIPALS.c.kind == PrincipalKind.PERSON.value
                )
            ).scalar()
        return None if found is None else str(found)
