"""The rendered base, created in the sandbox's Kubernetes API emulator through the real client.

The emulator stores CronJobs, ServiceAccounts and RBAC objects without acting on them, so
this checks that the API accepts every manifest and that the client can read them back into
its strict models, not that the CronJob fires.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, utils

from drill.sandbox.kube import KubeEmulator, write_kubeconfig
from tests.deploy.kustomize import Manifest, key_of

# Namespaces before what lives in them, as kubectl orders an apply.
FIRST = ("Namespace",)


@pytest.fixture
def api_client(tmp_path: Path) -> Iterator[client.ApiClient]:
    with KubeEmulator() as emulator:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"sandbox": emulator.url})
        api = config.new_client_from_config(config_file=str(kubeconfig), context="sandbox")
        try:
            yield api
        finally:
            api.close()
        assert emulator.errors == []


def create_all(api: client.ApiClient, manifests: list[Manifest]) -> None:
    for manifest in sorted(manifests, key=lambda m: m["kind"] not in FIRST):
        utils.create_from_dict(api, manifest)


def test_every_manifest_is_accepted_and_reads_back(
    api_client: client.ApiClient, rendered: list[Manifest]
) -> None:
    create_all(api_client, rendered)
    batch, core = client.BatchV1Api(api_client), client.CoreV1Api(api_client)
    rbac = client.RbacAuthorizationV1Api(api_client)

    cronjob = batch.read_namespaced_cron_job("drill-namespace-restore", "drill")
    assert cronjob.spec.schedule == "0 2 * * 0"
    assert cronjob.spec.job_template.spec.backoff_limit == 0
    account = core.read_namespaced_service_account("drill", "drill")
    assert "iam.gke.io/gcp-service-account" in account.metadata.annotations
    assert set(core.read_namespaced_config_map("drill-plans", "drill").data) == {
        "namespace-restore.yaml",
        "region-failure-aws.yaml",
        "region-failure.yaml",
    }
    assert {r.metadata.name for r in rbac.list_cluster_role().items} >= {
        "drill-namespaces",
        "drill-workloads",
    }
    binding = rbac.read_namespaced_role_binding("drill-velero", "velero")
    assert binding.subjects[0].name == "drill"


def test_creating_twice_conflicts_as_a_real_server_does(
    api_client: client.ApiClient, rendered: list[Manifest]
) -> None:
    """The emulator keeps what it stored: a second create of each object is refused."""
    create_all(api_client, rendered)
    for manifest in rendered:
        if manifest["kind"] == "Namespace":
            continue
        with pytest.raises(utils.FailToCreateError) as caught:
            utils.create_from_dict(api_client, manifest)
        assert caught.value.api_exceptions[0].status == 409, key_of(manifest)
