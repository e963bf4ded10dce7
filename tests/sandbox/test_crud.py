"""Create, read, list, replace and delete every resource kind through the real kubernetes client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sandbox.helpers import ROOT_CA, Cluster, deployment, raw_http, wait_for

MERGE = "application/merge-patch+json"


def status_of(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def test_namespaces_have_server_fields_and_the_name_label(cluster: Cluster) -> None:
    created = cluster.core.create_namespace({"metadata": {"name": "shop"}})
    assert created.status.phase == "Active"
    assert created.metadata.labels == {"kubernetes.io/metadata.name": "shop"}
    assert created.metadata.uid
    assert created.metadata.resource_version
    assert created.metadata.creation_timestamp is not None
    names = [ns.metadata.name for ns in cluster.core.list_namespace().items]
    assert {"default", "kube-system", "velero", "shop"} <= set(names)


def test_deployment_round_trip_with_generation_and_resource_version(still_cluster: Cluster) -> None:
    cluster = still_cluster
    ns = cluster.namespace("shop")
    created = cluster.apps.create_namespaced_deployment(ns, deployment("web"))
    assert created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"  # defaulted
    assert created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"

    body = created.to_dict(serialize=True)
    body["spec"]["replicas"] = 4
    replaced = cluster.apps.replace_namespaced_deployment("web", ns, body)
    assert replaced.metadata.generation == 2
    assert int(replaced.metadata.resource_version) > int(body["metadata"]["resourceVersion"])
    assert replaced.metadata.uid == created.metadata.uid

    labels = cluster.apps.patch_namespaced_deployment(
        "web", ns, {"metadata": {"labels": {"tier": "fe"}}}
    )
    assert labels.metadata.generation == 2, "a metadata-only change does not bump generation"


def test_only_kinds_that_track_a_generation_have_one(cluster: Cluster) -> None:
    """PrepareForCreate sets generation 1 for workloads, Jobs, CronJobs and custom resources;
    ConfigMaps, Services, Pods (1.32) and namespaces have none, before or after an update."""
    ns = cluster.namespace("gen")
    cfg = cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    assert cfg.metadata.generation is None
    patched = cluster.core.patch_namespaced_config_map("c", ns, {"data": {"k": "v"}})
    assert patched.metadata.generation is None
    assert cluster.core.read_namespace(ns).metadata.generation is None
    body = {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
    assert cluster.core.create_namespaced_service(ns, body).metadata.generation is None
    assert cluster.apps.create_namespaced_deployment(ns, deployment("w")).metadata.generation == 1


def test_replace_with_a_stale_resource_version_is_a_409_conflict(cluster: Cluster) -> None:
    ns = cluster.namespace("shop")
    created = cluster.apps.create_namespaced_deployment(ns, deployment("web"))
    cluster.apps.patch_namespaced_deployment("web", ns, {"spec": {"replicas": 2}})
    stale = created.to_dict(serialize=True)
    with pytest.raises(ApiException) as caught:
        cluster.apps.replace_namespaced_deployment("web", ns, stale)
    assert caught.value.status == 409
    status = status_of(caught.value)
    assert status["kind"] == "Status"
    assert status["apiVersion"] == "v1"
    assert status["status"] == "Failure"
    assert status["reason"] == "Conflict"
    assert status["code"] == 409
    assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    assert "the object has been modified" in status["message"]


def test_replace_carrying_another_uid_is_a_409_precondition_failure(cluster: Cluster) -> None:
    """A uid in an update's body is a precondition: the object was deleted and made again
    since it was read, and the update must not land on the new one."""
    ns = cluster.namespace("shop")
    first = cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}})
    read = first.to_dict(serialize=True)
    cluster.core.delete_namespaced_config_map("cfg", ns)
    second = cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}})
    read["metadata"].pop("resourceVersion")
    read["data"] = {"k": "v"}
    with pytest.raises(ApiException) as caught:
        cluster.core.replace_namespaced_config_map("cfg", ns, read)
    assert caught.value.status == 409
    status = status_of(caught.value)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        f'Operation cannot be fulfilled on configmaps "cfg": Precondition failed: UID in '
        f"precondition: {first.metadata.uid}, UID in object meta: {second.metadata.uid}"
    )
    assert cluster.core.read_namespaced_config_map("cfg", ns).data is None
    read["metadata"]["uid"] = second.metadata.uid
    assert cluster.core.replace_namespaced_config_map("cfg", ns, read).data == {"k": "v"}


def test_a_patch_may_not_change_the_uid_name_or_namespace(cluster: Cluster) -> None:
    ns = cluster.namespace("shop")
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}})
    for patch, code, message in (
        ({"metadata": {"uid": "0" * 8}}, 422, 'metadata.uid: Invalid value: "00000000": field is'),
        ({"metadata": {"name": "other"}}, 400, "the name of the object (other) does not match"),
        ({"metadata": {"namespace": "default"}}, 400, "the namespace of the object (default)"),
    ):
        with pytest.raises(ApiException) as caught:
            cluster.core.patch_namespaced_config_map("cfg", ns, patch)
        assert caught.value.status == code, patch
        assert message in status_of(caught.value)["message"]
    names = [c.metadata.name for c in cluster.core.list_namespaced_config_map(ns).items]
    assert [name for name in names if name != ROOT_CA] == ["cfg"]  # nothing made by a patch


def test_an_apps_v1_selector_is_immutable(cluster: Cluster) -> None:
    ns = cluster.namespace("shop")
    cluster.apps.create_namespaced_deployment(ns, deployment("web"))
    moved = {"app": "web2"}
    patch = {
        "spec": {"selector": {"matchLabels": moved}, "template": {"metadata": {"labels": moved}}}
    }
    with pytest.raises(ApiException) as caught:
        cluster.apps.patch_namespaced_deployment("web", ns, patch, _content_type=MERGE)
    assert caught.value.status == 422
    causes = status_of(caught.value)["details"]["causes"]
    assert [(c["field"], c["message"].endswith("field is immutable")) for c in causes] == [
        ("spec.selector", True)
    ]
    kept = cluster.apps.read_namespaced_deployment("web", ns).spec.selector.match_labels
    assert kept == {"app": "web"}
    scaled = cluster.apps.patch_namespaced_deployment("web", ns, {"spec": {"replicas": 3}})
    assert scaled.spec.replicas == 3


def test_a_statefulset_update_may_change_only_what_the_server_allows(cluster: Cluster) -> None:
    ns = cluster.namespace("shop")
    body = deployment("db")
    body["kind"] = "StatefulSet"
    body["spec"]["serviceName"] = "db"
    cluster.apps.create_namespaced_stateful_set(ns, body)
    with pytest.raises(ApiException) as caught:
        cluster.apps.patch_namespaced_stateful_set("db", ns, {"spec": {"serviceName": "other"}})
    assert caught.value.status == 422
    (cause,) = status_of(caught.value)["details"]["causes"]
    assert (cause["reason"], cause["field"]) == ("FieldValueForbidden", "spec")
    assert cause["message"].startswith(
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
    )
    changed = cluster.apps.patch_namespaced_stateful_set(
        "db", ns, {"spec": {"replicas": 2, "minReadySeconds": 5}}
    )
    assert (changed.spec.replicas, changed.spec.min_ready_seconds) == (2, 5)


def job_body(name: str, **spec: Any) -> dict[str, Any]:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "t", "image": "x"}]}}
    return {"metadata": {"name": name}, "spec": {"template": template, **spec}}


def test_a_jobs_template_selector_and_completions_are_immutable(still_cluster: Cluster) -> None:
    cluster = still_cluster
    ns = cluster.namespace("batch")
    cluster.batch.create_namespaced_job(ns, job_body("run"))
    image = {"spec": {"template": {"spec": {"containers": [{"name": "t", "image": "y"}]}}}}
    for patch, field in (
        (image, "spec.template"),
        ({"spec": {"completions": 3}}, "spec.completions"),
        ({"spec": {"selector": {"matchLabels": {"job-name": "run"}}}}, "spec.selector"),
    ):
        with pytest.raises(ApiException) as caught:
            cluster.batch.patch_namespaced_job("run", ns, patch)
        assert caught.value.status == 422, patch
        causes = status_of(caught.value)["details"]["causes"]
        assert [c["field"] for c in causes] == [field]
        assert causes[0]["message"].endswith(": field is immutable")
    stored = cluster.batch.read_namespaced_job("run", ns).spec
    assert (stored.template.spec.containers[0].image, stored.completions) == ("x", 1)
    assert cluster.batch.patch_namespaced_job("run", ns, {"spec": {"parallelism": 0}})

    cluster.batch.create_namespaced_job(ns, job_body("held", suspend=True))
    directives = {"spec": {"template": {"spec": {"nodeSelector": {"zone": "b"}}}}}
    moved = cluster.batch.patch_namespaced_job("held", ns, directives)
    assert moved.spec.template.spec.node_selector == {"zone": "b"}, "suspended, never started"
    with pytest.raises(ApiException) as caught:
        cluster.batch.patch_namespaced_job("held", ns, image)
    assert caught.value.status == 422


def test_a_job_spec_is_validated_as_batch_validates_it(cluster: Cluster) -> None:
    ns = cluster.namespace("batch")
    for spec, field, message in (
        ({"parallelism": -1}, "spec.parallelism", "Invalid value: -1: must be greater than"),
        ({"backoffLimit": -1}, "spec.backoffLimit", "Invalid value: -1: must be greater than"),
        ({"activeDeadlineSeconds": -5}, "spec.activeDeadlineSeconds", "Invalid value: -5: "),
        (
            {"selector": {"matchLabels": {"app": "x"}}},
            "spec.selector",
            "`selector` not auto-generated",
        ),
    ):
        body = job_body("bad", **spec)
        body["spec"]["template"]["metadata"] = {"labels": {"app": "x"}}
        with pytest.raises(ApiException) as caught:
            cluster.batch.create_namespaced_job(ns, body)
        assert caught.value.status == 422, spec
        causes = status_of(caught.value)["details"]["causes"]
        assert [c["field"] for c in causes] == [field], causes
        assert message in causes[0]["message"]
    unset = job_body("unset")
    del unset["spec"]["template"]["spec"]["restartPolicy"]
    with pytest.raises(ApiException) as caught:
        cluster.batch.create_namespaced_job(ns, unset)
    (cause,) = status_of(caught.value)["details"]["causes"]
    assert (cause["reason"], cause["field"]) == (
        "FieldValueRequired",
        "spec.template.spec.restartPolicy",
    )
    manual = job_body("manual", manualSelector=True, selector={"matchLabels": {"app": "x"}})
    manual["spec"]["template"]["metadata"] = {"labels": {"app": "x"}}
    created = cluster.batch.create_namespaced_job(ns, manual)
    assert created.spec.selector.match_labels == {"app": "x"}


def test_a_services_cluster_ip_may_not_change_once_set(cluster: Cluster) -> None:
    ns = cluster.namespace("shop")
    body = {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    created = cluster.core.create_namespaced_service(ns, body)
    allocated = created.spec.cluster_ip
    with pytest.raises(ApiException) as caught:
        cluster.core.patch_namespaced_service("web", ns, {"spec": {"clusterIP": "10.0.0.99"}})
    assert caught.value.status == 422
    (cause,) = status_of(caught.value)["details"]["causes"]
    assert cause["field"] == "spec.clusterIPs[0]"
    assert cause["message"] == 'Invalid value: []string{"10.0.0.99"}: may not change once set'
    # A replace that leaves the cluster IP out keeps the allocated one, as the server does.
    read = cluster.core.read_namespaced_service("web", ns).to_dict(serialize=True)
    read["spec"].pop("clusterIP")
    read["spec"].pop("clusterIPs")
    replaced = cluster.core.replace_namespaced_service("web", ns, read)
    assert (replaced.spec.cluster_ip, replaced.spec.cluster_ips) == (allocated, [allocated])


def test_create_twice_is_409_already_exists(cluster: Cluster) -> None:
    cluster.core.create_namespaced_config_map(
        "default", {"metadata": {"name": "cfg"}, "data": {"a": "1"}}
    )
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    status = status_of(caught.value)
    assert caught.value.status == 409
    assert (status["reason"], status["code"]) == ("AlreadyExists", 409)
    assert status["message"] == 'configmaps "cfg" already exists'
    assert status["details"] == {"name": "cfg", "kind": "configmaps"}


def test_a_create_carrying_a_resource_version_is_refused(cluster: Cluster) -> None:
    """The etcd3 store's Create: an object saved with its resourceVersion (kubectl get -o
    yaml, then create -f) is refused with a reason-less 500; "0" counts as none."""
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_config_map(
            "default", {"metadata": {"name": "saved", "resourceVersion": "5"}}
        )
    assert caught.value.status == 500
    status = status_of(caught.value)
    assert status["message"] == "resourceVersion should not be set on objects to be created"
    assert "reason" not in status
    body = {"metadata": {"name": "fresh", "resourceVersion": "0"}}
    assert cluster.core.create_namespaced_config_map("default", body).metadata.name == "fresh"


def test_reading_a_missing_object_is_404_not_found(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        cluster.apps.read_namespaced_deployment("nope", "default")
    status = status_of(caught.value)
    assert caught.value.status == 404
    assert (status["reason"], status["message"]) == (
        "NotFound",
        'deployments.apps "nope" not found',
    )


def test_an_invalid_deployment_is_422_with_causes(cluster: Cluster) -> None:
    bad = deployment("web")
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(ApiException) as caught:
        cluster.apps.create_namespaced_deployment("default", bad)
    status = status_of(caught.value)
    assert caught.value.status == 422
    assert (status["reason"], status["code"]) == ("Invalid", 422)
    assert status["message"].startswith('Deployment.apps "web" is invalid: ')
    fields = [cause["field"] for cause in status["details"]["causes"]]
    assert fields == ["spec.template.metadata.labels"]


def test_a_bad_name_is_422(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespace({"metadata": {"name": "Not_Valid"}})
    assert caught.value.status == 422
    assert status_of(caught.value)["details"]["causes"][0]["field"] == "metadata.name"


def test_bad_labels_and_annotations_are_422_naming_the_field(cluster: Cluster) -> None:
    """apimachinery's ValidateLabels and ValidateAnnotations, on every kind."""
    ns = cluster.namespace("meta")
    for metadata, field, message in (
        ({"labels": {"bad key!": "v"}}, "metadata.labels", 'Invalid value: "bad key!": name part'),
        ({"labels": {"k": "v" * 64}}, "metadata.labels", "must be no more than 63 bytes"),
        ({"labels": {"k": "-v"}}, "metadata.labels", "a valid label must be an empty string"),
        ({"labels": {"/k": "v"}}, "metadata.labels", "prefix part must be non-empty"),
        ({"labels": {"a/b/c": "v"}}, "metadata.labels", "a valid label key must consist"),
        ({"annotations": {"no spaces": "v"}}, "metadata.annotations", "name part must"),
        (
            {"annotations": {"big": "x" * 256 * 1024}},
            "metadata.annotations",
            "Too long: may not be more than 262144 bytes",
        ),
    ):
        with pytest.raises(ApiException) as caught:
            cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "c", **metadata}})
        assert caught.value.status == 422, metadata
        causes = status_of(caught.value)["details"]["causes"]
        assert [c["field"] for c in causes] == [field], causes
        assert message in causes[0]["message"], causes
    fine = {"app.kubernetes.io/name": "x", "empty": "", "Mixed_Case.1": "V_1.a"}
    created = cluster.core.create_namespaced_config_map(
        ns, {"metadata": {"name": "c", "labels": fine, "annotations": {"Any.Case/Key": "{}"}}}
    )
    assert created.metadata.labels == fine
    with pytest.raises(ApiException) as caught:
        cluster.core.patch_namespaced_config_map("c", ns, {"metadata": {"labels": {"k": "a b"}}})
    assert caught.value.status == 422


