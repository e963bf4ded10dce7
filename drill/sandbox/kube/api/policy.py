"""The RBAC objects every cluster starts with: a subset of Kubernetes' bootstrap policy.

``cluster-admin`` (everything) bound to ``system:masters``; ``system:discovery`` and
``system:public-info-viewer`` (``/api``, ``/apis``, ``/version`` and the health paths) and
``system:basic-user`` (asking what one may do, and who one is) bound to every authenticated
user. So a ServiceAccount with no binding of its own can still discover the API and run
``kubectl auth can-i``, and nothing more, as on a real cluster. The objects carry the labels
and annotations the real ones carry. This module only describes them; the emulator seeds them.
"""

from __future__ import annotations

from drill.sandbox.kube.api.authn import AUTHENTICATED, MASTERS
from drill.sandbox.kube.api.objects import Obj

_API = "rbac.authorization.k8s.io/v1"


def _metadata(name: str) -> Obj:
    return {
        "name": name,
        "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    }


_HEALTH = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
_DISCOVERY = ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", *_HEALTH]

# (name, rules, groups bound)
_ROLES: tuple[tuple[str, list[Obj], list[str]], ...] = (
    (
        "cluster-admin",
        [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["*"]},
        ],
        [MASTERS],
    ),
    ("system:discovery", [{"nonResourceURLs": _DISCOVERY, "verbs": ["get"]}], [AUTHENTICATED]),
    (
        "system:public-info-viewer",
        [{"nonResourceURLs": _HEALTH, "verbs": ["get"]}],
        [AUTHENTICATED, "system:unauthenticated"],
    ),
    (
        "system:basic-user",
        [
            {
                "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                "verbs": ["create"],
            },
            {
                "apiGroups": ["authentication.k8s.io"],
                "resources": ["selfsubjectreviews"],
                "verbs": ["create"],
            },
        ],
        [AUTHENTICATED],
    ),
)


def bootstrap_objects() -> list[Obj]:
    """The ClusterRoles, then the ClusterRoleBindings, as manifests to create."""
    roles = [
        {
            "apiVersion": _API,
            "kind": "ClusterRole",
            "metadata": _metadata(name),
            "rules": rules,
        }
        for name, rules, _ in _ROLES
    ]
    bindings = [
        {
            "apiVersion": _API,
            "kind": "ClusterRoleBinding",
            "metadata": _metadata(name),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}
                for group in groups
            ],
        }
        for name, _, groups in _ROLES
    ]
    return roles + bindings
