"""Authorization: the RBAC authorizer over the Roles, ClusterRoles and bindings in the store.

A request is described by ``Attributes`` (who, which verb, and either a resource, its
subresource, namespace and name, or a non-resource path such as ``/apis``). Members of
``system:masters`` may do anything, as the API server's privileged-group authorizer lets them;
everyone else needs a rule, reached through a ClusterRoleBinding (anywhere) or a RoleBinding
(in its namespace only) whose subjects name the user, one of its groups or its ServiceAccount.
A rule matches the way Kubernetes' own evaluation does: ``*`` in verbs, apiGroups and
resources; ``resource/subresource`` and ``*/subresource``; resourceNames only when the request
names an object; nonResourceURLs exactly or by a trailing ``*`` prefix. A binding whose role is
missing grants nothing, and the refusal says so (``RBAC: role.rbac.authorization.k8s.io "x"
not found``), like the real one.

This module must not parse requests (the transport builds the attributes) or write anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

from drill.sandbox.kube.api.authn import UserInfo, split_service_account
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, name_of, namespace_of
from drill.sandbox.kube.api.resources import Registry
from drill.sandbox.kube.api.store import Store

RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Asked:
    """What a request asks for, read from it before its user is known."""

    verb: str
    resource_request: bool
    path: str = ""
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    def by(self, user: UserInfo) -> Attributes:
        return Attributes(**{f.name: getattr(self, f.name) for f in fields(Asked)}, user=user)


@dataclass(frozen=True, kw_only=True)
class Attributes(Asked):
    """One request, as authorization sees it (Kubernetes' ``authorizer.Attributes``): what it
    asks, and who asks it."""

    user: UserInfo


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # "RBAC: allowed by ...", or why bindings could not be evaluated


@dataclass(frozen=True)
class Grant:
    """One rule and the binding that grants it, worded as RBAC's own reasons word it."""

    rule: Obj
    source: str


class Authorizer:
    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._roles = registry.get(f"{RBAC_GROUP}/v1", "Role")
        self._cluster_roles = registry.get(f"{RBAC_GROUP}/v1", "ClusterRole")
        self._bindings = registry.get(f"{RBAC_GROUP}/v1", "RoleBinding")
        self._cluster_bindings = registry.get(f"{RBAC_GROUP}/v1", "ClusterRoleBinding")

    def authorize(self, attributes: Attributes) -> Decision:
        if attributes.user.is_superuser:
            return Decision(True)
        errors: list[str] = []
        for grant in self.grants(attributes.user, attributes.namespace, errors):
            if rule_allows(grant.rule, attributes):
                return Decision(True, f"RBAC: allowed by {grant.source}")
        return Decision(False, f"RBAC: {_aggregate(errors)}" if errors else "")

    def grants(self, user: UserInfo, namespace: str, errors: list[str]) -> Iterator[Grant]:
        """Every rule that applies to ``user`` in ``namespace`` ("": cluster-wide only),
        cluster bindings first; bindings whose role is missing add to ``errors``."""
        with self._store.lock:
            cluster_bindings = self._store.items(self._cluster_bindings)
            bindings = self._store.items(self._bindings, namespace) if namespace else []
        for binding in cluster_bindings:
            yield from self._granted(binding, user, "", errors)
        for binding in bindings:
            yield from self._granted(binding, user, namespace, errors)

    def _granted(
        self, binding: Obj, user: UserInfo, namespace: str, errors: list[str]
    ) -> Iterator[Grant]:
        subject = next(
            (s for s in binding.get("subjects") or [] if _applies(s, user, namespace)), None
        )
        if subject is None:
            return
        role = self._role(binding, namespace)
        ref = binding.get("roleRef") or {}
        if role is None:
            kind = str(ref.get("kind", "")).lower()
            errors.append(f'{kind}.{RBAC_GROUP} "{ref.get("name", "")}" not found')
            return
        source = _describe(binding, subject)
        for rule in role.get("rules") or []:
            yield Grant(rule, source)

    def _role(self, binding: Obj, namespace: str) -> Obj | None:
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole":
            return self._store.read(self._cluster_roles, "", str(ref.get("name", "")))
        if ref.get("kind") == "Role" and namespace:
            return self._store.read(self._roles, namespace, str(ref.get("name", "")))
        return None


def _aggregate(errors: list[str]) -> str:
    """One error as it is, several in brackets: how Kubernetes joins errors."""
    return errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]"