def test_a_job_name_too_long_for_its_pods_label_is_422(cluster: Cluster) -> None:
    """A real server labels a Job's pod template with job-name: the name must fit a label
    value, 63 bytes, though a name may be 253."""
    job: dict[str, Any] = {
        "metadata": {"name": "j" * 64},
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "t", "image": "x"}]}
            }
        },
    }
    with pytest.raises(ApiException) as caught:
        cluster.batch.create_namespaced_job("default", job)
    assert caught.value.status == 422
    causes = status_of(caught.value)["details"]["causes"]
    assert {c["field"] for c in causes} == {"spec.template.labels"}
    assert "must be no more than 63 bytes" in causes[0]["message"]
    job["metadata"]["name"] = "j" * 63
    assert cluster.batch.create_namespaced_job("default", job).metadata.name == "j" * 63


def test_a_deployments_template_labels_are_checked(cluster: Cluster) -> None:
    bad = deployment("web", labels={"app": "web", "tier": "front end"})
    with pytest.raises(ApiException) as caught:
        cluster.apps.create_namespaced_deployment(cluster.namespace("shop"), bad)
    fields = {c["field"] for c in status_of(caught.value)["details"]["causes"]}
    assert {"metadata.labels", "spec.template.labels"} <= fields


def test_names_follow_each_kinds_rule(cluster: Cluster) -> None:
    """Most names are DNS-1123 subdomains; a namespace's is a DNS label and a Service's a
    DNS-1035 label, which must start with a letter (core ValidateServiceName)."""
    ns = cluster.namespace("names")
    service = {"spec": {"ports": [{"port": 80}]}}
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_service(ns, {"metadata": {"name": "1web"}, **service})
    assert caught.value.status == 422
    (cause,) = status_of(caught.value)["details"]["causes"]
    assert cause["field"] == "metadata.name"
    assert cause["message"].startswith('Invalid value: "1web": a DNS-1035 label must consist')
    created = cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "1web.a"}})
    assert created.metadata.name == "1web.a"
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespace({"metadata": {"name": "n" * 64}})
    messages = [c["message"] for c in status_of(caught.value)["details"]["causes"]]
    assert any(m.endswith("must be no more than 63 characters") for m in messages), messages


