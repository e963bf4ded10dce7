"""deploy/base/cronjob.yaml: weekly, never overlapping, never retried, locked down."""

from __future__ import annotations

from typing import Any

import pytest

from tests.child import REPO
from tests.cli.test_parsing import invoke
from tests.deploy.conftest import only
from tests.deploy.kustomize import Manifest

USER = 10001


@pytest.fixture(scope="module")
def cronjob(rendered: list[Manifest]) -> Manifest:
    return only(rendered, "CronJob")


@pytest.fixture(scope="module")
def pod(cronjob: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def container(pod: dict[str, Any]) -> dict[str, Any]:
    assert len(pod["containers"]) == 1
    found: dict[str, Any] = pod["containers"][0]
    return found


def mounts_of(container: dict[str, Any]) -> dict[str, str]:
    return {m["mountPath"]: m["name"] for m in container["volumeMounts"]}


def volumes_of(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod["volumes"]}


def test_runs_weekly_in_utc_and_never_overlaps(cronjob: Manifest) -> None:
    spec = cronjob["spec"]
    assert cronjob["metadata"]["namespace"] == "drill"
    assert (spec["schedule"], spec["timeZone"]) == ("0 2 * * 0", "Etc/UTC")
    assert spec["concurrencyPolicy"] == "Forbid"
    assert 0 < spec["startingDeadlineSeconds"] <= 24 * 3600
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1


def test_a_failed_drill_is_not_retried_and_has_a_deadline(
    cronjob: Manifest, pod: dict[str, Any]
) -> None:
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    assert job["activeDeadlineSeconds"] == 3600
    assert job["ttlSecondsAfterFinished"] > 0
    assert pod["restartPolicy"] == "Never"
    # SIGTERM at the deadline leaves drill time to roll back.
    assert pod["terminationGracePeriodSeconds"] >= 60


def test_runs_the_weekly_plan_in_cluster_with_json_output(container: dict[str, Any]) -> None:
    assert container["args"] == [
        "-q",
        "run",
        "namespace-restore",
        "--context",
        "dr=in-cluster",
        "--output",
        "json",
    ]
    assert "command" not in container  # the image's ENTRYPOINT is drill


def test_the_args_parse_as_drill_arguments(container: dict[str, Any]) -> None:
    """The CronJob's exact arguments, as a dry run: flags in the right places, the plan known."""
    result = invoke(
        *container["args"],
        "--dry-run",
        env={"DRILL_PLANS_DIR": str(REPO / "deploy/base/plans")},
    )
    assert result.returncode == 0, result.stderr
    assert '"plan": "namespace-restore"' in result.stdout


def test_pod_and_container_are_locked_down(pod: dict[str, Any], container: dict[str, Any]) -> None:
    pod_context = pod["securityContext"]
    assert pod_context["runAsNonRoot"] is True
    assert pod_context["runAsUser"] == USER
    assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == USER
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_uses_its_service_account_token(pod: dict[str, Any]) -> None:
    assert pod["serviceAccountName"] == "drill"
    assert pod["automountServiceAccountToken"] is True


def test_has_requests_and_limits(container: dict[str, Any]) -> None:
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert "memory" in resources["limits"]


def test_writes_only_to_emptydir_volumes(pod: dict[str, Any], container: dict[str, Any]) -> None:
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts, volumes = mounts_of(container), volumes_of(pod)
    for path in ("/tmp", "/var/lib/drill"):
        assert "emptyDir" in volumes[mounts[path]], path
    assert env["HOME"] == "/var/lib/drill"
    assert env["DRILL_REPORT_DIR"].startswith("/var/lib/drill/")
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp", "/var/lib/drill"}


def test_mounts_the_plans_and_the_kubeconfig(
    pod: dict[str, Any], container: dict[str, Any]
) -> None:
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts, volumes = mounts_of(container), volumes_of(pod)
    assert env["DRILL_PLANS_DIR"] == "/etc/drill/plans"
    assert volumes[mounts["/etc/drill/plans"]]["configMap"]["name"] == "drill-plans"
    assert env["KUBECONFIG"].startswith("/etc/drill/kubeconfig/")
    secret = volumes[mounts["/etc/drill/kubeconfig"]]["secret"]
    assert secret["secretName"] == "drill-kubeconfig"
    assert secret["defaultMode"] & 0o007 == 0  # not world-readable


def test_the_image_is_pinned_to_a_release(container: dict[str, Any]) -> None:
    image = container["image"]
    assert not image.endswith(":latest")
    assert ":" in image.rsplit("/", 1)[-1] or "@sha256:" in image
