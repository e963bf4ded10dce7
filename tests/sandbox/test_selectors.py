"""Label and field selectors on list, through the real client, plus the parser on its own."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.selectors import (
    parse_label_selector,
    selector_from_object,
    selector_to_string,
)
from tests.sandbox.helpers import ROOT_CA, Cluster, deployment

LABELLED = {
    "a": {"app": "web", "tier": "fe"},
    "b": {"app": "api", "tier": "be"},
    "c": {"app": "db"},
}


@pytest.fixture
def labelled(still_cluster: Cluster) -> Cluster:
    for name, labels in LABELLED.items():
        body = {"metadata": {"name": name, "labels": labels}, "data": {}}
        still_cluster.core.create_namespaced_config_map("default", body)
    return still_cluster


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["a"]),
        ("app==web", ["a"]),
        # The namespace's CA bundle has no labels: it matches what asks for an absence.
        ("app!=web", ["b", "c", ROOT_CA]),
        ("app in (web,api)", ["a", "b"]),
        ("app notin (web,api)", ["c", ROOT_CA]),
        ("tier", ["a", "b"]),
        ("!tier", ["c", ROOT_CA]),
        ("tier!=fe", ["b", "c", ROOT_CA]),
        ("app in (web, db),!tier", ["c"]),
        ("", ["a", "b", "c", ROOT_CA]),
    ],
)
def test_label_selectors_filter_lists(
    labelled: Cluster, selector: str, expected: list[str]
) -> None:
    found = labelled.core.list_namespaced_config_map("default", label_selector=selector).items
    assert [cm.metadata.name for cm in found] == expected


def test_field_selectors_on_name_and_namespace(labelled: Cluster) -> None:
    by_name = labelled.core.list_namespaced_config_map("default", field_selector="metadata.name=b")
    assert [cm.metadata.name for cm in by_name.items] == ["b"]
    not_b = labelled.core.list_config_map_for_all_namespaces(
        field_selector="metadata.name!=b,metadata.namespace=default"
    )
    assert [cm.metadata.name for cm in not_b.items] == ["a", "c", ROOT_CA]


def test_an_unsupported_field_is_400(labelled: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        labelled.core.list_namespaced_config_map("default", field_selector="data.x=1")
    assert caught.value.status == 400


def test_each_kinds_selectable_fields(still_cluster: Cluster) -> None:
    """What the kinds' strategies make selectable beyond metadata: a Secret's type, a Job's
    status.successful (0 until one succeeds), a namespace's phase, an Event's involvedObject."""
    core = still_cluster.core
    core.create_namespaced_secret("default", {"metadata": {"name": "plain"}})
    tls = {"metadata": {"name": "cert"}, "type": "kubernetes.io/tls"}
    tls["data"] = {"tls.crt": "", "tls.key": ""}
    core.create_namespaced_secret("default", tls)
    typed = core.list_namespaced_secret("default", field_selector="type=kubernetes.io/tls")
    assert [s.metadata.name for s in typed.items] == ["cert"]
    job = {
        "metadata": {"name": "j"},
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "t", "image": "x"}]}
            }
        },
    }
    still_cluster.batch.create_namespaced_job("default", job)
    waiting = still_cluster.batch.list_namespaced_job(
        "default", field_selector="status.successful=0"
    )
    assert [j.metadata.name for j in waiting.items] == ["j"]
    active = core.list_namespace(field_selector="status.phase=Active").items
    assert "default" in {n.metadata.name for n in active}
    assert core.list_namespaced_event("default", field_selector="involvedObject.name=j").items == []


def test_a_malformed_label_selector_is_400(labelled: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        labelled.core.list_namespaced_config_map("default", label_selector="app in web")
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("app=-x", 'values[0][app]: Invalid value: "-x": a valid label must be an empty string'),
        ("app=" + "x" * 64, "must be no more than 63 bytes"),
        ("a/b/c=x", 'key: Invalid value: "a/b/c": a valid label key must consist'),
        ("/app", 'key: Invalid value: "/app": prefix part must be non-empty'),
        ("app in (web,-api)", 'values[1][app]: Invalid value: "-api"'),
        ("rank>high", "for 'Gt', 'Lt' operators, the value must be an integer"),
    ],
)
def test_a_label_selector_with_a_bad_key_or_value_is_400(
    labelled: Cluster, selector: str, message: str
) -> None:
    """apimachinery's labels.Parse checks each requirement with NewRequirement."""
    with pytest.raises(ApiException) as caught:
        labelled.core.list_namespaced_config_map("default", label_selector=selector)
    assert caught.value.status == 400
    status = json.loads(caught.value.body)
    assert status["message"].startswith("unable to parse requirement: ")
    assert message in status["message"]


def test_greater_than_less_than_and_empty_set_values(still_cluster: Cluster) -> None:
    for name, labels in (("one", {"rank": "1", "tier": ""}), ("five", {"rank": "5"})):
        body = {"metadata": {"name": name, "labels": labels}}
        still_cluster.core.create_namespaced_config_map("default", body)

    def names(selector: str) -> list[str]:
        listed = still_cluster.core.list_namespaced_config_map("default", label_selector=selector)
        return [cm.metadata.name for cm in listed.items]

    assert names("rank>2") == ["five"]
    assert names("rank<2") == ["one"]
    assert names("tier in ()") == ["one"], "() is the one empty value"


def test_deployments_list_across_namespaces(still_cluster: Cluster) -> None:
    for ns in ("one", "two"):
        still_cluster.namespace(ns)
        still_cluster.apps.create_namespaced_deployment(ns, deployment("web"))
    found = still_cluster.apps.list_deployment_for_all_namespaces(label_selector="app=web")
    assert [(d.metadata.namespace, d.metadata.name) for d in found.items] == [
        ("one", "web"),
        ("two", "web"),
    ]


def test_lists_page_with_limit_and_continue(labelled: Cluster) -> None:
    first = labelled.core.list_namespaced_config_map("default", limit=2)
    assert [cm.metadata.name for cm in first.items] == ["a", "b"]
    assert first.metadata.remaining_item_count == 2
    rest = labelled.core.list_namespaced_config_map(
        "default", limit=2, _continue=first.metadata._continue
    )
    assert [cm.metadata.name for cm in rest.items] == ["c", ROOT_CA]
    assert rest.metadata._continue is None


def test_a_limit_below_one_does_not_page(labelled: Cluster) -> None:
    """The API server pages only when limit > 0 (etcd3 store.GetList: paging := Limit > 0)."""
    for limit in (-1, 0):
        listed = labelled.core.list_namespaced_config_map("default", limit=limit)
        assert [cm.metadata.name for cm in listed.items] == ["a", "b", "c", ROOT_CA], limit
        assert listed.metadata._continue is None
        assert listed.metadata.remaining_item_count is None


def test_object_selectors_convert_both_ways() -> None:
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}],
    }
    assert selector_to_string(selector) == "app=web,tier in (be,fe)"
    assert selector_from_object(selector).matches(
        {"metadata": {"labels": {"app": "web", "tier": "fe"}}}
    )
    assert not selector_from_object(selector).matches({"metadata": {"labels": {"app": "web"}}})


def test_the_parser_rejects_garbage() -> None:
    with pytest.raises(ApiError):
        parse_label_selector("a b c")