def test_config_keys_are_checked_and_immutable_data_stays(cluster: Cluster) -> None:
    """core ValidateConfigMap / ValidateSecret (IsConfigMapKey) and their Update checks."""
    ns = cluster.namespace("config")
    for key, message in (
        ("bad key", "a valid config key must consist of alphanumeric characters"),
        ("..hidden", "must not start with '..'"),
        ("a/b", "regex used for validation is '[-._a-zA-Z0-9]+'"),
    ):
        with pytest.raises(ApiException) as caught:
            cluster.core.create_namespaced_config_map(
                ns, {"metadata": {"name": "c"}, "data": {key: "v"}}
            )
        assert caught.value.status == 422, key
        (cause,) = status_of(caught.value)["details"]["causes"]
        assert (cause["field"], message in cause["message"]) == (f"data[{key}]", True), cause
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_secret(
            ns, {"metadata": {"name": "s"}, "stringData": {"no spaces": "v"}}
        )
    assert status_of(caught.value)["details"]["causes"][0]["field"] == "data[no spaces]"

    frozen = {"metadata": {"name": "frozen"}, "data": {"k": "v"}, "immutable": True}
    cluster.core.create_namespaced_config_map(ns, frozen)
    for patch, field in (({"data": {"k": "w"}}, "data"), ({"immutable": False}, "immutable")):
        with pytest.raises(ApiException) as caught:
            cluster.core.patch_namespaced_config_map("frozen", ns, patch)
        assert caught.value.status == 422
        causes = status_of(caught.value)["details"]["causes"]
        assert (causes[0]["field"], causes[0]["reason"]) == (field, "FieldValueForbidden")
        assert causes[0]["message"] == "Forbidden: field is immutable when `immutable` is set"
    labelled = cluster.core.patch_namespaced_config_map(
        "frozen", ns, {"metadata": {"labels": {"a": "b"}}}
    )
    assert (labelled.data, labelled.metadata.labels) == ({"k": "v"}, {"a": "b"})

    # Sent and answered as raw bytes: the typed client takes long over a megabyte of models.
    http = raw_http(cluster.emulator, cluster.emulator.admin_token)
    url = f"{cluster.api_client.configuration.host}/api/v1/namespaces/{ns}/configmaps"
    big = "x" * (512 * 1024)

    def post(name: str, data: dict[str, str]) -> Any:
        body = json.dumps({"metadata": {"name": name}, "data": data}).encode()
        headers = {**http.headers, "Content-Type": "application/json"}
        return http.request("POST", url, body=body, headers=headers)

    refused = post("big", {"a": big, "b": big, "c": "x"})
    assert refused.status == 422
    (cause,) = json.loads(refused.data)["details"]["causes"]
    assert (cause["field"], cause["message"]) == (
        "",
        "Too long: may not be more than 1048576 bytes",
    )
    assert post("just", {"a": big, "b": big}).status == 201

    cluster.core.create_namespaced_secret(ns, {"metadata": {"name": "s"}, "stringData": {"k": "v"}})
    with pytest.raises(ApiException) as caught:
        cluster.core.patch_namespaced_secret("s", ns, {"type": "kubernetes.io/basic-auth"})
    assert status_of(caught.value)["details"]["causes"][0]["field"] == "type"


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            {"type": "Bogus", "ports": [{"port": 80}]},
            "spec.type",
            'Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", '
            '"LoadBalancer", "NodePort"',
        ),
        ({"ports": [{"name": "a", "port": 80}, {"port": 81}]}, "spec.ports[1].name", "Required"),
        (
            {"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]},
            "spec.ports[1].name",
            'Duplicate value: "a"',
        ),
        ({"ports": [{"port": 80, "protocol": "ICMP"}]}, "spec.ports[0].protocol", '"ICMP"'),
        (
            {"ports": [{"port": 80, "targetPort": "Web_Port"}]},
            "spec.ports[0].targetPort",
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        ),
        ({"selector": {"app": "x"}}, "spec.ports", "Required value"),
        ({"type": "ExternalName"}, "spec.externalName", "Required value"),
    ],
)
def test_a_service_spec_is_validated(
    cluster: Cluster, spec: dict[str, Any], field: str, message: str
) -> None:
    """core ValidateService: type, ports (names, protocols, target ports), externalName."""
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_service(
            cluster.namespace("svc"), {"metadata": {"name": "web"}, "spec": spec}
        )
    assert caught.value.status == 422
    causes = status_of(caught.value)["details"]["causes"]
    assert [c["field"] for c in causes] == [field], causes
    assert message in causes[0]["message"]


