"""Restore completeness through the real kubernetes client against the Velero emulator: the
backup's and the restore's resource lists and the restore's results, read by DownloadRequest
and counted per kind, as `velero restore describe --details` would show them."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from typing import Any

import pytest

from drill.errors import ProviderError
from drill.sandbox.kube import KubeEmulator, namespace_defaults
from drill.sandbox.kube.controllers.contents import (
    backup_resource_list_key,
    restore_log_key,
    restore_resource_list_key,
)
from drill.sandbox.kube.controllers.namespace_defaults import ROOT_CA_CONFIG_MAP
from drill.steps import KindTally
from drill.steps._restore_contents import (
    CLUSTER_OWN,
    FINISHED,
    FinishedLog,
    Scope,
    tally_restore,
)
from providers import kube
from providers.velero import VeleroAdapter
from tests.providers.test_kube_watches import restore_request
from tests.sandbox.helpers import deployment, wait_for

SCOPE = Scope(
    include_namespaces=("shop",),
    exclude_namespaces=(),
    namespace_mapping={"shop": "dr-test"},
    include_resources=(),
    exclude_resources=(),
    label_selector=None,
    include_cluster_resources=False,
)

ALL_RESTORED = (True, "every backed-up item the restore asked for was restored")


def backed_up() -> list[dict[str, Any]]:
    web = deployment("web", replicas=2)
    web["metadata"]["namespace"] = "shop"
    config: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"mode": "prod"}}
    other: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"mode": "x"}}
    event: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "reason": "Scaled",
        "type": "Normal",
    }
    role: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "rules": [],
    }
    config["metadata"] = {"name": "settings", "namespace": "shop"}
    other["metadata"] = {"name": "elsewhere", "namespace": "billing"}
    event["metadata"] = {"name": "web.1", "namespace": "shop"}
    role["metadata"] = {"name": "shop-reader"}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    return [namespace, web, config, other, event, role]


@pytest.fixture
def velero(adapter: kube.KubeAdapter, emulator: KubeEmulator) -> VeleroAdapter:
    emulator.velero.register_backup("nightly-1", backed_up())
    return VeleroAdapter(adapter, "velero")


def restored(velero: VeleroAdapter) -> None:
    velero.create_restore(restore_request("r1"))
    wait_for(lambda: (status := velero.restore("r1")) is not None and status.terminal)


def by_kind(kinds: tuple[KindTally, ...]) -> dict[str, tuple[int | None, ...]]:
    return {k.kind: (k.in_backup, k.restored, k.skipped, k.excluded) for k in kinds}


def test_a_restore_into_a_fresh_namespace_is_complete_and_says_what_was_left_out(
    velero: VeleroAdapter,
) -> None:
    restored(velero)
    tally = tally_restore(velero, "r1", "nightly-1", SCOPE, 10)
    assert tally.complete is True
    assert by_kind(tally.kinds) == {
        "apps/v1/Deployment": (1, 1, 0, 0),
        "rbac.authorization.k8s.io/v1/ClusterRole": (1, 0, 0, 1),
        "v1/ConfigMap": (1, 1, 0, 0),  # billing/elsewhere is outside the restore
        "v1/Event": (1, 0, 0, 1),
        "v1/Namespace": (1, 1, 0, 0),  # Velero created dr-test
    }
    why = {k.kind: k.why_excluded for k in tally.kinds}
    assert why["v1/Event"] == ["Velero never restores this kind"]
    assert why["rbac.authorization.k8s.io/v1/ClusterRole"] == [
        "cluster-scoped, and include_cluster_resources is false"
    ]


def test_an_existing_object_that_differs_makes_the_restore_incomplete(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    emulator.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "dr-test"},
            "data": {"mode": "stale"},
        }
    )
    restored(velero)
    status = velero.restore("r1")
    assert status is not None
    assert (status.phase, status.warnings) == ("Completed", 1)  # Velero: only a warning
    tally = tally_restore(velero, "r1", "nightly-1", SCOPE, 10)
    assert tally.complete is False
    config = next(k for k in tally.kinds if k.kind == "v1/ConfigMap")
    assert (config.in_backup, config.restored, config.skipped) == (1, 0, 1)
    assert config.why_skipped == [
        'dr-test/settings: failed: could not restore, ConfigMap "settings" already exists. '
        "Warning: the in-cluster version is different than the backed-up version"
    ]
    namespace = next(k for k in tally.kinds if k.kind == "v1/Namespace")
    assert (namespace.restored, namespace.excluded) == (0, 1)  # kept, not lost


def test_unreadable_backup_contents_are_not_measured_with_the_reason(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    restored(velero)
    emulator.velero.contents.drop_file(backup_resource_list_key("nightly-1"))
    tally = tally_restore(velero, "r1", "nightly-1", SCOPE, 10)
    assert tally.complete is None
    assert tally.reason.startswith("not measured: the backup's contents could not be read (")
    assert "HTTP 404" in tally.reason
    assert all(k.in_backup is None for k in tally.kinds)
    assert by_kind(tally.kinds)["apps/v1/Deployment"] == (None, 1, 0, 0)


def test_a_download_of_what_does_not_exist_fails_saying_so(velero: VeleroAdapter) -> None:
    with pytest.raises(ProviderError, match="did not process a DownloadRequest"):
        velero.download("RestoreResults", "no-such-restore", 0.5)
    listed = velero.kube.request(
        "list", "GET", "/apis/velero.io/v1/namespaces/velero/downloadrequests"
    )
    assert listed["items"] == []  # drill deletes its requests


def test_an_item_skipped_is_told_by_velero_s_words_about_its_own_kind(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    """A Deployment and a Service of one name both skipped: each is said with the warning
    about it, not the first warning that names the name."""
    web = deployment("web", replicas=2)
    web["metadata"]["namespace"] = "shop"
    web_service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    emulator.velero.register_backup("nightly-2", [namespace, web_service, web])
    stale_service = {**web_service, "metadata": {"name": "web", "namespace": "dr-test"}}
    stale_service["spec"] = {"selector": {"app": "old"}, "ports": [{"port": 81}]}
    stale_web = deployment("web", replicas=5)
    stale_web["metadata"]["namespace"] = "dr-test"
    emulator.apply(stale_service)
    emulator.apply(stale_web)
    velero.create_restore(replace(restore_request("r2"), backup_name="nightly-2"))
    wait_for(lambda: (status := velero.restore("r2")) is not None and status.terminal)
    tally = tally_restore(velero, "r2", "nightly-2", SCOPE, 10)
    why = {k.kind: k.why_skipped for k in tally.kinds}
    differs = "already exists. Warning: the in-cluster version is different than the backed-up"
    assert why["apps/v1/Deployment"] == [
        f'dr-test/web: failed: could not restore, Deployment "web" {differs} version'
    ]
    assert why["v1/Service"] == [
        f'dr-test/web: failed: could not restore, Service "web" {differs} version'
    ]


# Another cluster's CA bundle, as a backup taken there holds it.
OTHER_CLUSTER_CA = "-----BEGIN CERTIFICATE-----\nb3RoZXIgY2x1c3Rlcg==\n-----END CERTIFICATE-----\n"


def restore_of(velero: VeleroAdapter, emulator: KubeEmulator, objects: list[Any]) -> str:
    """Restore a backup of namespace shop holding ``objects`` into dr-test; the backup's name."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    emulator.velero.register_backup("nightly-3", [namespace, *objects])
    velero.create_restore(replace(restore_request("r3"), backup_name="nightly-3"))
    wait_for(lambda: (status := velero.restore("r3")) is not None and status.terminal)
    return "nightly-3"