def rule_allows(rule: Obj, attributes: Attributes) -> bool:
    if not _has(rule.get("verbs"), attributes.verb):
        return False
    if not attributes.resource_request:
        return _url_matches(rule.get("nonResourceURLs") or [], attributes.path)
    return (
        _has(rule.get("apiGroups"), attributes.api_group)
        and _resource_matches(rule.get("resources") or [], attributes)
        and _name_matches(rule.get("resourceNames") or [], attributes.name)
    )


def _has(values: object, wanted: str) -> bool:
    return isinstance(values, list) and ("*" in values or wanted in values)


def _resource_matches(resources: list[str], attributes: Attributes) -> bool:
    sub = attributes.subresource
    return any(
        resource in ("*", attributes.combined_resource) or (bool(sub) and resource == f"*/{sub}")
        for resource in resources
    )


def _name_matches(names: list[str], name: str) -> bool:
    return not names or name in names


def _url_matches(urls: list[str], path: str) -> bool:
    return any(
        url in ("*", path) or (url.endswith("*") and path.startswith(url.rstrip("*")))
        for url in urls
    )


def _applies(subject: object, user: UserInfo, namespace: str) -> bool:
    if not isinstance(subject, dict):
        return False
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        # A RoleBinding's ServiceAccount subject without a namespace means the binding's own.
        account_namespace = subject.get("namespace") or namespace
        return bool(account_namespace) and split_service_account(user.name) == (
            account_namespace,
            name,
        )
    return False


def _describe(binding: Obj, subject: Obj) -> str:
    """``ClusterRoleBinding "b" of ClusterRole "r" to ServiceAccount "sa/ns"``, as RBAC says."""
    ref = binding.get("roleRef") or {}
    namespace = namespace_of(binding)
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        who = f'{kind} "{subject.get("name")}/{subject.get("namespace") or namespace}"'
    else:
        who = f'{kind} "{subject.get("name")}"'
    where = f"{name_of(binding)}/{namespace}" if namespace else name_of(binding)
    binding_kind = "RoleBinding" if namespace else "ClusterRoleBinding"
    return f'{binding_kind} "{where}" of {ref.get("kind")} "{ref.get("name")}" to {who}'


def forbidden(attributes: Attributes, reason: str = "") -> ApiError:
    """The 403 the API server answers a refused request with, worded as it words it."""
    message = _refusal(attributes).translate(_HTML_SAFE)
    if reason:
        message = f"{message}: {reason}"
    qualified = attributes.resource
    if qualified and attributes.api_group:
        qualified = f"{qualified}.{attributes.api_group}"
    if not qualified:
        message = f"forbidden: {message}"
    elif attributes.name:
        message = f'{qualified} "{attributes.name}" is forbidden: {message}'
    else:
        message = f"{qualified} is forbidden: {message}"
    details = {
        key: value
        for key, value in (
            ("name", attributes.name),
            ("group", attributes.api_group),
            ("kind", attributes.resource),
        )
        if value
    }
    return ApiError(403, message, details=details)


# The real server escapes these so a refusal never reads as HTML.
_HTML_SAFE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _refusal(attributes: Attributes) -> str:
    user = f'User "{attributes.user.name}" cannot {attributes.verb}'
    if not attributes.resource_request:
        return f'{user} path "{attributes.path}"'
    what = f'{user} resource "{attributes.combined_resource}" in API group "{attributes.api_group}"'
    if attributes.namespace:
        return f'{what} in the namespace "{attributes.namespace}"'
    return f"{what} at the cluster scope"
