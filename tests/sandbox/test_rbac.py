"""RBAC in the emulated API server: what a ServiceAccount may do, and the real refusals.

The grants are asked the way ``kubectl auth can-i --as`` asks them (a SelfSubjectAccessReview
sent by the admin, impersonating the account) and then exercised with the account's own
token, so both the rule matching and the 403s a client sees are checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.sandbox.helpers import Cluster, deployment, raw_http, service_account, token_of

TokenClient = Callable[[Cluster, str], client.ApiClient]
ROBOT = "system:serviceaccount:team:robot"
RBAC = "rbac.authorization.k8s.io"


def role(kind: str, name: str, rules: list[dict[str, Any]], namespace: str | None = None) -> Any:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": metadata, "rules": rules}


def binding(
    kind: str,
    name: str,
    role_ref: tuple[str, str],
    subjects: list[dict[str, str]],
    namespace: str | None = None,
) -> Any:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": RBAC, "kind": role_ref[0], "name": role_ref[1]},
        "subjects": subjects,
    }


ROBOT_SUBJECT = {"kind": "ServiceAccount", "name": "robot", "namespace": "team"}


def can(cluster: Cluster, verb: str, resource: str, **attributes: str) -> bool:
    """``kubectl auth can-i VERB RESOURCE --as system:serviceaccount:team:robot``."""
    spec = {"resourceAttributes": {"verb": verb, "resource": resource, **attributes}}
    review = client.AuthorizationV1Api(cluster.api_client).create_self_subject_access_review(
        {"spec": spec}, _headers={"Impersonate-User": ROBOT}
    )
    return bool(review.status.allowed)


def can_get_path(cluster: Cluster, path: str) -> bool:
    spec = {"nonResourceAttributes": {"verb": "get", "path": path}}
    review = client.AuthorizationV1Api(cluster.api_client).create_self_subject_access_review(
        {"spec": spec}, _headers={"Impersonate-User": ROBOT}
    )
    return bool(review.status.allowed)


@pytest.fixture
def team(still_cluster: Cluster) -> Cluster:
    service_account(still_cluster, "team", "robot")
    still_cluster.namespace("other")
    return still_cluster


def grant(cluster: Cluster, rules: list[dict[str, Any]], *, cluster_wide: bool = False) -> None:
    if cluster_wide:
        cluster.emulator.apply(role("ClusterRole", "granted", rules))
        cluster.emulator.apply(
            binding("ClusterRoleBinding", "granted", ("ClusterRole", "granted"), [ROBOT_SUBJECT])
        )
        return
    cluster.emulator.apply(role("Role", "granted", rules, "team"))
    cluster.emulator.apply(
        binding("RoleBinding", "granted", ("Role", "granted"), [ROBOT_SUBJECT], "team")
    )


def test_an_account_without_bindings_may_only_discover_and_ask(team: Cluster) -> None:
    assert not can(team, "list", "pods", namespace="team")
    assert not can(team, "get", "namespaces", name="team")
    for path in ("/api", "/api/v1", "/apis", "/apis/velero.io/v1", "/version", "/healthz"):
        assert can_get_path(team, path), path
    assert not can_get_path(team, "/metrics")
    assert can(team, "create", "selfsubjectaccessreviews", group="authorization.k8s.io")


def test_verbs_groups_and_resources_must_all_match(team: Cluster) -> None:
    grant(team, [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}])
    assert can(team, "list", "deployments", group="apps", namespace="team")
    assert can(team, "get", "deployments", group="apps", namespace="team", name="web")
    assert not can(team, "watch", "deployments", group="apps", namespace="team")
    assert not can(team, "list", "deployments", group="", namespace="team")
    assert not can(team, "list", "statefulsets", group="apps", namespace="team")
    # A resource grants nothing on its subresources.
    assert not can(team, "get", "deployments", group="apps", namespace="team", subresource="scale")


def test_subresources_by_name_or_by_wildcard(team: Cluster) -> None:
    grant(
        team,
        [
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
            {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["patch"]},
        ],
    )
    assert can(team, "get", "pods", subresource="log", namespace="team", name="p")
    assert not can(team, "get", "pods", namespace="team", name="p")
    for kind in ("deployments", "statefulsets"):
        assert can(team, "patch", kind, group="apps", subresource="scale", namespace="team")
    assert not can(team, "patch", "deployments", group="apps", namespace="team")


def test_wildcards_grant_everything_they_stand_for(team: Cluster) -> None:
    grant(team, [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
    assert can(team, "deletecollection", "restores", group="velero.io", namespace="team")
    assert can(team, "update", "deployments", group="apps", subresource="status", namespace="team")
    assert not can(team, "list", "pods", namespace="other")  # a Role stays in its namespace


def test_resource_names_limit_named_requests_only(team: Cluster) -> None:
    grant(
        team,
        [
            {
                "apiGroups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "resourceNames": ["drill-plan"],
                "verbs": ["get", "list"],
            }
        ],
    )
    leases = {"group": "coordination.k8s.io", "namespace": "team"}
    assert can(team, "get", "leases", name="drill-plan", **leases)
    assert not can(team, "get", "leases", name="someone-else", **leases)
    assert not can(team, "list", "leases", **leases)  # a list names nothing


def test_cluster_roles_bound_cluster_wide_or_in_one_namespace(team: Cluster) -> None:
    team.emulator.apply(
        role(
            "ClusterRole", "reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
        )
    )
    team.emulator.apply(
        binding("RoleBinding", "reader", ("ClusterRole", "reader"), [ROBOT_SUBJECT], "other")
    )
    assert can(team, "list", "pods", namespace="other")
    assert not can(team, "list", "pods", namespace="team")
    assert not can(team, "list", "pods")  # all namespaces is the cluster scope
    team.emulator.apply(
        binding("ClusterRoleBinding", "reader", ("ClusterRole", "reader"), [ROBOT_SUBJECT])
    )
    assert can(team, "list", "pods")
    assert can(team, "list", "pods", namespace="team")


@pytest.mark.parametrize(
    "subject",
    [
        {"kind": "ServiceAccount", "name": "robot"},  # the binding's own namespace
        {"kind": "Group", "name": "system:serviceaccounts:team"},
        {"kind": "Group", "name": "system:authenticated"},
        {"kind": "User", "name": ROBOT},
    ],
    ids=["account-in-binding-namespace", "namespace-group", "all-authenticated", "user"],
)
def test_every_kind_of_subject_names_the_account(team: Cluster, subject: dict[str, str]) -> None:
    team.emulator.apply(
        role("Role", "r", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}], "team")
    )
    team.emulator.apply(binding("RoleBinding", "r", ("Role", "r"), [subject], "team"))
    assert can(team, "list", "pods", namespace="team")


def test_a_subject_for_someone_else_grants_nothing(team: Cluster) -> None:
    team.emulator.apply(
        role("Role", "r", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}], "team")
    )
    for subject in (
        {"kind": "ServiceAccount", "name": "robot", "namespace": "other"},
        {"kind": "Group", "name": "system:serviceaccounts:other"},
        {"kind": "User", "name": "robot"},
    ):
        team.emulator.apply(binding("RoleBinding", "r", ("Role", "r"), [subject], "team"))
        assert not can(team, "list", "pods", namespace="team"), subject


def test_refusals_are_the_real_servers_403s(team: Cluster, token_client: TokenClient) -> None:
    grant(team, [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}])
    robot = token_client(team, token_of(team, "team", "robot"))
    apps, core = client.AppsV1Api(robot), client.CoreV1Api(robot)
    apps.create_namespaced_deployment("team", deployment("web"))

    refusals: dict[str, tuple[Callable[[], object], str]] = {
        "list pods": (
            lambda: core.list_namespaced_pod("team"),
            'pods is forbidden: User "system:serviceaccount:team:robot" cannot list resource '
            '"pods" in API group "" in the namespace "team"',
        ),
        "read scale": (
            lambda: apps.read_namespaced_deployment_scale("web", "team"),
            'deployments.apps "web" is forbidden: User "system:serviceaccount:team:robot" '
            'cannot get resource "deployments/scale" in API group "apps" in the namespace "team"',
        ),
        "create namespace": (
            lambda: core.create_namespace({"metadata": {"name": "mine"}}),
            'namespaces is forbidden: User "system:serviceaccount:team:robot" cannot create '
            'resource "namespaces" in API group "" at the cluster scope',
        ),
        "read own namespace": (
            lambda: core.read_namespace("team"),
            'namespaces "team" is forbidden: User "system:serviceaccount:team:robot" cannot get '
            'resource "namespaces" in API group "" in the namespace "team"',
        ),
        "watch by name": (
            lambda: core.list_namespaced_pod(
                "team", watch=True, field_selector="metadata.name=p", _preload_content=False
            ),
            'pods "p" is forbidden: User "system:serviceaccount:team:robot" cannot watch '
            'resource "pods" in API group "" in the namespace "team"',
        ),
    }
    for what, (call, message) in refusals.items():
        with pytest.raises(ApiException) as refused:
            call()
        status = json.loads(refused.value.body)
        assert (refused.value.status, status["reason"], status["message"]) == (
            403,
            "Forbidden",
            message,
        ), what
    with pytest.raises(ApiException) as scale:
        apps.read_namespaced_deployment_scale("web", "team")
    assert json.loads(scale.value.body)["details"] == {
        "name": "web",
        "group": "apps",
        "kind": "deployments",
    }


def test_a_path_refusal_and_a_missing_role_are_worded_as_rbac_words_them(team: Cluster) -> None:
    team.emulator.apply(
        binding("RoleBinding", "dangling", ("Role", "ghost"), [ROBOT_SUBJECT], "team")
    )
    robot = raw_http(team.emulator, team.emulator.token_for("team", "robot"))
    metrics = robot.request("GET", f"{team.emulator.url}/metrics").json()
    assert metrics["message"] == (
        'forbidden: User "system:serviceaccount:team:robot" cannot get path "/metrics"'
    )
    pods = robot.request("GET", f"{team.emulator.url}/api/v1/namespaces/team/pods").json()
    assert pods["message"].endswith(
        'in the namespace "team": RBAC: role.rbac.authorization.k8s.io "ghost" not found'
    )


def test_unserved_resources_are_refused_before_they_are_found_missing(team: Cluster) -> None:
    robot = raw_http(team.emulator, team.emulator.token_for("team", "robot"))
    answer = robot.request("GET", f"{team.emulator.url}/apis/apps/v1/namespaces/team/daemonsets")
    assert answer.status == 403
    admin = raw_http(team.emulator, team.emulator.admin_token)
    assert admin.request("GET", f"{team.emulator.url}/apis/apps/v1/daemonsets").status == 404


def test_a_rules_review_lists_what_applies_in_a_namespace(team: Cluster) -> None:
    grant(team, [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}])
    review = client.AuthorizationV1Api(team.api_client).create_self_subject_rules_review(
        {"spec": {"namespace": "team"}}, _headers={"Impersonate-User": ROBOT}
    )
    rules = [(r.verbs, r.api_groups, r.resources) for r in review.status.resource_rules]
    assert (["list"], [""], ["pods"]) in rules
    assert review.status.incomplete is False
    elsewhere = client.AuthorizationV1Api(team.api_client).create_self_subject_rules_review(
        {"spec": {"namespace": "other"}}, _headers={"Impersonate-User": ROBOT}
    )
    assert (["list"], [""], ["pods"]) not in [
        (r.verbs, r.api_groups, r.resources) for r in elsewhere.status.resource_rules
    ]


def test_an_allowed_review_says_which_binding_allowed_it(team: Cluster) -> None:
    grant(team, [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}])
    spec = {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "team"}}
    review = client.AuthorizationV1Api(team.api_client).create_self_subject_access_review(
        {"spec": spec}, _headers={"Impersonate-User": ROBOT}
    )
    assert review.status.reason == (
        'RBAC: allowed by RoleBinding "granted/team" of Role "granted" to '
        'ServiceAccount "robot/team"'
    )