def test_the_target_cluster_s_own_ca_bundle_is_kept_and_the_restore_is_complete(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    """A namespace's backup holds what its cluster writes into every namespace: the default
    ServiceAccount and the CA bundle. Restored into another cluster, Velero finds both there
    already: it merges the account and keeps the target's CA bundle, with a warning. Keeping
    it is right (the backed-up one verifies another API server): the restore is complete."""
    account, bundle = namespace_defaults("shop", OTHER_CLUSTER_CA)
    account["imagePullSecrets"] = [{"name": "registry"}]
    backup = restore_of(velero, emulator, [account, bundle])
    status = velero.restore("r3")
    assert status is not None
    assert (status.phase, status.warnings) == ("Completed", 1)
    kept = emulator.get("v1", "ConfigMap", ROOT_CA_CONFIG_MAP, "dr-test")
    assert kept is not None
    assert kept["data"] == {"ca.crt": emulator.ca_pem}
    merged = emulator.get("v1", "ServiceAccount", "default", "dr-test")
    assert merged is not None
    assert merged["imagePullSecrets"] == [{"name": "registry"}]

    tally = tally_restore(velero, "r3", backup, SCOPE, 10)
    assert (tally.complete, tally.reason) == ALL_RESTORED
    kinds = by_kind(tally.kinds)
    assert kinds["v1/ConfigMap"] == (1, 0, 0, 1)
    assert kinds["v1/ServiceAccount"] == (1, 1, 0, 0)  # updated: the pull secret added
    [config] = [k for k in tally.kinds if k.kind == "v1/ConfigMap"]
    assert config.why_excluded == [CLUSTER_OWN[("v1/ConfigMap", ROOT_CA_CONFIG_MAP)]]


def test_a_backup_from_the_same_cluster_meets_its_own_bundle_and_account_unchanged(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    backup = restore_of(velero, emulator, namespace_defaults("shop", emulator.ca_pem))
    status = velero.restore("r3")
    assert status is not None
    assert (status.phase, status.warnings) == ("Completed", 0)
    tally = tally_restore(velero, "r3", backup, SCOPE, 10)
    assert tally.complete is True
    kinds = by_kind(tally.kinds)
    assert kinds["v1/ConfigMap"] == (1, 0, 0, 1)
    assert kinds["v1/ServiceAccount"] == (1, 0, 0, 1)
    why = {k.kind: k.why_excluded for k in tally.kinds}
    equal = ["already there and equal to the backed-up item: Velero skipped it"]
    assert why["v1/ConfigMap"] == why["v1/ServiceAccount"] == equal


def test_another_config_map_found_there_and_different_still_makes_it_incomplete(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    """Only the cluster's own CA bundle is kept as right: any other differing object is not."""
    _, bundle = namespace_defaults("shop", OTHER_CLUSTER_CA)
    bundle["metadata"]["name"] = "ca-bundle"
    there = {**bundle, "metadata": {"name": "ca-bundle", "namespace": "dr-test"}}
    emulator.apply({**there, "data": {"ca.crt": emulator.ca_pem}})
    backup = restore_of(velero, emulator, [bundle])
    tally = tally_restore(velero, "r3", backup, SCOPE, 10)
    assert tally.complete is False
    assert by_kind(tally.kinds)["v1/ConfigMap"] == (1, 0, 1, 0)


@pytest.mark.parametrize("bundle_name", ["istio-ca-root-cert", "openshift-service-ca.crt"])
def test_a_mesh_s_or_platform_s_own_bundle_found_there_is_kept_too(
    velero: VeleroAdapter, emulator: KubeEmulator, bundle_name: str
) -> None:
    """Istio and OpenShift write a CA bundle of their own into every namespace too: the
    target's is there before Velero reaches the backed-up one, and keeping it is right."""
    _, backed_up = namespace_defaults("shop", OTHER_CLUSTER_CA)
    backed_up["metadata"]["name"] = bundle_name
    there = {**backed_up, "metadata": {"name": bundle_name, "namespace": "dr-test"}}
    emulator.apply({**there, "data": {"root-cert.pem": emulator.ca_pem}})
    backup = restore_of(velero, emulator, [backed_up])
    tally = tally_restore(velero, "r3", backup, SCOPE, 10)
    assert tally.complete is True
    [config] = [k for k in tally.kinds if k.kind == "v1/ConfigMap"]
    assert (config.in_backup, config.restored, config.skipped, config.excluded) == (1, 0, 0, 1)
    assert config.why_excluded == [CLUSTER_OWN[("v1/ConfigMap", bundle_name)]]


def finished_job_and_pods() -> list[dict[str, Any]]:
    """What a namespace with a CronJob holds once its runs are done: the finished Job of the
    last run, that run's Succeeded pod and an earlier run's Failed pod; beside them a Job
    still running, which Velero restores."""
    done = "2026-12-01T03:00:40Z"
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "report-29000", "namespace": "shop"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "report", "image": "registry.example.com/r:1"}],
                }
            }
        },
        "status": {"succeeded": 1, "completionTime": done},
    }
    running = {**job, "metadata": {"name": "report-29060", "namespace": "shop"}}
    running["status"] = {"active": 1}
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"containers": [{"name": "report", "image": "registry.example.com/r:1"}]},
            "status": {"phase": phase},
        }
        for name, phase in (("report-29000-x7k2p", "Succeeded"), ("report-28940-9qv4d", "Failed"))
    ]
    return [job, running, *pods]