def test_an_external_name_service_gets_no_cluster_ip(cluster: Cluster) -> None:
    spec = {"type": "ExternalName", "externalName": "db.example.com"}
    created = cluster.core.create_namespaced_service(
        cluster.namespace("svc"), {"metadata": {"name": "db"}, "spec": spec}
    )
    assert (created.spec.cluster_ip, created.spec.external_name) == (None, "db.example.com")


def test_pod_specs_are_validated_as_core_validates_them(cluster: Cluster) -> None:
    """ValidatePodSpec's containers, and a workload template's restartPolicy (Always only)."""
    ns = cluster.namespace("pods")
    containers = [
        {"name": "Bad_Name", "image": "x"},
        {"name": "app", "image": "x", "ports": [{"containerPort": 70000}]},
        {"name": "app", "image": "y", "volumeMounts": [{"name": "data", "mountPath": "/d"}]},
    ]
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_pod(
            ns, {"metadata": {"name": "p"}, "spec": {"containers": containers}}
        )
    causes = {c["field"]: c["message"] for c in status_of(caught.value)["details"]["causes"]}
    assert causes["spec.containers[0].name"].startswith('Invalid value: "Bad_Name": a lowercase')
    assert causes["spec.containers[1].ports[0].containerPort"] == (
        "Invalid value: 70000: must be between 1 and 65535, inclusive"
    )
    assert causes["spec.containers[2].name"] == 'Duplicate value: "app"'
    assert causes["spec.containers[2].volumeMounts[0].name"] == 'Not found: "data"'
    assert len(causes) == 4, causes

    never = deployment("web")
    never["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    with pytest.raises(ApiException) as caught:
        cluster.apps.create_namespaced_deployment(ns, never)
    (cause,) = status_of(caught.value)["details"]["causes"]
    assert (cause["field"], cause["message"]) == (
        "spec.template.spec.restartPolicy",
        'Unsupported value: "Never": supported values: "Always"',
    )
    mounted = deployment("web")
    template = mounted["spec"]["template"]["spec"]
    template["volumes"] = [{"name": "data", "emptyDir": {}}]
    template["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/d"}]
    assert cluster.apps.create_namespaced_deployment(ns, mounted).metadata.name == "web"


