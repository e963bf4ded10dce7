"""Velero's custom resources against their structural schemas, as a real API server treats them.

Through the real client: an unknown field is pruned with a ``Warning`` header (refused under
``fieldValidation=Strict``), a value of the wrong type, a null where none is allowed, a value
outside an enum or a malformed timestamp is a 422 naming the field, declared defaults are
filled, and every field drill itself sends in a Restore is one Velero declares.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from providers.protocols import RestoreRequest
from providers.velero import restore_manifest
from tests.sandbox.helpers import Cluster

GROUP, VERSION, NAMESPACE = "velero.io", "v1", "velero"


def restore(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Restore",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"backupName": "nightly-1", **spec},
    }


def create(cluster: Cluster, body: dict[str, Any], plural: str = "restores", **query: str) -> Any:
    """The created object and the answer's headers."""
    created, _, headers = cluster.custom.create_namespaced_custom_object_with_http_info(
        GROUP, VERSION, NAMESPACE, plural, body, **query
    )
    return created, headers


def refusal(cluster: Cluster, body: dict[str, Any], **query: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as refused:
        create(cluster, body, **query)
    return refused.value.status, json.loads(refused.value.body)


def test_a_misspelt_field_is_pruned_with_a_warning(still_cluster: Cluster) -> None:
    created, headers = create(still_cluster, restore("typo", includedNamespace=["production"]))
    assert "includedNamespace" not in created["spec"]
    assert headers.get("Warning") == '299 - "unknown field \\"spec.includedNamespace\\""'
    stored = still_cluster.velero("restores", "typo")
    assert stored["spec"] == {"backupName": "nightly-1"}


def test_strict_field_validation_refuses_unknown_fields(still_cluster: Cluster) -> None:
    body = restore("strict", includedNamespace=["production"], hooks={"resources": [{"x": 1}]})
    status, answer = refusal(still_cluster, body, field_validation="Strict")
    assert status == 400
    assert answer["message"] == (
        'Restore in version "v1" cannot be handled as a Restore: strict decoding error: '
        'unknown field "spec.hooks.resources[0].x", unknown field "spec.includedNamespace"'
    )
    assert still_cluster.emulator.get("velero.io/v1", "Restore", "strict", NAMESPACE) is None
    _, headers = create(
        still_cluster, restore("quiet", includedNamespace=["a"]), field_validation="Ignore"
    )
    assert "Warning" not in headers


def test_a_string_where_an_array_belongs_is_invalid(still_cluster: Cluster) -> None:
    status, answer = refusal(still_cluster, restore("wrong-type", includedNamespaces="production"))
    assert status == 422
    assert answer["reason"] == "Invalid"
    assert answer["message"] == (
        'Restore.velero.io "wrong-type" is invalid: spec.includedNamespaces: Invalid value: '
        '"string": spec.includedNamespaces in body must be of type array: "string"'
    )
    assert answer["details"]["causes"] == [
        {
            "reason": "FieldValueTypeInvalid",
            "message": 'Invalid value: "string": spec.includedNamespaces in body must be of '
            'type array: "string"',
            "field": "spec.includedNamespaces",
        }
    ]
    assert still_cluster.emulator.get("velero.io/v1", "Restore", "wrong-type", NAMESPACE) is None


def test_nulls_enums_and_timestamps_are_checked(still_cluster: Cluster) -> None:
    body = restore("several", backupName=None, excludedNamespaces=None)
    body["status"] = {"phase": "Done", "startTimestamp": "yesterday", "errors": "2"}
    status, answer = refusal(still_cluster, body)
    assert status == 422
    causes = {cause["field"]: cause["message"] for cause in answer["details"]["causes"]}
    assert causes == {
        "spec.backupName": 'Invalid value: "null": spec.backupName in body must be of type '
        'string: "null"',
        "status.phase": 'Unsupported value: "Done": supported values: "New", '
        '"FailedValidation", "InProgress", "WaitingForPluginOperations", '
        '"WaitingForPluginOperationsPartiallyFailed", "Completed", "PartiallyFailed", '
        '"Failed", "Finalizing", "FinalizingPartiallyFailed"',
        "status.startTimestamp": 'Invalid value: "yesterday": status.startTimestamp in body '
        'must be of type date-time: "yesterday"',
        "status.errors": 'Invalid value: "string": status.errors in body must be of type '
        'integer: "string"',
    }
    # Several causes are listed together in brackets, as the real server lists them.
    assert answer["message"].startswith('Restore.velero.io "several" is invalid: [spec.')


def test_a_patch_is_pruned_and_checked_too(still_cluster: Cluster) -> None:
    create(still_cluster, restore("patched"))
    patched = still_cluster.custom.patch_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "restores", "patched", {"spec": {"restorePv": True}}
    )
    assert "restorePv" not in patched["spec"]
    with pytest.raises(ApiException) as refused:
        still_cluster.custom.patch_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, "restores", "patched", {"spec": {"restorePVs": "yes"}}
        )
    assert refused.value.status == 422


def test_declared_defaults_are_filled(still_cluster: Cluster) -> None:
    location = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "BackupStorageLocation",
        "metadata": {"name": "second", "namespace": NAMESPACE},
        "spec": {
            "provider": "gcp",
            "objectStorage": {"bucket": "backups"},
            "credential": {"key": "cloud"},
        },
    }
    created, _ = create(still_cluster, location, plural="backupstoragelocations")
    assert created["spec"]["credential"] == {"key": "cloud", "name": ""}


def test_every_field_drill_sends_in_a_restore_is_declared(still_cluster: Cluster) -> None:
    request = RestoreRequest(
        name="drill-all-fields",
        backup_name="nightly-1",
        schedule_name=None,
        included_namespaces=["production"],
        excluded_namespaces=["kube-system"],
        namespace_mapping={"production": "dr-test"},
        included_resources=["deployments"],
        excluded_resources=["secrets"],
        label_selector="app=api,tier=web",
        restore_pvs=True,
        include_cluster_resources=False,
        existing_resource_policy="update",
        labels={"drill.io/run": "r1"},
        item_operation_timeout_s=5400,
    )
    body = restore_manifest(request, NAMESPACE)
    created, headers = create(still_cluster, body, field_validation="Strict")
    assert "Warning" not in headers
    assert created["spec"] == body["spec"]


def test_the_sandbox_s_own_velero_objects_fit_the_schemas(still_cluster: Cluster) -> None:
    """The emulator writes strictly: seeding a backup with an undeclared field would raise."""
    still_cluster.emulator.velero.register_backup("nightly-1", [])
    listed = client.CustomObjectsApi(still_cluster.api_client).list_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "backups"
    )
    assert [b["metadata"]["name"] for b in listed["items"]] == ["nightly-1"]
    assert still_cluster.emulator.errors == []