def test_finished_pods_and_jobs_velero_passes_over_leave_the_restore_complete(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    """Velero never restores a finished Pod or Job, and lists it nowhere but in its log: read
    there, they are left out by Velero's rule, not lost."""
    backup = restore_of(velero, emulator, finished_job_and_pods())
    assert emulator.get("batch/v1", "Job", "report-29000", "dr-test") is None
    assert emulator.get("batch/v1", "Job", "report-29060", "dr-test") is not None
    tally = tally_restore(velero, "r3", backup, SCOPE, 10)
    assert (tally.complete, tally.reason) == ALL_RESTORED
    kinds = by_kind(tally.kinds)
    assert kinds["batch/v1/Job"] == (2, 1, 0, 1)
    assert kinds["v1/Pod"] == (2, 0, 0, 2)
    why = {k.kind: k.why_excluded for k in tally.kinds}
    assert why["batch/v1/Job"] == why["v1/Pod"] == [FINISHED]


def test_without_the_restore_s_log_unlisted_pods_and_jobs_leave_completeness_not_measured(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    backup = restore_of(velero, emulator, finished_job_and_pods())
    emulator.velero.contents.drop_file(restore_log_key("r3"))
    tally = tally_restore(velero, "r3", backup, SCOPE, 10)
    assert tally.complete is None
    assert tally.reason.startswith(
        "not measured: 3 backed-up Pod(s) or Job(s) are not in the restore's resource list, "
        "and its log cannot say which of them Velero passed over as finished ("
    )
    assert "HTTP 404" in tally.reason
    assert by_kind(tally.kinds)["batch/v1/Job"] == (2, 1, 0, 1)


def test_a_pod_missing_from_the_list_that_the_log_does_not_name_is_not_restored(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    """Only the log's word makes an unlisted Pod finished: one it does not name is lost."""
    running_pod = finished_job_and_pods()[2]
    running_pod["metadata"]["name"] = "report-29060-m2n8s"
    running_pod["status"] = {"phase": "Running"}
    backup = restore_of(velero, emulator, [running_pod])
    listed = emulator.velero.contents.file(restore_resource_list_key("r3"))
    assert listed is not None
    emulator.velero.contents.put_restore_files(
        "r3",
        {},
        {k: v for k, v in json.loads(gzip.decompress(listed)).items() if k != "v1/Pod"},
        'time="2026-12-01T03:05:00Z" level=info msg="restore completed"\n',
    )
    tally = tally_restore(velero, "r3", backup, SCOPE, 10)
    assert tally.complete is False
    [pod] = [k for k in tally.kinds if k.kind == "v1/Pod"]
    assert (pod.in_backup, pod.restored, pod.skipped) == (1, 0, 1)
    assert pod.why_skipped == [
        "dr-test/report-29060-m2n8s: not in the restore's resource list, and the restore's "
        "log does not say Velero passed it over as finished"
    ]


@pytest.mark.parametrize(
    "line",
    [
        'time="2026-12-01T03:05:00Z" level=info msg="shop/report-29000 is complete - skipping"'
        ' groupResource=jobs.batch logSource="pkg/restore/restore.go:1171" restore=velero/r3',
        '{"groupResource":"jobs.batch","level":"info","logSource":"pkg/restore/restore.go:1171",'
        '"msg":"shop/report-29000 is complete - skipping","restore":"velero/r3"}',
    ],
    ids=["text", "json"],
)
def test_the_log_is_read_in_either_of_velero_s_formats(line: str) -> None:
    log = FinishedLog(lambda: (f"{line}\n".encode(), ""))
    assert log.says_finished("shop/report-29000") is True
    assert log.says_finished("shop/report-2900") is False
    assert log.says_finished("dr-test/report-29000") is False  # named as backed up


def test_a_log_without_info_lines_tells_nothing_as_velero_logged_above_info() -> None:
    warning = 'time="2026-12-01T03:05:00Z" level=warning msg="could not restore" restore=v/r3'
    log = FinishedLog(lambda: (f"{warning}\n".encode(), ""))
    assert log.says_finished("shop/report-29000") is None
    assert log.problem == "it holds no info-level line (Velero's --log-level is above info)"


def test_a_log_that_cannot_be_read_is_read_once_and_tells_nothing() -> None:
    reads: list[int] = []

    def unreadable() -> tuple[bytes | None, str]:
        reads.append(1)
        return None, "HTTP 404"

    log = FinishedLog(unreadable)
    assert log.says_finished("shop/a") is None
    assert log.says_finished("shop/b") is None
    assert (len(reads), log.problem) == (1, "HTTP 404")


def test_a_mirror_pod_velero_lists_as_skipped_is_said_to_be_one(
    velero: VeleroAdapter, emulator: KubeEmulator
) -> None:
    mirror = finished_job_and_pods()[2]
    mirror["metadata"].update(
        name="etcd-node-1", annotations={"kubernetes.io/config.mirror": "9f2c"}
    )
    mirror["status"] = {"phase": "Running"}
    backup = restore_of(velero, emulator, [mirror])
    tally = tally_restore(velero, "r3", backup, SCOPE, 10)
    assert tally.complete is True
    [pod] = [k for k in tally.kinds if k.kind == "v1/Pod"]
    assert (pod.in_backup, pod.restored, pod.excluded) == (1, 0, 1)
    assert pod.why_excluded == [
        "already there and equal to the backed-up item, or a mirror pod (a static pod's copy), "
        "which Velero never restores: Velero skipped it"
    ]