def test_container_env_names_are_checked_as_the_api_server_checks_them(cluster: Cluster) -> None:
    """ValidateEnv with IsRelaxedEnvVarName: printable ASCII but '='; a trailing newline is not
    printable (Go's regexps, unlike Python's '$', never match before one)."""
    ns = cluster.namespace("env")
    env = [
        {"name": "A=B", "value": "1"},
        {"name": "caf\u00e9", "value": "3"},
        {"name": "TRAILING\n", "value": "4"},
        {"name": "1.weird-but fine", "value": "5"},
    ]
    container = {"name": "app", "image": "x", "env": env}
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_pod(
            ns, {"metadata": {"name": "p"}, "spec": {"containers": [container]}}
        )
    causes = {c["field"]: c["message"] for c in status_of(caught.value)["details"]["causes"]}
    printable = "a valid environment variable name must consist only of printable ASCII characters"
    rule = f"{printable} other than '='"
    assert causes == {
        "spec.containers[0].env[0].name": f'Invalid value: "A=B": {rule}',
        "spec.containers[0].env[1].name": f'Invalid value: "caf\u00e9": {rule}',
        "spec.containers[0].env[2].name": f'Invalid value: "TRAILING\\n": {rule}',
    }
    container["env"] = env[-1:]
    created = cluster.core.create_namespaced_pod(
        ns, {"metadata": {"name": "p"}, "spec": {"containers": [container]}}
    )
    assert created.spec.containers[0].env[0].name == "1.weird-but fine"


