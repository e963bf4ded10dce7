"""kubectl against the emulator: discovery, short names, selectors, scale and wait."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from drill.clock import FakeClock
from drill.sandbox.kube import Profile
from tests.sandbox.helpers import Cluster, MakeCluster, deployment, service_account, wait_for

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")


def kubectl(
    cluster: Cluster,
    tmp_path: Path,
    *args: str,
    timeout_s: float = 30,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    command = ["kubectl", "--kubeconfig", str(cluster.kubeconfig), "--context", "sandbox"]
    command += ["--cache-dir", str(tmp_path / "kube-cache"), *args]
    return subprocess.run(
        command, input=input_text, capture_output=True, text=True, timeout=timeout_s, check=False
    )


def test_kubectl_conformance(cluster: Cluster, tmp_path: Path) -> None:
    ns = cluster.namespace("drill-kubectl")
    cluster.apps.create_namespaced_deployment(ns, deployment("x"))
    cluster.apps.create_namespaced_deployment(ns, deployment("y"))

    namespaces = kubectl(cluster, tmp_path, "get", "ns")
    assert namespaces.returncode == 0, namespaces.stderr
    assert {"default", "velero", ns} <= {
        line.split()[0] for line in namespaces.stdout.splitlines()[1:]
    }

    selected = kubectl(cluster, tmp_path, "get", "deploy", "-l", "app=x", "-n", ns)
    assert selected.returncode == 0, selected.stderr
    assert [line.split()[0] for line in selected.stdout.splitlines()[1:]] == ["x"]

    scaled = kubectl(cluster, tmp_path, "scale", "deploy/x", "--replicas=3", "-n", ns)
    assert scaled.returncode == 0, scaled.stderr
    assert "deployment.apps/x scaled" in scaled.stdout
    assert cluster.apps.read_namespaced_deployment_scale("x", ns).spec.replicas == 3

    waited = kubectl(
        cluster,
        tmp_path,
        "wait",
        "--for=condition=available",
        "deploy/x",
        "-n",
        ns,
        "--timeout=10s",
    )
    assert waited.returncode == 0, waited.stderr
    assert "condition met" in waited.stdout
    assert cluster.apps.read_namespaced_deployment("x", ns).status.available_replicas == 3


def test_kubectl_wait_times_out_on_pods_that_never_become_ready(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.emulator.faults.never_ready("default", "stuck")
    cluster.apps.create_namespaced_deployment("default", deployment("stuck"))
    waited = kubectl(
        cluster, tmp_path, "wait", "--for=condition=available", "deploy/stuck", "--timeout=1s"
    )
    assert waited.returncode != 0
    assert "timed out" in waited.stderr


def test_kubectl_reads_pods_jobs_and_velero_objects(cluster: Cluster, tmp_path: Path) -> None:
    cluster.emulator.velero.register_backup("nightly-1", [])
    for args in (
        ("get", "po", "-A"),
        ("get", "jobs"),
        ("get", "backups.velero.io", "-n", "velero", "-o", "name"),
    ):
        result = kubectl(cluster, tmp_path, *args)
        assert result.returncode == 0, (args, result.stderr)
    listed = kubectl(cluster, tmp_path, "get", "backups.velero.io", "-n", "velero", "-o", "name")
    assert listed.stdout.strip() == "backup.velero.io/nightly-1"


def test_kubectl_get_raw_reaches_a_service_through_the_proxy(
    cluster: Cluster, tmp_path: Path
) -> None:
    ns = cluster.namespace("drill-proxy")
    proxied = f"/api/v1/namespaces/{ns}/services/http:x:80/proxy/healthz"
    missing = kubectl(cluster, tmp_path, "get", "--raw", proxied)
    assert missing.returncode != 0
    assert 'services "x" not found' in missing.stderr
    cluster.core.create_namespaced_service(
        ns, {"metadata": {"name": "x"}, "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}}
    )
    cluster.apps.create_namespaced_deployment(ns, deployment("x"))
    assert wait_for(lambda: cluster.emulator.ready_since(ns, "x") is not None)
    answered = kubectl(cluster, tmp_path, "get", "--raw", proxied)
    assert answered.returncode == 0, answered.stderr
    assert '"path": "/healthz"' in answered.stdout


def test_kubectl_tokens_can_i_whoami_and_refusals(cluster: Cluster, tmp_path: Path) -> None:
    """What a user checks RBAC with: create token, auth can-i (--as, --list), whoami, a 403."""
    account = service_account(cluster, "team", "robot")
    cluster.emulator.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "pod-reader", "namespace": "team"},
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["list"]}],
        }
    )
    cluster.emulator.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "robot-reads-pods", "namespace": "team"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "pod-reader",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": "team"}],
        }
    )
    as_robot = (f"--as={account}", "-n", "team")
    allowed = kubectl(cluster, tmp_path, "auth", "can-i", "list", "pods", *as_robot)
    assert (allowed.returncode, allowed.stdout.strip()) == (0, "yes"), allowed.stderr
    refused = kubectl(cluster, tmp_path, "auth", "can-i", "delete", "pods", *as_robot)
    assert (refused.returncode, refused.stdout.strip()) == (1, "no"), refused.stderr
    listed = kubectl(cluster, tmp_path, "auth", "can-i", "--list", *as_robot)
    assert listed.returncode == 0, listed.stderr
    assert any(line.split()[:1] == ["pods"] for line in listed.stdout.splitlines())

    created = kubectl(cluster, tmp_path, "create", "token", "robot", "-n", "team")
    assert created.returncode == 0, created.stderr
    token = ("--token", created.stdout.strip())
    whoami = kubectl(cluster, tmp_path, "auth", "whoami", *token)
    assert account in whoami.stdout, whoami.stderr
    pods = kubectl(cluster, tmp_path, "get", "pods", "-n", "team", *token)
    assert pods.returncode == 0, pods.stderr
    deployments = kubectl(cluster, tmp_path, "get", "deployments", "-n", "team", *token)
    assert deployments.returncode == 1
    assert deployments.stderr.strip() == (
        'Error from server (Forbidden): deployments.apps is forbidden: User "system:serviceaccount:'
        'team:robot" cannot list resource "deployments" in API group "apps" in the namespace "team"'
    )
    nobody = kubectl(cluster, tmp_path, "get", "pods", "--token", "not-a-token")
    assert nobody.returncode == 1
    assert "Unauthorized" in nobody.stderr or "provide credentials" in nobody.stderr


def test_kubectl_as_a_user_in_groups(cluster: Cluster, tmp_path: Path) -> None:
    whoami = kubectl(
        cluster, tmp_path, "auth", "whoami", "--as=alice", "--as-group=ops", "--as-group=dev"
    )
    assert whoami.returncode == 0, whoami.stderr
    assert "alice" in whoami.stdout
    assert "[ops dev system:authenticated]" in whoami.stdout


def test_kubectl_create_job_fails_after_its_retries_with_logs(
    make_cluster: MakeCluster, fake_clock: FakeClock, tmp_path: Path
) -> None:
    cluster = make_cluster(clock=fake_clock, profile=Profile(job_duration_s=3), auto_tick=False)
    created = kubectl(
        cluster, tmp_path, "create", "job", "smoke", "--image=curlimages/curl",
        "--", "curl", "-f", "http://nosuch",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr  # sent as protobuf, as kubectl does
    assert created.stdout == "job.batch/smoke created\n"
    for _ in range(140):  # 7 pods of 3 s, and 10 + 20 + ... + 320 s of back-off between them
        fake_clock.advance(5)
        cluster.emulator.tick()
        cluster.emulator.tick()

    failed = kubectl(
        cluster, tmp_path, "wait", "--for=condition=failed", "job/smoke", "--timeout=5s"
    )
    assert failed.returncode == 0, failed.stderr
    reason = kubectl(
        cluster, tmp_path, "get", "job", "smoke", "-o",
        'jsonpath={.status.failed} {.status.conditions[?(@.type=="Failed")].reason}',
    )  # fmt: skip
    assert reason.stdout == "7 BackoffLimitExceeded"  # backoffLimit 6: 7 pods failed
    logs = kubectl(cluster, tmp_path, "logs", "job/smoke")
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.endswith("curl: (6) Could not resolve host: nosuch\n")
    assert "Found 7 pods, using pod/smoke-" in logs.stderr


def table_lines(result: subprocess.CompletedProcess[str]) -> list[list[str]]:
    """kubectl's printed table, each line split into its cells (cells hold no spaces here)."""
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()]


