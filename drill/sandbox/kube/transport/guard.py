"""Who is asking, as whom, and may they: the API server's authentication, impersonation and
authorization filters, in that order, before a request reaches the API.

``authenticate`` reads the ``Authorization: Bearer`` header (no token, or one that stands for
no one: 401). ``impersonate`` honours ``Impersonate-User``, ``Impersonate-Group``,
``Impersonate-Uid`` and ``Impersonate-Extra-*`` (what ``kubectl --as`` and ``--as-group``
send) when the caller may ``impersonate`` each of them, giving a ServiceAccount its groups and
every user ``system:authenticated``, as the real filter does. ``request_attributes`` reads a
request the way Kubernetes' RequestInfo does (from the path alone, so a resource the emulator
does not serve is still refused before it is found missing): the verb from the method
(``list``/``watch`` for collections, the name from a ``metadata.name`` field selector,
``deletecollection``), the namespace (a namespace's own too), resource, subresource and name;
anything not under ``/api/v1/...`` or ``/apis/G/V/...`` is a non-resource path. ``authorize``
answers a refusal with the real 403.

This module must not decide what a verb does: it only lets a request through or refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from drill.sandbox.kube.api.authn import (
    AUTHENTICATED,
    Tokens,
    UserInfo,
    service_account_groups,
    service_account_username,
    split_service_account,
)
from drill.sandbox.kube.api.errors import bad_request, unauthorized
from drill.sandbox.kube.api.rbac import Asked, Authorizer, forbidden

_NAMESPACE_SUBRESOURCES = ("status", "finalize")
_VERB_BY_METHOD = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
_EXTRA_PREFIX = "impersonate-extra-"
_UNAUTHENTICATED = "system:unauthenticated"
_ANONYMOUS = "system:anonymous"


class Guard:
    def __init__(self, tokens: Tokens, authorizer: Authorizer) -> None:
        self.tokens = tokens
        self.authorizer = authorizer

    def authenticate(self, headers: Mapping[str, str]) -> UserInfo:
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        user = self.tokens.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise unauthorized()
        return user

    def impersonate(self, user: UserInfo, headers: list[tuple[str, str]]) -> UserInfo:
        """The user the request acts as: ``user`` itself unless it asks to impersonate."""
        wanted_user = next((v for k, v in headers if k == "impersonate-user"), "")
        groups = [v for k, v in headers if k == "impersonate-group"]
        uid = next((v for k, v in headers if k == "impersonate-uid"), "")
        extras = [
            (unquote(k.removeprefix(_EXTRA_PREFIX)), v)
            for k, v in headers
            if k.startswith(_EXTRA_PREFIX)
        ]
        if not (wanted_user or groups or uid or extras):
            return user
        if not wanted_user:
            raise bad_request("requested impersonation of groups, uid or extras without a user")
        account = split_service_account(wanted_user)
        if account is not None:
            self._allow(
                user,
                Asked(
                    "impersonate",
                    True,
                    "",
                    account[0],
                    "",
                    "v1",
                    "serviceaccounts",
                    name=account[1],
                ),
            )
        else:
            self._allow(
                user, Asked("impersonate", True, "", "", "", "v1", "users", name=wanted_user)
            )
        for group in groups:
            self._allow(user, Asked("impersonate", True, "", "", "", "v1", "groups", name=group))
        for key, value in extras:
            self._allow(
                user,
                Asked(
                    "impersonate",
                    True,
                    "",
                    "",
                    "authentication.k8s.io",
                    "v1",
                    "userextras",
                    key,
                    value,
                ),
            )
        if uid:
            self._allow(
                user,
                Asked("impersonate", True, "", "", "authentication.k8s.io", "v1", "uids", name=uid),
            )
        return _acting_as(wanted_user, account, groups, uid, extras)

    def authorize(self, asked: Asked, user: UserInfo) -> None:
        self._allow(user, asked)

    def _allow(self, user: UserInfo, asked: Asked) -> None:
        attributes = asked.by(user)
        decision = self.authorizer.authorize(attributes)
        if not decision.allowed:
            raise forbidden(attributes, decision.reason)


def _acting_as(
    name: str,
    account: tuple[str, str] | None,
    groups: list[str],
    uid: str,
    extras: list[tuple[str, str]],
) -> UserInfo:
    acting_groups = list(groups)
    if account is not None and not groups:
        acting_groups = list(service_account_groups(account[0]))
    if name == _ANONYMOUS:
        if _UNAUTHENTICATED not in acting_groups:
            acting_groups.append(_UNAUTHENTICATED)
    elif not {AUTHENTICATED, _UNAUTHENTICATED} & set(acting_groups):
        acting_groups.append(AUTHENTICATED)
    by_key: dict[str, list[str]] = {}
    for key, value in extras:
        by_key.setdefault(key, []).append(value)
    extra = tuple((key, tuple(values)) for key, values in by_key.items())
    if account is not None:
        name = service_account_username(*account)
    return UserInfo(name, tuple(acting_groups), uid, extra)


def request_attributes(method: str, path: str, query: Mapping[str, str]) -> Asked:
    """What the request asks to do, read from its method, path and query alone."""
    parts = [p for p in path.split("/") if p]
    non_resource = Asked(method.lower(), False, path)
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return non_resource
    group = ""
    rest = parts[1:]
    if parts[0] == "apis":
        if len(rest) < 3:
            return non_resource
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    verb = _VERB_BY_METHOD.get(method.upper(), "")
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not name and verb == "get":
        verb = "watch" if query.get("watch", "").lower() not in ("", "false", "0") else "list"
        name = _name_from_field_selector(query.get("fieldSelector", ""))
    if not name and verb == "delete":
        verb = "deletecollection"
    return Asked(verb, True, path, namespace, group, version, resource, subresource, name)


def _name_from_field_selector(selector: str) -> str:
    """The name a ``metadata.name=NAME`` (or ``==``) requirement pins, as RBAC reads it."""
    for requirement in selector.split(","):
        key, _, value = (
            requirement.partition("==") if "==" in requirement else requirement.partition("=")
        )
        if key.strip() == "metadata.name" and not key.endswith("!") and "/" not in value:
            return value.strip()
    return ""
