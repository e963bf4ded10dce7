"""Who a request is: bearer tokens to users, as the API server's token authenticators decide.

Two kinds of token are valid. The cluster's admin token (the sandbox's kubeconfig carries it)
is the user ``kubernetes-admin`` in ``system:masters``, as the admin certificates kind and
minikube write are. ServiceAccount tokens are what the TokenRequest API issues: JWTs naming
the account (``system:serviceaccount:NS:NAME``), its uid, audiences and expiry, signed with
the cluster's own key (HS256 here; a real cluster signs with RS256). Like a real bound token,
one is valid until it expires and while its account exists with the same uid, and only for the
API server's audience. Anything else is no user at all: the transport answers 401.

This module must not read HTTP headers (the transport hands it the token) or decide what a
user may do (``rbac`` does).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from drill.clock import Clock
from drill.sandbox.kube.api.objects import Obj, uid_of
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.api.store import Store

API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
ISSUER = API_AUDIENCE
DEFAULT_EXPIRATION_S = 3600  # what the TokenRequest API defaults expirationSeconds to
MIN_EXPIRATION_S = 600  # shorter requests are refused, as the real API refuses them
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"  # the group every authorizer lets do anything
_SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def is_superuser(self) -> bool:
        return MASTERS in self.groups

    def as_object(self) -> Obj:
        """The ``UserInfo`` shape reviews answer with (empty fields left out, as the API does)."""
        found: Obj = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            found["uid"] = self.uid
        if self.extra:
            found["extra"] = {key: list(values) for key, values in self.extra}
        return found


ADMIN = UserInfo("kubernetes-admin", (MASTERS, AUTHENTICATED))


def service_account_username(namespace: str, name: str) -> str:
    return f"{_SA_PREFIX}{namespace}:{name}"


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")


def split_service_account(username: str) -> tuple[str, str] | None:
    """(namespace, name) of ``system:serviceaccount:NS:NAME``; None for any other user."""
    if not username.startswith(_SA_PREFIX):
        return None
    namespace, colon, name = username.removeprefix(_SA_PREFIX).partition(":")
    if not (namespace and colon and name) or ":" in name:
        return None
    return namespace, name


@dataclass(frozen=True)
class IssuedToken:
    token: str
    issued_at: datetime
    expires_at: datetime
    audiences: tuple[str, ...]


class Tokens:
    """Issues and checks one cluster's bearer tokens."""

    def __init__(
        self, store: Store, accounts: ResourceType, clock: Clock, admin_token: str
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._clock = clock
        self._admin_token = admin_token
        # Not from the emulator's seeded random: a token must not be guessable from the seed.
        self._key = secrets.token_bytes(32)

    def issue(
        self,
        account: Obj,
        *,
        audiences: Sequence[str] = (),
        expiration_s: int = DEFAULT_EXPIRATION_S,
    ) -> IssuedToken:
        """A token for ServiceAccount ``account`` (the stored object)."""
        namespace, name = account["metadata"]["namespace"], account["metadata"]["name"]
        now = self._clock.now()
        expires_at = now + timedelta(seconds=expiration_s)
        wanted = tuple(audiences) or (API_AUDIENCE,)
        claims = {
            "aud": list(wanted),
            "exp": int(expires_at.timestamp()),
            "iat": int(now.timestamp()),
            "iss": ISSUER,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": name, "uid": uid_of(account)},
            },
            "nbf": int(now.timestamp()),
            "sub": service_account_username(namespace, name),
        }
        return IssuedToken(self._sign(claims), now, expires_at.astimezone(UTC), wanted)

    def authenticate(self, token: str) -> UserInfo | None:
        """The user ``token`` stands for, or None when it stands for no one (now)."""
        if hmac.compare_digest(token.encode(), self._admin_token.encode()):
            return ADMIN
        claims = self._verified_claims(token)
        if claims is None or not self._still_valid(claims):
            return None
        account = claims["kubernetes.io"]
        namespace, name = account["namespace"], account["serviceaccount"]["name"]
        groups = (*service_account_groups(namespace), AUTHENTICATED)
        return UserInfo(service_account_username(namespace, name), groups, uid_of_claims(claims))

    def _still_valid(self, claims: Obj) -> bool:
        now = self._clock.now().timestamp()
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            return False
        if API_AUDIENCE not in (claims.get("aud") or []):
            return False
        try:
            namespace = claims["kubernetes.io"]["namespace"]
            name = claims["kubernetes.io"]["serviceaccount"]["name"]
        except (KeyError, TypeError):
            return False
        account = self._store.read(self._accounts, str(namespace), str(name))
        # A deleted (or deleted and re-made) account invalidates the tokens it was issued.
        return account is not None and uid_of(account) == uid_of_claims(claims)

    def _sign(self, claims: Obj) -> str:
        header = _encode({"alg": "HS256", "kid": "drill-sandbox", "typ": "JWT"})
        payload = _encode(claims)
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256)
        return f"{header}.{payload}.{_b64(signature.digest())}"

    def _verified_claims(self, token: str) -> Obj | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        header, payload, signature = parts
        expected = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        try:
            given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, binascii.Error):
            return None
        if not hmac.compare_digest(given, expected) or not isinstance(claims, dict):
            return None
        return claims


def uid_of_claims(claims: Obj) -> str:
    try:
        return str(claims["kubernetes.io"]["serviceaccount"]["uid"])
    except (KeyError, TypeError):
        return ""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _encode(document: Obj) -> str:
    return _b64(json.dumps(document, separators=(",", ":"), sort_keys=True).encode())
