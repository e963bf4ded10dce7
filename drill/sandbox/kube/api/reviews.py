"""The API's questions about the caller, and TokenRequest: answered, never stored.

``SelfSubjectAccessReview`` (``kubectl auth can-i VERB RESOURCE``) asks the authorizer about
one request; ``SelfSubjectRulesReview`` (``kubectl auth can-i --list``) lists the rules that
apply in a namespace; ``SelfSubjectReview`` (``kubectl auth whoami``) says who the caller is;
a TokenRequest (``POST .../serviceaccounts/NAME/token``, ``kubectl create token NAME``)
issues a ServiceAccount token. Each takes the request's body (JSON shape) and answers with
the object the real API answers with. This module must not know about HTTP.
"""

from __future__ import annotations

from drill.sandbox.kube.api.authn import DEFAULT_EXPIRATION_S, MIN_EXPIRATION_S, Tokens, UserInfo
from drill.sandbox.kube.api.errors import ApiError, bad_request, invalid
from drill.sandbox.kube.api.objects import Obj, name_of, namespace_of, rfc3339
from drill.sandbox.kube.api.rbac import Asked, Attributes, Authorizer
from drill.sandbox.kube.api.resources import ResourceType

AUTHORIZATION = "authorization.k8s.io/v1"
AUTHENTICATION = "authentication.k8s.io/v1"
_TOKEN_REQUEST = ResourceType(
    "authentication.k8s.io", "v1", "tokenrequests", "tokenrequest", "TokenRequest", True
)
_ACCESS_REVIEW = ResourceType(
    "authorization.k8s.io",
    "v1",
    "selfsubjectaccessreviews",
    "selfsubjectaccessreview",
    "SelfSubjectAccessReview",
    False,
)


def _answer(kind: str, api_version: str, **parts: object) -> Obj:
    return {
        "kind": kind,
        "apiVersion": api_version,
        "metadata": {"creationTimestamp": None},
        **parts,
    }


def _spec(body: object) -> Obj:
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise bad_request("spec must be an object")
    return spec


def access_review(body: object, user: UserInfo, authorizer: Authorizer) -> Obj:
    spec = _spec(body)
    resource, other = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (resource is None) == (other is None):
        why = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        raise invalid(_ACCESS_REVIEW, "", [("FieldValueInvalid", "spec.resourceAttributes", why)])
    asked = resource if isinstance(resource, dict) else other
    if not isinstance(asked, dict):
        raise bad_request("the attributes must be an object")
    decision = authorizer.authorize(_attributes(asked, user, resource_request=resource is not None))
    status: Obj = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    return _answer("SelfSubjectAccessReview", AUTHORIZATION, spec=spec, status=status)


def _attributes(asked: Obj, user: UserInfo, *, resource_request: bool) -> Attributes:
    text = {key: str(asked.get(key) or "") for key in asked}
    if not resource_request:
        return Asked(text.get("verb", ""), False, path=text.get("path", "")).by(user)
    return Asked(
        text.get("verb", ""),
        True,
        namespace=text.get("namespace", ""),
        api_group=text.get("group", ""),
        api_version=text.get("version", ""),
        resource=text.get("resource", ""),
        subresource=text.get("subresource", ""),
        name=text.get("name", ""),
    ).by(user)


def rules_review(body: object, user: UserInfo, authorizer: Authorizer) -> Obj:
    spec = _spec(body)
    errors: list[str] = []
    resource_rules: list[Obj] = []
    other_rules: list[Obj] = []
    for grant in authorizer.grants(user, str(spec.get("namespace") or ""), errors):
        rule = grant.rule
        if rule.get("nonResourceURLs"):
            other_rules.append(
                {"verbs": rule.get("verbs"), "nonResourceURLs": rule["nonResourceURLs"]}
            )
            continue
        kept: Obj = {"verbs": rule.get("verbs")}
        for key in ("apiGroups", "resources", "resourceNames"):
            if key in rule:
                kept[key] = rule[key]
        resource_rules.append(kept)
    status: Obj = {
        "resourceRules": resource_rules,
        "nonResourceRules": other_rules,
        "incomplete": bool(errors),
    }
    if errors:
        status["evaluationError"] = ", ".join(errors)
    return _answer("SelfSubjectRulesReview", AUTHORIZATION, spec=spec, status=status)


def self_subject_review(user: UserInfo) -> Obj:
    return _answer("SelfSubjectReview", AUTHENTICATION, status={"userInfo": user.as_object()})


def token_request(body: object, account: Obj, tokens: Tokens) -> Obj:
    """A token for ServiceAccount ``account``, as ``POST .../serviceaccounts/NAME/token``."""
    spec = _spec(body)
    expiration = spec.get("expirationSeconds") or DEFAULT_EXPIRATION_S
    if not isinstance(expiration, int) or expiration < MIN_EXPIRATION_S:
        cause = f"Invalid value: {expiration}: may not specify a duration less than 10 minutes"
        raise invalid(
            _TOKEN_REQUEST,
            name_of(account),
            [("FieldValueInvalid", "spec.expirationSeconds", cause)],
        )
    audiences = spec.get("audiences") or []
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise ApiError(422, "spec.audiences must be a list of strings")
    issued = tokens.issue(account, audiences=audiences, expiration_s=expiration)
    return {
        "kind": "TokenRequest",
        "apiVersion": AUTHENTICATION,
        "metadata": {
            "name": name_of(account),
            "namespace": namespace_of(account),
            "creationTimestamp": rfc3339(issued.issued_at),
        },
        "spec": {
            "audiences": list(issued.audiences),
            "expirationSeconds": expiration,
            "boundObjectRef": spec.get("boundObjectRef"),
        },
        "status": {"token": issued.token, "expirationTimestamp": rfc3339(issued.expires_at)},
    }