def test_names_ending_in_a_newline_are_refused(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_config_map(
            "default", {"metadata": {"name": "cfg\n"}, "data": {"key\n": "v"}}
        )
    fields = {c["field"] for c in status_of(caught.value)["details"]["causes"]}
    assert fields == {"metadata.name", "data[key\n]"}


def test_create_in_a_missing_namespace_is_404(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_config_map("ghost", {"metadata": {"name": "cfg"}})
    assert caught.value.status == 404
    assert status_of(caught.value)["message"] == 'namespaces "ghost" not found'


def test_a_body_for_another_namespace_is_400(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        cluster.core.create_namespaced_config_map(
            "default", {"metadata": {"name": "c", "namespace": "kube-system"}}
        )
    assert caught.value.status == 400
    assert status_of(caught.value)["reason"] == "BadRequest"


def test_generate_name_makes_a_unique_name(cluster: Cluster) -> None:
    first = cluster.core.create_namespaced_config_map(
        "default", {"metadata": {"generateName": "run-"}}
    )
    second = cluster.core.create_namespaced_config_map(
        "default", {"metadata": {"generateName": "run-"}}
    )
    assert first.metadata.name.startswith("run-")
    assert len(first.metadata.name) == len("run-") + 5
    assert first.metadata.name != second.metadata.name


def test_a_deployment_strategy_is_defaulted_field_by_field(cluster: Cluster) -> None:
    """kubectl create deployment sends ``strategy: {}``: it is filled in, not kept empty."""
    rolling = "RollingUpdate"
    quarter = {"maxUnavailable": "25%", "maxSurge": "25%"}
    for name, sent, kept in (
        ("empty", {}, {"type": rolling, "rollingUpdate": quarter}),
        ("surge", {"rollingUpdate": {"maxSurge": 1}},
         {"type": rolling, "rollingUpdate": {**quarter, "maxSurge": 1}}),
        ("recreate", {"type": "Recreate"}, {"type": "Recreate"}),
    ):  # fmt: skip
        body = deployment(name)
        body["spec"]["strategy"] = sent
        cluster.apps.create_namespaced_deployment("default", body)
        created = cluster.emulator.get("apps/v1", "Deployment", name, "default")
        assert created is not None
        assert created["spec"]["strategy"] == kept, name


def test_services_get_a_cluster_ip_and_port_defaults(cluster: Cluster) -> None:
    svc = {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    created = cluster.core.create_namespaced_service("default", svc)
    assert created.spec.cluster_ip.startswith("10.96.")
    assert created.spec.ports[0].protocol == "TCP"
    assert created.spec.ports[0].target_port == 80
    deleted = cluster.core.delete_namespaced_service("web", "default")
    assert deleted.metadata.name == "web"


def test_secrets_turn_string_data_into_base64_data(cluster: Cluster) -> None:
    created = cluster.core.create_namespaced_secret(
        "default", {"metadata": {"name": "s"}, "stringData": {"k": "v"}}
    )
    assert created.data == {"k": "dg=="}
    assert created.type == "Opaque"
    cluster.core.delete_namespaced_secret("s", "default")
    assert cluster.core.list_namespaced_secret("default").items == []


def test_statefulsets_jobs_leases_and_pods_deserialise_strictly(cluster: Cluster) -> None:
    sts = deployment("db")
    sts.update(kind="StatefulSet")
    sts["spec"]["serviceName"] = "db"
    created = cluster.apps.create_namespaced_stateful_set("default", sts)
    assert created.status.replicas == 0
    job = {
        "metadata": {"name": "smoke"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "t", "image": "busybox"}],
                }
            }
        },
    }
    created_job = cluster.batch.create_namespaced_job("default", job)
    assert created_job.spec.selector.match_labels == {
        "batch.kubernetes.io/controller-uid": created_job.metadata.uid
    }
    lease = {
        "metadata": {"name": "drill-lock"},
        "spec": {"holderIdentity": "run-1", "leaseDurationSeconds": 30},
    }
    assert cluster.leases.create_namespaced_lease("default", lease).spec.holder_identity == "run-1"
    cluster.leases.patch_namespaced_lease(
        "drill-lock", "default", {"spec": {"holderIdentity": "run-2"}}
    )
    assert (
        cluster.leases.read_namespaced_lease("drill-lock", "default").spec.holder_identity
        == "run-2"
    )
    pods = wait_for(lambda: cluster.core.list_namespaced_pod("default").items)
    assert {p.metadata.name.split("-")[0] for p in pods} >= {"db"}


