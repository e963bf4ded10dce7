"""The table of resource types the emulator serves, and the discovery documents built from it.

One row per resource: adding a kind is one ``ResourceType`` here plus, if it needs them,
defaults and validation. This module describes resources; it must not store, validate or
route anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from drill.sandbox.kube.api.objects import Obj

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS = ("get", "patch", "update")
SERVER_VERSION: Obj = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-drill-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How the real API names the resource in messages: ``deployments.apps``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """How the real API names the kind in Invalid messages: ``Deployment.apps``."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status_subresource(self) -> bool:
        return "status" in self.subresources


def _rt(
    api_version: str,
    plural: str,
    kind: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    sub: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    verbs: tuple[str, ...] = STANDARD_VERBS,
) -> ResourceType:
    group, _, version = api_version.rpartition("/")
    return ResourceType(
        group, version, plural, kind.lower(), kind, namespaced, short, sub, categories, verbs
    )


_ALL = ("all",)
_CREATE_ONLY = ("create",)
_VELERO = ("velero",)

RESOURCES: tuple[ResourceType, ...] = (
    _rt(
        "v1",
        "namespaces",
        "Namespace",
        namespaced=False,
        short=("ns",),
        sub=("status", "finalize"),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    _rt("v1", "pods", "Pod", short=("po",), sub=("status", "log"), categories=_ALL),
    _rt("v1", "services", "Service", short=("svc",), sub=("status", "proxy"), categories=_ALL),
    _rt("v1", "configmaps", "ConfigMap", short=("cm",)),
    _rt("v1", "events", "Event", short=("ev",)),
    _rt("v1", "secrets", "Secret"),
    _rt("v1", "serviceaccounts", "ServiceAccount", short=("sa",), sub=("token",)),
    _rt(
        "apps/v1",
        "deployments",
        "Deployment",
        short=("deploy",),
        sub=("scale", "status"),
        categories=_ALL,
    ),
    _rt(
        "apps/v1",
        "statefulsets",
        "StatefulSet",
        short=("sts",),
        sub=("scale", "status"),
        categories=_ALL,
    ),
    _rt("batch/v1", "jobs", "Job", sub=("status",), categories=_ALL),
    # Stored as written, so drill's own CronJob can be applied; nothing schedules CronJobs.
    _rt("batch/v1", "cronjobs", "CronJob", short=("cj",), sub=("status",), categories=_ALL),
    _rt("coordination.k8s.io/v1", "leases", "Lease"),
    # Kept within their bounds by controllers/autoscalers.py (there are no metrics).
    _rt(
        "autoscaling/v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        sub=("status",),
        categories=_ALL,
    ),
    # Enforced for every request (api/rbac.py).
    _rt("rbac.authorization.k8s.io/v1", "roles", "Role"),
    _rt("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding"),
    _rt("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", namespaced=False),
    _rt(
        "rbac.authorization.k8s.io/v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        namespaced=False,
    ),
    # Asked, answered and never stored: what the caller may do (kubectl auth can-i [--list]),
    # who the caller is (kubectl auth whoami).
    _rt(
        "authorization.k8s.io/v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        namespaced=False,
        verbs=_CREATE_ONLY,
    ),
    _rt(
        "authorization.k8s.io/v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        namespaced=False,
        verbs=_CREATE_ONLY,
    ),
    _rt(
        "authentication.k8s.io/v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
        namespaced=False,
        verbs=_CREATE_ONLY,
    ),
    # Velero's CRDs declare no status subresource: status travels with the main object.
    _rt("velero.io/v1", "backups", "Backup", categories=_VELERO),
    _rt("velero.io/v1", "restores", "Restore", categories=_VELERO),
    _rt("velero.io/v1", "schedules", "Schedule", categories=_VELERO),
    _rt("velero.io/v1", "downloadrequests", "DownloadRequest", categories=_VELERO),
    _rt(
        "velero.io/v1",
        "backupstoragelocations",
        "BackupStorageLocation",
        short=("bsl",),
        categories=_VELERO,
    ),
)


class Registry:
    """Look-ups over ``RESOURCES`` by URL parts and by apiVersion + kind."""

    def __init__(self, resources: tuple[ResourceType, ...] = RESOURCES) -> None:
        self.resources = resources
        self._by_path = {(r.group, r.version, r.plural): r for r in resources}
        self._by_kind = {(r.api_version, r.kind): r for r in resources}

    def by_path(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def get(self, api_version: str, kind: str) -> ResourceType:
        found = self.by_kind(api_version, kind)
        if found is None:
            raise KeyError(f"the emulator does not serve {kind} ({api_version})")
        return found

    def group_versions(self) -> dict[str, list[str]]:
        """Each group (core is ``""``) and the versions it serves, in table order."""
        found: dict[str, list[str]] = {}
        for r in self.resources:
            versions = found.setdefault(r.group, [])
            if r.version not in versions:
                versions.append(r.version)
        return found

    def in_group_version(self, group: str, version: str) -> Iterator[ResourceType]:
        return (r for r in self.resources if r.group == group and r.version == version)
