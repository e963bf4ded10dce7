"""The Velero adapter against the emulator: what a Restore it creates asks Velero to do, and
removing what a restore brought (the objects labelled with its name) and nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from drill.errors import PermanentError
from drill.sandbox.kube import KubeEmulator
from providers import kube
from providers.protocols import JobSpec
from providers.velero import VeleroAdapter, go_duration
from tests.providers.test_kube_watches import restore_request
from tests.sandbox.helpers import deployment


@pytest.fixture
def velero(adapter: kube.KubeAdapter) -> VeleroAdapter:
    return VeleroAdapter(adapter, "velero")


def test_excluded_namespaces_and_the_item_operation_timeout_reach_velero(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    request = replace(
        restore_request("r1"),
        included_namespaces=["*"],
        excluded_namespaces=["kube-system", "velero"],
        item_operation_timeout_s=5400.0,
    )
    velero.create_restore(request)
    received = emulator.get("velero.io/v1", "Restore", "r1", "velero")
    assert received is not None
    assert received["spec"]["excludedNamespaces"] == ["kube-system", "velero"]
    assert received["spec"]["itemOperationTimeout"] == "1h30m0s"


def test_a_restore_without_them_leaves_velero_its_defaults(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    velero.create_restore(restore_request("r2"))
    received = emulator.get("velero.io/v1", "Restore", "r2", "velero")
    assert received is not None
    assert "excludedNamespaces" not in received["spec"]
    assert "itemOperationTimeout" not in received["spec"]


@pytest.mark.parametrize(
    ("selector", "expressions"),
    [
        ("tier in (api,)", [{"key": "tier", "operator": "In", "values": ["api", ""]}]),
        ("tier notin (,a,,b)", [{"key": "tier", "operator": "NotIn", "values": ["", "a", "b"]}]),
        ("tier in (a, b)", [{"key": "tier", "operator": "In", "values": ["a", "b"]}]),
    ],
)
def test_a_restore_selects_the_labels_its_selector_text_selects_on_a_list(
    velero: VeleroAdapter, emulator: KubeEmulator, selector: str, expressions: list[object]
) -> None:
    """The API server reads "(api,)" as api or the empty value; Velero's LabelSelector must
    ask for the same objects, or a restore brings back other objects than the plan's selector
    lists in the cluster."""
    velero.create_restore(replace(restore_request("r3"), label_selector=selector))
    received = emulator.get("velero.io/v1", "Restore", "r3", "velero")
    assert received is not None
    assert received["spec"]["labelSelector"] == {"matchExpressions": expressions}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(3600, "1h0m0s"), (90, "1m30s"), (30, "30s"), (1.5, "1.5s"), (0.25, "250ms"), (0, "0s")],
)
def test_durations_are_written_as_go_writes_them(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def production_with(emulator: KubeEmulator, *names: str) -> None:
    for name in names:
        emulator.apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "production"},
                "data": {"owner": "operator"},
            }
        )


def test_what_a_restore_into_an_existing_namespace_created_is_deleted_and_nothing_else(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    production_with(emulator, "operator-notes", "settings")
    backed_up = [
        {**deployment("api"), "metadata": {"name": "api", "namespace": "production"}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "api", "namespace": "production"},
            "spec": {"ports": [{"port": 80}]},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "production"},
            "data": {},
        },
    ]
    emulator.velero.register_backup("nightly-1", backed_up)
    velero.create_restore(
        replace(restore_request("r1"), included_namespaces=["production"], namespace_mapping={})
    )
    final = next(s for s in velero.watch_restore("r1", 10) if s.terminal)
    assert final.phase == "Completed"
    assert final.warnings == 1  # "settings" existed: skipped, not labelled

    kinds = ["Deployment", "Service", "ConfigMap", "Ingress"]
    # Reading what a rollback would remove removes nothing.
    listed = velero.kube.labelled("production", "velero.io/restore-name=r1", kinds)
    assert sorted(listed) == ["Deployment api", "Service api"]
    assert emulator.get("apps/v1", "Deployment", "api", "production") is not None
    removed = velero.kube.delete_labelled("production", "velero.io/restore-name=r1", kinds)
    assert sorted(removed) == sorted(listed)
    assert velero.kube.labelled("production", "velero.io/restore-name=r1", kinds) == []
    assert emulator.get("apps/v1", "Deployment", "api", "production") is None
    assert emulator.get("v1", "Service", "api", "production") is None
    for kept in ("operator-notes", "settings"):
        assert emulator.get("v1", "ConfigMap", kept, "production") is not None
    assert velero.restore("r1") is not None
    assert velero.restore("never") is None


def test_objects_labelled_before_the_restore_started_are_kept(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    production_with(emulator, "older")
    emulator.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "older",
                "namespace": "production",
                "labels": {"velero.io/restore-name": "r1"},
            },
        }
    )
    later = datetime.now(UTC) + timedelta(minutes=5)
    selector = "velero.io/restore-name=r1"
    assert velero.kube.labelled("production", selector, ["ConfigMap"], created_since=later) == []
    assert velero.kube.labelled("production", selector, ["ConfigMap"]) == ["ConfigMap older"]
    removed = velero.kube.delete_labelled(
        "production", "velero.io/restore-name=r1", ["ConfigMap"], created_since=later
    )
    assert removed == []
    assert emulator.get("v1", "ConfigMap", "older", "production") is not None
    assert velero.kube.delete_labelled(
        "production", "velero.io/restore-name=r1", ["ConfigMap"]
    ) == ["ConfigMap older"]


def test_deleting_without_a_selector_is_refused(velero: VeleroAdapter) -> None:
    with pytest.raises(PermanentError, match="refusing to delete without a label selector"):
        velero.kube.delete_labelled("production", "", ["ConfigMap"])


def test_a_jobs_labels_are_read_by_name(velero: VeleroAdapter) -> None:
    kube_adapter = velero.kube
    assert kube_adapter.job_labels("default", "smoke") is None
    kube_adapter.create_job(
        JobSpec("default", "smoke", "busybox", ("true",), {}, {"drill.dev/run-id": "r1"}, 60)
    )
    labels = kube_adapter.job_labels("default", "smoke")
    assert labels is not None
    assert labels["drill.dev/run-id"] == "r1"