def job(name: str) -> dict[str, object]:
    container = {"name": "main", "image": "busybox:1.36", "command": ["true"]}
    template = {"spec": {"restartPolicy": "Never", "containers": [container]}}
    return {"metadata": {"name": name}, "spec": {"template": template}}


def test_kubectl_prints_the_servers_columns(cluster: Cluster, tmp_path: Path) -> None:
    ns = cluster.namespace("drill-tables")
    cluster.apps.create_namespaced_deployment(ns, deployment("web", replicas=3))
    cluster.batch.create_namespaced_job(ns, job("smoke"))
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    assert wait_for(lambda: cluster.emulator.ready_since(ns, "web") is not None)
    assert wait_for(lambda: cluster.batch.read_namespaced_job("smoke", ns).status.succeeded)

    pods = table_lines(kubectl(cluster, tmp_path, "get", "pods", "-n", ns, "-l", "app=web"))
    assert pods[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [row[1:4] for row in pods[1:]] == [["1/1", "Running", "0"]] * 3
    assert re.fullmatch(r"\d+s", pods[1][4])

    deployments = table_lines(kubectl(cluster, tmp_path, "get", "deploy", "-n", ns))
    assert deployments[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert deployments[1][:4] == ["web", "3/3", "3", "3"]
    wide = table_lines(kubectl(cluster, tmp_path, "get", "deploy", "web", "-n", ns, "-o", "wide"))
    assert wide[0][5:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1][5:] == ["app", "nginx:1.27", "app=web"]

    namespace = table_lines(kubectl(cluster, tmp_path, "get", "ns", ns))
    assert namespace[0] == ["NAME", "STATUS", "AGE"]
    assert namespace[1][:2] == [ns, "Active"]
    configmaps = table_lines(kubectl(cluster, tmp_path, "get", "cm", "c", "-n", ns))
    assert configmaps == [["NAME", "DATA", "AGE"], ["c", "1", configmaps[1][2]]]
    jobs = table_lines(kubectl(cluster, tmp_path, "get", "jobs", "-n", ns))
    assert jobs[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert jobs[1][:3] == ["smoke", "Complete", "1/1"]


def test_kubectl_prints_a_crds_default_columns(cluster: Cluster, tmp_path: Path) -> None:
    cluster.emulator.velero.register_backup("nightly-1", [])
    backups = table_lines(kubectl(cluster, tmp_path, "get", "backups", "-n", "velero"))
    assert backups[0] == ["NAME", "CREATED", "AT"]  # the header is "CREATED AT"
    assert backups[1][0] == "nightly-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", backups[1][1])


def test_kubectl_get_watch_prints_rows(cluster: Cluster, tmp_path: Path) -> None:
    ns = cluster.namespace("drill-watch-table")
    cluster.apps.create_namespaced_deployment(ns, deployment("w"))
    assert wait_for(lambda: cluster.emulator.ready_since(ns, "w") is not None)
    watched = kubectl(
        cluster, tmp_path, "get", "pods", "-n", ns, "-w", "--request-timeout=2s", timeout_s=15
    )
    lines = table_lines(watched)
    assert lines[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[1][1:4] == ["1/1", "Running", "0"]
    assert "error" not in watched.stderr.lower()


# The objects the typed commands below make, written for kubectl create -f. CronJobs are stored
# as written (no defaults), so that one carries the empty fields kubectl's own YAML for it has.
WORKLOADS_YAML = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.27", ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: cache, labels: {app: cache}}
spec:
  type: ClusterIP
  selector: {app: cache}
  ports: [{name: 6379-redis, port: 6379, targetPort: redis, protocol: TCP}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    metadata: {name: tick}
    spec:
      template:
        metadata: {}
        spec:
          restartPolicy: OnFailure
          containers: [{name: tick, image: "busybox:1.36", command: [date], resources: {}}]
"""

ACCESS_YAML = """
apiVersion: v1
kind: Secret
metadata: {name: db}
data: {password: czNjcmV0, user: YWRtaW4=}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: ops}
"""


def stored(cluster: Cluster, namespace: str, api_version: str, kind: str, name: str) -> object:
    """The object as the server holds it, less what differs between any two stored objects."""
    found = cluster.emulator.get(api_version, kind, name, namespace)  # a copy
    assert found is not None, (namespace, kind, name)
    found.pop("status", None)
    meta = found.pop("metadata")
    for allocated in ("clusterIP", "clusterIPs"):  # a Service's address: one per Service
        found.get("spec", {}).pop(allocated, None)
    return {**found, "labels": meta.get("labels"), "annotations": meta.get("annotations")}


def create_both_ways(
    cluster: Cluster,
    tmp_path: Path,
    typed: str,
    manifest: str,
    yaml_text: str,
    commands: tuple[tuple[str, ...], ...],
) -> None:
    """Run the typed commands (protobuf bodies) in one namespace, create -f the YAML in another."""
    for args in commands:
        created = kubectl(cluster, tmp_path, "-n", typed, *args)  # -n before a "-- CMD"
        assert created.returncode == 0, (args, created.stderr)
    from_yaml = kubectl(
        cluster, tmp_path, "create", "--validate=false", "-f", "-", "-n", manifest,
        input_text=yaml_text,
    )  # fmt: skip
    assert from_yaml.returncode == 0, from_yaml.stderr


def test_kubectl_typed_creates_of_workloads_store_what_create_f_stores(
    cluster: Cluster, tmp_path: Path
) -> None:
    typed, manifest = cluster.namespace("typed"), cluster.namespace("manifest")
    create_both_ways(cluster, tmp_path, typed, manifest, WORKLOADS_YAML, (
        ("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"),
        ("expose", "deployment", "web", "--port=80", "--target-port=8080"),
        ("create", "service", "clusterip", "cache", "--tcp=6379:redis"),
        ("create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=*/5 * * * *",
         "--", "date"),
    ))  # fmt: skip
    for api_version, kind, name in (
        ("apps/v1", "Deployment", "web"),
        ("v1", "Service", "web"),
        ("v1", "Service", "cache"),
        ("batch/v1", "CronJob", "tick"),
    ):
        assert stored(cluster, typed, api_version, kind, name) == stored(
            cluster, manifest, api_version, kind, name
        )
    rolled = kubectl(
        cluster, tmp_path, "rollout", "status", "deploy/web", "-n", typed, "--timeout=10s"
    )
    assert rolled.returncode == 0, rolled.stderr
    assert "successfully rolled out" in rolled.stdout


def test_kubectl_typed_creates_of_secrets_and_access_store_what_create_f_stores(
    cluster: Cluster, tmp_path: Path
) -> None:
    typed, manifest = cluster.namespace("typed"), cluster.namespace("manifest")
    create_both_ways(cluster, tmp_path, typed, manifest, ACCESS_YAML, (
        ("create", "secret", "generic", "db", "--from-literal=password=s3cret",
         "--from-literal=user=admin"),
        ("create", "serviceaccount", "robot"),
        ("create", "role", "pod-reader", "--verb=get,list", "--resource=pods"),
        ("create", "rolebinding", "alice-reads-pods", "--role=pod-reader", "--user=alice",
         "--group=ops"),
    ))  # fmt: skip
    for api_version, kind, name in (
        ("v1", "Secret", "db"),
        ("v1", "ServiceAccount", "robot"),
        ("rbac.authorization.k8s.io/v1", "Role", "pod-reader"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", "alice-reads-pods"),
    ):
        assert stored(cluster, typed, api_version, kind, name) == stored(
            cluster, manifest, api_version, kind, name
        )
    allowed = kubectl(cluster, tmp_path, "auth", "can-i", "list", "pods", "--as=alice", "-n", typed)
    assert (allowed.returncode, allowed.stdout.strip()) == (0, "yes"), allowed.stderr


def test_kubectl_delete_dry_run_deletes_nothing(cluster: Cluster, tmp_path: Path) -> None:
    """kubectl sends a server dry run of a delete in the DeleteOptions body, not the query: the
    server answers as for the delete, and the object is still there afterwards."""
    ns = cluster.namespace("drill-dry-run")
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "kept"}})
    tried = kubectl(cluster, tmp_path, "delete", "configmap", "kept", "-n", ns, "--dry-run=server")
    assert tried.returncode == 0, tried.stderr
    assert tried.stdout.strip() == 'configmap "kept" deleted (server dry run)'
    assert cluster.core.read_namespaced_config_map("kept", ns).metadata.name == "kept"
    missing = kubectl(cluster, tmp_path, "delete", "cm", "absent", "-n", ns, "--dry-run=server")
    assert missing.returncode != 0
    assert 'configmaps "absent" not found' in missing.stderr


def test_kubectl_apply_dry_run_server_checks_and_stores_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    """kubectl apply --dry-run=server: a create (POST) for a new object, a patch for one that
    exists, both with dryRun=All; the server's refusals come back as for a real apply."""
    ns = cluster.namespace("drill-dry-apply")
    manifest = tmp_path / "web.yaml"
    manifest.write_text(yaml.safe_dump(deployment("web")))
    created = kubectl(cluster, tmp_path, "apply", "-n", ns, "--dry-run=server", "-f", str(manifest))
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "deployment.apps/web created (server dry run)"
    assert cluster.apps.list_namespaced_deployment(ns).items == []

    cluster.apps.create_namespaced_deployment(ns, deployment("web"))
    changed = deployment("web", replicas=3)
    manifest.write_text(yaml.safe_dump(changed))
    patched = kubectl(cluster, tmp_path, "apply", "-n", ns, "--dry-run=server", "-f", str(manifest))
    assert patched.returncode == 0, patched.stderr
    assert patched.stdout.strip() == "deployment.apps/web configured (server dry run)"
    assert cluster.apps.read_namespaced_deployment("web", ns).spec.replicas == 1

    changed["spec"]["selector"]["matchLabels"] = {"app": "other"}
    manifest.write_text(yaml.safe_dump(changed))
    refused = kubectl(cluster, tmp_path, "apply", "-n", ns, "--dry-run=server", "-f", str(manifest))
    assert refused.returncode != 0
    assert "`selector` does not match template `labels`" in refused.stderr
    assert any(r.query.get("dryRun") == "All" for r in cluster.emulator.received("PATCH"))


def test_kubectl_create_cronjob_is_validated_and_defaulted(
    cluster: Cluster, tmp_path: Path
) -> None:
    """batch validateCronJobSpec and ValidateCronJobCreate, through kubectl's typed create."""
    ns = cluster.namespace("drill-cron")
    job = ("--image=busybox", "-n", ns, "--", "true")
    for name, schedule, message in (
        ("c" * 53, "*/5 * * * *", "metadata.name: Invalid value: "),
        (
            "bad",
            "bogus",
            'spec.schedule: Invalid value: "bogus": expected exactly 5 fields, found 1',
        ),
        ("late", "0 25 * * *", "end of range (25) above maximum (23): 25"),
        ("tz", "TZ=UTC 0 * * * *", "cannot use TZ or CRON_TZ in schedule"),
    ):
        made = kubectl(cluster, tmp_path, "create", "cronjob", name, f"--schedule={schedule}", *job)
        assert made.returncode != 0, name
        assert message in made.stderr, made.stderr
    for name, schedule in (
        ("c" * 52, "*/5 * * * *"),
        ("named", "0 3 * jan-mar mon,fri"),
        ("hourly", "@every 1h30m"),
    ):
        made = kubectl(cluster, tmp_path, "create", "cronjob", name, f"--schedule={schedule}", *job)
        assert made.returncode == 0, made.stderr
    stored = cluster.batch.read_namespaced_cron_job("named", ns).spec
    assert (stored.concurrency_policy, stored.suspend) == ("Allow", False)
    assert (stored.successful_jobs_history_limit, stored.failed_jobs_history_limit) == (3, 1)
    assert stored.job_template.spec.template.spec.restart_policy == "OnFailure"


def test_kubectl_rollout_restart_replaces_every_pod_and_rollout_status_waits_for_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    ns = cluster.namespace("rollout")
    cluster.apps.create_namespaced_deployment(ns, deployment("web", replicas=2))
    first = kubectl(cluster, tmp_path, "rollout", "status", "deploy/web", "-n", ns, "--timeout=10s")
    assert first.returncode == 0, first.stderr
    before = {p.metadata.name for p in cluster.core.list_namespaced_pod(ns).items}

    restarted = kubectl(cluster, tmp_path, "rollout", "restart", "deploy/web", "-n", ns)
    assert restarted.returncode == 0, restarted.stderr
    rolled = kubectl(
        cluster, tmp_path, "rollout", "status", "deploy/web", "-n", ns, "--timeout=20s"
    )
    assert rolled.returncode == 0, rolled.stderr
    assert "successfully rolled out" in rolled.stdout
    after = cluster.core.list_namespaced_pod(ns).items
    assert len(after) == 2
    assert before.isdisjoint(p.metadata.name for p in after)
    assert len({p.metadata.labels["pod-template-hash"] for p in after}) == 1