def test_a_job_without_never_or_on_failure_is_invalid(cluster: Cluster) -> None:
    job = {
        "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"containers": [{"name": "t", "image": "x"}]}}},
    }
    with pytest.raises(ApiException) as caught:
        cluster.batch.create_namespaced_job("default", job)
    assert caught.value.status == 422
    assert (
        status_of(caught.value)["details"]["causes"][0]["field"]
        == "spec.template.spec.restartPolicy"
    )


def test_velero_objects_keep_the_status_they_are_written_with(cluster: Cluster) -> None:
    body = {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": "manual"},
        "spec": {"includedNamespaces": ["shop"]},
        "status": {"phase": "Completed"},
    }
    cluster.custom.create_namespaced_custom_object("velero.io", "v1", "velero", "backups", body)
    cluster.custom.patch_namespaced_custom_object(
        "velero.io", "v1", "velero", "backups", "manual", {"status": {"phase": "Deleting"}}
    )
    assert cluster.velero("backups", "manual")["status"]["phase"] == "Deleting"
    cluster.custom.delete_namespaced_custom_object("velero.io", "v1", "velero", "backups", "manual")
    with pytest.raises(ApiException) as caught:
        cluster.velero("backups", "manual")
    assert caught.value.status == 404


def test_status_cannot_be_changed_through_the_main_resource(still_cluster: Cluster) -> None:
    cluster = still_cluster  # controllers stand still, so nothing else writes the deployment
    cluster.apps.create_namespaced_deployment("default", deployment("web"))
    body = cluster.apps.read_namespaced_deployment("web", "default").to_dict(serialize=True)
    body["status"] = {"replicas": 99}
    replaced = cluster.apps.replace_namespaced_deployment("web", "default", body)
    assert replaced.status.replicas != 99
    cluster.apps.patch_namespaced_deployment_status("web", "default", {"status": {"replicas": 99}})
    assert cluster.apps.read_namespaced_deployment_status("web", "default").status.replicas == 99


def test_delete_with_a_stale_precondition_is_409(cluster: Cluster) -> None:
    cluster.core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    with pytest.raises(ApiException) as caught:
        cluster.core.delete_namespaced_config_map(
            "cfg", "default", body={"preconditions": {"uid": "not-it"}}
        )
    assert caught.value.status == 409
    result = cluster.core.delete_namespaced_config_map("cfg", "default")
    assert result["status"] == "Success" if isinstance(result, dict) else result.status == "Success"


def test_delete_options_are_validated_and_read_from_the_body(cluster: Cluster) -> None:
    """apimachinery ValidateDeleteOptions (a 422 naming DeleteOptions.meta.k8s.io), and the
    handler's rule that a body, when sent, is all of the options."""
    cluster.core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    for body, message in (
        (
            {"propagationPolicy": "Sideways"},
            'propagationPolicy: Unsupported value: "Sideways": supported values: '
            '"Foreground", "Background", "Orphan", "nil"',
        ),
        (
            {"propagationPolicy": "Background", "orphanDependents": True},
            'propagationPolicy: Invalid value: "Background": orphanDependents and '
            "deletionPropagation cannot be both set",
        ),
    ):
        with pytest.raises(ApiException) as caught:
            cluster.core.delete_namespaced_config_map("cfg", "default", body=body)
        assert caught.value.status == 422
        status = status_of(caught.value)
        assert status["message"] == f'DeleteOptions.meta.k8s.io "" is invalid: {message}'
        assert (status["details"]["group"], status["details"]["kind"]) == (
            "meta.k8s.io",
            "DeleteOptions",
        )
    # With a body, the query's propagationPolicy is not read at all, as on a real server.
    deleted = cluster.core.delete_namespaced_config_map(
        "cfg", "default", body={}, propagation_policy="Sideways"
    )
    assert deleted is not None


def test_an_object_with_finalizers_stays_until_its_last_finalizer_goes(cluster: Cluster) -> None:
    """The generic store: a delete marks an object with finalizers (deletionTimestamp) and it
    stays; no finalizer may be added meanwhile; the update that removes the last deletes it."""
    ns = cluster.namespace("held")
    body = {"metadata": {"name": "cfg", "finalizers": ["example.com/hold"]}, "data": {"k": "v"}}
    cluster.core.create_namespaced_config_map(ns, body)
    cluster.core.delete_namespaced_config_map("cfg", ns)
    held = cluster.core.read_namespaced_config_map("cfg", ns)
    assert held.metadata.deletion_timestamp is not None
    assert held.metadata.finalizers == ["example.com/hold"]
    more = {"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}
    with pytest.raises(ApiException) as caught:
        cluster.core.patch_namespaced_config_map("cfg", ns, more, _content_type=MERGE)
    (cause,) = status_of(caught.value)["details"]["causes"]
    assert (cause["field"], cause["reason"]) == ("metadata.finalizers", "FieldValueForbidden")
    assert cause["message"].endswith('found new finalizers []string{"example.com/more"}')
    cluster.core.patch_namespaced_config_map(
        "cfg", ns, {"metadata": {"finalizers": None}}, _content_type=MERGE
    )
    with pytest.raises(ApiException) as caught:
        cluster.core.read_namespaced_config_map("cfg", ns)
    assert caught.value.status == 404


def test_pods_can_be_created_read_listed_and_deleted_directly(still_cluster: Cluster) -> None:
    pod = {
        "metadata": {"name": "p", "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    created = still_cluster.core.create_namespaced_pod("default", pod)
    assert created.status.phase == "Pending"
    assert created.spec.node_name == "sandbox-node"
    assert (
        still_cluster.core.read_namespaced_pod("p", "default").metadata.uid == created.metadata.uid
    )
    assert [
        p.metadata.name
        for p in still_cluster.core.list_pod_for_all_namespaces(label_selector="app=p").items
    ] == ["p"]
    assert still_cluster.core.delete_namespaced_pod("p", "default").metadata.name == "p"
    with pytest.raises(ApiException) as caught:
        still_cluster.core.read_namespaced_pod("p", "default")
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("plural", "kind", "spec", "change"),
    [
        (
            "backups",
            "Backup",
            {"includedNamespaces": ["shop"], "storageLocation": "default"},
            {"ttl": "1h0m0s"},
        ),
        ("restores", "Restore", {"backupName": "nightly-1"}, {"restorePVs": False}),
        (
            "schedules",
            "Schedule",
            {"schedule": "0 * * * *", "template": {"includedNamespaces": ["shop"]}},
            {"paused": True},
        ),
        (
            "backupstoragelocations",
            "BackupStorageLocation",
            {"provider": "aws", "objectStorage": {"bucket": "b"}},
            {"default": True},
        ),
    ],
)
def test_velero_kinds_round_trip(
    still_cluster: Cluster, plural: str, kind: str, spec: dict[str, Any], change: dict[str, Any]
) -> None:
    custom = still_cluster.custom
    body = {"apiVersion": "velero.io/v1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    created = custom.create_namespaced_custom_object("velero.io", "v1", "velero", plural, body)
    assert created["metadata"]["generation"] == 1
    created["spec"]["extra"] = True  # not in Velero's schema: pruned, so the spec is unchanged
    replaced = custom.replace_namespaced_custom_object(
        "velero.io", "v1", "velero", plural, "x", created
    )
    assert replaced["metadata"]["generation"] == 1
    assert "extra" not in replaced["spec"]
    replaced["spec"].update(change)
    replaced = custom.replace_namespaced_custom_object(
        "velero.io", "v1", "velero", plural, "x", replaced
    )
    assert replaced["metadata"]["generation"] == 2
    listed = custom.list_namespaced_custom_object("velero.io", "v1", "velero", plural)
    assert listed["kind"] == f"{kind}List"
    assert "x" in [item["metadata"]["name"] for item in listed["items"]]
    custom.delete_namespaced_custom_object("velero.io", "v1", "velero", plural, "x")
    with pytest.raises(ApiException) as caught:
        custom.get_namespaced_custom_object("velero.io", "v1", "velero", plural, "x")
    assert caught.value.status == 404
    assert status_of(caught.value)["details"] == {"name": "x", "group": "velero.io", "kind": plural}
