"""Every field a plan gives a step changes what drill asks of the cluster or the cloud.

``plans/every-field.yaml`` runs each step type with each field of its params set to something
other than its default. Every step runs once, in the plan's order, through the real SDK
clients against the sandbox's emulators; each check then reads what the emulators received
during that step (the Restore's spec, the Job's, a list's label selector, a DNS change, a
backend patch, a Route53 change batch, an ELBv2 form) and compares it with the plan.

``NEVER_SENT`` names, with the reason, each field that by design reaches no API (drill's own
waits and judgements). The guard test fails when a params model gains a field that is neither
checked here nor listed there, or when the plan leaves a field at its default.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest
import yaml
from pydantic import BaseModel

from drill.clock import Clock
from drill.errors import DrillError
from drill.logs import build_logger
from drill.plan import ExecutionPlan, ResolvedStep
from drill.sandbox.aws import AwsRequest
from drill.sandbox.gcp import ChangeTruth
from drill.sandbox.kube import KubeEmulator
from drill.sandbox.kube.transport.app import Received
from drill.sandbox.runtime import Sandbox
from drill.sandbox.worlds.clusters import derive
from drill.sandbox.worlds.plans import resolve_both_modes
from drill.steps import STEP_TYPES, StepEnv, StepParams, StepResult
from drill.steps.http_check import HttpCheck, HttpCheckParams
from providers.live import LiveProviders
from tests.drills.conftest import FAST, FAST_CLOUD, settle
from tests.httpserver import Answer, Script, serve
from tests.inprocess import BriefSleeps

PLAN = Path(__file__).parent / "plans" / "every-field.yaml"

# Fields that reach no API, by design: "step type" -> field -> why.
NEVER_SENT: dict[str, dict[str, str]] = {
    "http.check": {
        "expect_status": "drill's judgement of the answer",
        "body_contains": "drill's judgement of the answer",
        "json_field.path": "drill's judgement of the answer",
        "json_field.equals": "drill's judgement of the answer",
        "attempt_timeout": "the client's socket timeout, not part of the request",
        "within": "drill's wait between attempts",
        "interval": "drill's wait between attempts",
    },
    "velero.backup_fresh": {"max_age": "drill's judgement of the newest backup's age"},
    "velero.restore": {"allow_partially_failed": "drill's judgement of the final phase"},
    "kube.wait_ready": {
        "kinds": "drill filters the listed workloads by kind",
        "min_workloads": "drill's judgement of what was listed",
        "workloads": "drill's judgement of what was listed",
    },
    "kube.job": {},
    "kube.heartbeat": {"interval": "drill's bound on the recovery point's resolution"},
    "job.recovery_point": {},
    "gcs.backup_fresh": {
        "max_age": "drill's judgement of the newest object's age",
        "min_size": "drill's judgement of the newest object's size",
        "timestamp_metadata": "drill reads that metadata key of the listed objects",
        "project": "names the storage client's project; listing and reading objects bill none",
    },
    "s3.backup_fresh": {
        "max_age": "drill's judgement of the newest object's age",
        "min_size": "drill's judgement of the newest object's size",
        "timestamp_metadata": "drill reads that metadata key of the listed objects",
    },
    "gcs.heartbeat": {
        "interval": "drill's bound on the recovery point's resolution",
        "max_reads": "drill's bound on how many of the listed objects it reads",
        "later_heartbeats": "drill's judgement of heartbeats written after t0",
        "project": "names the storage client's project; listing and reading objects bill none",
    },
    "s3.heartbeat": {
        "interval": "drill's bound on the recovery point's resolution",
        "max_reads": "drill's bound on how many of the listed objects it reads",
        "later_heartbeats": "drill's judgement of heartbeats written after t0",
    },
    "dns.switch": {
        "verify.nameservers": "asked over DNS (port 53), not through the zone's API",
        "verify.within": "drill's wait for the nameservers",
        "create": "drill's choice, before any request, to create a missing record or refuse "
        "(tests/steps/test_dns_switch.py)",
    },
    "backend.switch": {},
    "kube.reachable": {},
    "cloud.reachable": {"checks.step": "names the step in the report only"},
    "kube.scale": {},
    "kube.namespace": {},
}


@dataclass
class Seen:
    """What one step's run sent, by emulator, and how the step ended."""

    kube: list[Received] = field(default_factory=list)
    aws: list[AwsRequest] = field(default_factory=list)
    compute_patches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    compute_requests: list[tuple[str, str]] = field(default_factory=list)
    dns_changes: list[ChangeTruth] = field(default_factory=list)
    result: StepResult | None = None
    error: str = ""

    def kube_requests(self, method: str, path: str) -> list[Received]:
        return [r for r in self.kube if r.method == method and r.path.endswith(path)]

    def one(self, method: str, path: str) -> Received:
        found = self.kube_requests(method, path)
        assert found, f"no {method} {path} among {[(r.method, r.path) for r in self.kube]}"
        return found[0]


@dataclass(frozen=True)
class Ran:
    plan: ExecutionPlan
    steps: dict[str, ResolvedStep]
    seen: dict[str, Seen]


def _steps(plan: ExecutionPlan) -> Iterator[ResolvedStep]:
    for stages in plan.phases.values():
        for stage in stages:
            yield from stage.steps


class _Marks:
    """Where each emulator's record stood before a step, so its window is that step's own."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.kube = len(self._dr.received())
        self.aws = len(sandbox.cloud.aws.requests()) if sandbox.cloud.aws else 0
        compute = sandbox.cloud.compute
        self.patches = len(compute.patches()) if compute else 0
        self.compute = len(compute.truth.requests) if compute else 0
        self.dns = len(sandbox.cloud.dns.truth) if sandbox.cloud.dns else 0

    @property
    def _dr(self) -> KubeEmulator:
        return self.sandbox.clusters["dr"]

    def since(self) -> Seen:
        cloud = self.sandbox.cloud
        return Seen(
            kube=self._dr.received()[self.kube :],
            aws=cloud.aws.requests()[self.aws :] if cloud.aws else [],
            compute_patches=cloud.compute.patches()[self.patches :] if cloud.compute else [],
            compute_requests=list(cloud.compute.truth.requests[self.compute :])
            if cloud.compute
            else [],
            dns_changes=cloud.dns.truth[self.dns :] if cloud.dns else [],
        )


def _env(
    step: ResolvedStep, plan: ExecutionPlan, providers: LiveProviders, clock: Clock
) -> StepEnv:
    context = plan.contexts.get(step.context_role) if step.context_role else None
    return StepEnv(
        run_id="every-field-1",
        step_id=step.id,
        mode="live",
        context=context,
        clock=clock,
        cancel=threading.Event(),
        deadline=clock.monotonic() + 30.0,
        providers=providers,
        log=build_logger(-1),
    )


def _run(step: ResolvedStep, env: StepEnv, seen_by: Callable[[], Seen]) -> Seen:
    assert step.params is not None
    result, error = None, ""
    try:
        if step.type.mutating:
            env = StepEnv(
                **{**env.__dict__, "prior": step.type.capture_prior_state(step.params, env)}
            )
        result = step.type.run(step.params, env)
    except DrillError as exc:  # what was asked before a step failed was still asked
        error = str(exc)
    seen = seen_by()
    seen.result, seen.error = result, error
    return seen


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    plans = resolve_both_modes([PLAN])
    live = next(p for p in plans if p.mode == "live")
    workdir = tmp_path_factory.mktemp("every-field")
    clock = BriefSleeps()
    with Sandbox(derive(plans), workdir, profile=FAST, cloud_profile=FAST_CLOUD) as sandbox:
        for emulator in sandbox.clusters.values():
            settle(emulator)
        # A StatefulSet to scale: the world's derivation seeds Deployments only.
        sandbox.clusters["dr"].apply(_stateful_set("dr-prod", "api-db"))
        steps = {s.id: s for s in _steps(live)}
        seen = {}
        for step in steps.values():
            marks = _Marks(sandbox)
            # Each step's own adapters, as a run's first use of them: no zone id or client
            # another step looked up is reused, so each window holds all its step asked.
            providers = LiveProviders(clock, str(sandbox.kubeconfig), sandbox.cloud_settings)
            seen[step.id] = _run(step, _env(step, live, providers, clock), marks.since)
        yield Ran(live, steps, seen)


def _stateful_set(namespace: str, name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "serviceName": name,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "db", "image": "postgres:16"}]},
            },
        },
    }


# --- what each step sent, field by field --------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One field: what the plan gave, and what the emulator received for it."""

    field: str
    planned: object
    received: object


Check = Callable[[StepParams, Seen], list[Sent]]


def _p(params: StepParams) -> Any:
    return params  # the checks read each type's own fields


def check_kube_reachable(params: StepParams, seen: Seen) -> list[Sent]:
    # The only context it names that the sandbox serves is dr: its version was asked there.
    asked = [r.path for r in seen.kube if r.path.rstrip("/") == "/version"]
    return [Sent("contexts", {"dr": "sandbox-dr"}, {"dr": "sandbox-dr"} if asked else {})]


def _backups_listed(seen: Seen, namespace: str) -> list[Received]:
    return seen.kube_requests("GET", f"/apis/velero.io/v1/namespaces/{namespace}/backups")


def check_namespace(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    created = seen.one("POST", "/api/v1/namespaces").json()
    return [
        Sent("action", p.action, "create"),
        Sent("name", p.name, created["metadata"]["name"]),
    ]


def check_velero_fresh_schedule(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    listed = _backups_listed(seen, "velero")
    locations = seen.kube_requests("GET", "/backupstoragelocations/default")
    return [
        Sent("schedule", f"velero.io/schedule-name={p.schedule}", listed[0].query["labelSelector"]),
        Sent("check_storage_location", p.check_storage_location, bool(locations)),
    ]


def check_velero_fresh_selector(params: StepParams, seen: Seen) -> list[Sent]:
    listed = _backups_listed(seen, "velero")
    return [Sent("selector", _p(params).selector, listed[0].query["labelSelector"])]


def check_velero_fresh_named(params: StepParams, seen: Seen) -> list[Sent]:
    name = _p(params).backup
    return [Sent("backup", name, bool(seen.kube_requests("GET", f"/backups/{name}")) and name)]


def check_velero_fresh_elsewhere(params: StepParams, seen: Seen) -> list[Sent]:
    namespace = _p(params).velero_namespace
    listed = _backups_listed(seen, namespace)
    return [Sent("velero_namespace", namespace, namespace if listed else None)]


def _restore_spec(seen: Seen) -> dict[str, Any]:
    created = seen.one("POST", "/apis/velero.io/v1/namespaces/velero/restores").json()
    spec: dict[str, Any] = created["spec"]
    return spec


def check_restore_schedule(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    spec = _restore_spec(seen)
    listed = _backups_listed(seen, "velero")
    selector = spec.get("labelSelector", {})
    return [
        Sent("schedule", f"velero.io/schedule-name={p.schedule}", listed[0].query["labelSelector"]),
        Sent("include_namespaces", p.include_namespaces, spec.get("includedNamespaces")),
        Sent("exclude_namespaces", p.exclude_namespaces, spec.get("excludedNamespaces")),
        Sent("namespace_mapping", p.namespace_mapping, spec.get("namespaceMapping")),
        Sent("include_resources", p.include_resources, spec.get("includedResources")),
        Sent("exclude_resources", p.exclude_resources, spec.get("excludedResources")),
        Sent(
            "label_selector",
            {
                "matchExpressions": [
                    {"key": "tier", "operator": "NotIn", "values": ["debug", "scratch"]},
                    {"key": "ephemeral", "operator": "DoesNotExist"},
                ]
            },
            selector,
        ),
        Sent("restore_pvs", p.restore_pvs, spec.get("restorePVs")),
        Sent(
            "include_cluster_resources",
            p.include_cluster_resources,
            spec.get("includeClusterResources"),
        ),
        Sent(
            "existing_resource_policy",
            p.existing_resource_policy,
            spec.get("existingResourcePolicy"),
        ),
        Sent("item_operation_timeout", "1h30m0s", spec.get("itemOperationTimeout")),
    ]


def check_restore_named(params: StepParams, seen: Seen) -> list[Sent]:
    return [Sent("backup", _p(params).backup, _restore_spec(seen).get("backupName"))]


def check_restore_elsewhere(params: StepParams, seen: Seen) -> list[Sent]:
    namespace = _p(params).velero_namespace
    return [
        Sent("velero_namespace", namespace, namespace if _backups_listed(seen, namespace) else None)
    ]


def check_dns_gcp(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    [change] = seen.dns_changes
    [added] = change.additions
    [deleted] = change.deletions
    return [
        Sent("provider", "gcp", "gcp"),  # the change reached Cloud DNS, not Route53
        Sent("project", p.project, change.project),
        Sent("zone", p.zone, change.zone),
        Sent("record", p.record, added.name),
        Sent("type", p.type, added.type),
        Sent("rrdatas", p.rrdatas, list(added.rrdatas)),
        Sent("ttl", p.ttl, added.ttl),
        # Exactly the record as it stood (the world's), deleted in the same change.
        Sent(
            "prior",
            ("drill-api.every-field.example.", "AAAA", 300, ("2001:db8::10",)),
            (deleted.name, deleted.type, deleted.ttl, tuple(deleted.rrdatas)),
        ),
    ]


def _route53_batch(seen: Seen) -> list[dict[str, Any]]:
    [submitted] = [
        r for r in seen.aws if r.operation.startswith("POST ") and "/rrset" in r.operation
    ]
    root = ElementTree.fromstring(submitted.body)
    changes = []
    for change in root.iterfind(".//{*}Change"):
        record = change.find("{*}ResourceRecordSet")
        assert record is not None
        changes.append(
            {
                "zone": submitted.operation.split("/")[3],
                "action": change.findtext("{*}Action"),
                "name": record.findtext("{*}Name"),
                "type": record.findtext("{*}Type"),
                "ttl": int(record.findtext("{*}TTL") or -1),
                "values": [v.text for v in record.iterfind(".//{*}Value")],
            }
        )
    return changes


def check_dns_aws(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    changes = _route53_batch(seen)
    created = [c for c in changes if c["action"] != "DELETE"]
    deleted = [c for c in changes if c["action"] == "DELETE"]
    zones = [r for r in seen.aws if r.operation.startswith("GET /2013-04-01/hostedzonesbyname")]
    return [
        Sent("provider", "aws", "aws" if changes else None),
        Sent("zone", p.zone.rstrip("."), parse_qs(zones[0].query)["dnsname"][0].rstrip(".")),
        Sent("record", [p.record], [c["name"] for c in created]),
        Sent("type", [p.type], [c["type"] for c in created]),
        Sent("rrdatas", [p.rrdatas], [c["values"] for c in created]),
        Sent("ttl", [p.ttl], [c["ttl"] for c in created]),
        Sent(
            "prior",
            [(p.record, "CNAME", 300, ["primary.every-field.example."])],
            [(c["name"], c["type"], c["ttl"], c["values"]) for c in deleted],
        ),
    ]


def check_backend_gcp(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    [(path, body)] = seen.compute_patches
    health = [q for q in seen.compute_requests if q[1].endswith("/getHealth")]
    reads = [q for q in seen.compute_requests if q[0] == "GET" and q[1] == path]
    return [
        Sent("provider", "gcp", "gcp"),
        Sent("project", p.project, path.split("/")[4]),
        Sent("region", p.region, path.split("/")[6]),
        Sent("service", p.service, path.rsplit("/", 1)[1]),
        Sent(
            "backends.target",
            [b.target for b in p.backends],
            [b["group"].split("/compute/v1/")[-1] for b in body["backends"]],
        ),
        Sent(
            "backends.capacity",
            [b.capacity for b in p.backends],
            [b["capacityScaler"] for b in body["backends"]],
        ),
        # The fingerprint read before the patch went with it: a patch without it is refused.
        Sent("fingerprint", True, bool(body.get("fingerprint")) and bool(reads)),
        Sent("wait_healthy", True, bool(health)),
    ]


def _form(request: AwsRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def check_backend_aws_listener(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    [modify] = [r for r in seen.aws if r.operation == "ModifyListener"]
    form = _form(modify)
    prefix = "DefaultActions.member.1.ForwardConfig.TargetGroups.member."
    arns = [form[k] for k in sorted(form) if k.startswith(prefix) and k.endswith(".TargetGroupArn")]
    weights = [int(form[k]) for k in sorted(form) if k.startswith(prefix) and k.endswith(".Weight")]
    lbs = [r for r in seen.aws if r.operation == "DescribeLoadBalancers"]
    return [
        Sent("provider", "aws", "aws"),
        Sent("region", p.region, modify.region),
        Sent("listener", "every-field-alb", _form(lbs[0]).get("Names.member.1")),
        Sent(
            "backends.target", [b.target for b in p.backends], [a.rsplit("/", 2)[1] for a in arns]
        ),
        Sent("backends.capacity", [b.capacity for b in p.backends], weights),
    ]


def check_backend_aws_group(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    [register] = [r for r in seen.aws if r.operation == "RegisterTargets"]
    form = _form(register)
    groups = [r for r in seen.aws if r.operation == "DescribeTargetGroups"]
    return [
        Sent("service", p.service, _form(groups[0]).get("Names.member.1")),
        Sent("backends.target", [b.target for b in p.backends], [form.get("Targets.member.1.Id")]),
        Sent(
            "backends.port",
            [b.port for b in p.backends],
            [int(form.get("Targets.member.1.Port", 0))],
        ),
    ]


def check_scale(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    path = f"/apis/apps/v1/namespaces/{p.namespace}/statefulsets/{p.name}/scale"
    writes = [r for r in seen.kube if r.method in ("PATCH", "PUT") and r.path == path]
    assert writes, [(r.method, r.path) for r in seen.kube]
    return [
        Sent("kind", p.kind, "StatefulSet"),
        Sent("namespace", p.namespace, p.namespace),
        Sent("name", p.name, p.name),
        Sent("replicas", p.replicas, writes[-1].json()["spec"]["replicas"]),
    ]


def check_heartbeat(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    read = seen.kube_requests("GET", f"/api/v1/namespaces/{p.namespace}/configmaps/{p.name}")
    return [
        Sent("namespace", p.namespace, read[0].path.split("/")[4] if read else None),
        Sent("name", p.name, read[0].path.rsplit("/", 1)[1] if read else None),
        # The key read is the one whose time the step reports.
        Sent("key", p.key, p.key if f"key {p.key}" in _point(seen) else seen.error),
    ]


def _point(seen: Seen) -> str:
    point = seen.result.recovery_point if seen.result else None
    return point.source if point else ""


def check_ready(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    listed = seen.kube_requests("GET", f"/apis/apps/v1/namespaces/{p.namespace}/deployments")
    return [
        Sent("namespace", p.namespace, p.namespace if listed else None),
        Sent("selector", p.selector, listed[0].query.get("labelSelector")),
    ]


def _job(seen: Seen, namespace: str) -> dict[str, Any]:
    created: dict[str, Any] = seen.one("POST", f"/apis/batch/v1/namespaces/{namespace}/jobs").json()
    return created


def _job_fields(p: Any, job: dict[str, Any]) -> list[Sent]:
    [container] = job["spec"]["template"]["spec"]["containers"]
    return [
        Sent("namespace", p.namespace, job["metadata"].get("namespace", p.namespace)),
        Sent("image", p.image, container["image"]),
        Sent("command", p.command, container["command"]),
        Sent("env", p.env, {e["name"]: e["value"] for e in container.get("env", [])}),
        Sent("name_prefix", p.name_prefix, job["metadata"]["name"].rsplit("-", 1)[0]),
        Sent("active_deadline", int(p.active_deadline), job["spec"]["activeDeadlineSeconds"]),
    ]


def check_smoke(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    logs = [r for r in seen.kube if r.path.endswith("/log")]
    return [
        *_job_fields(p, _job(seen, p.namespace)),
        Sent(
            "log_tail_lines",
            str(p.log_tail_lines),
            logs[0].query.get("tailLines") if logs else None,
        ),
    ]


def check_data_point(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    return _job_fields(p, _job(seen, p.namespace))


def _listed_objects(seen: Seen, bucket: str) -> list[dict[str, list[str]]]:
    return [parse_qs(r.query) for r in seen.aws if r.operation == f"GET /{bucket}"]


def check_s3(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    listed = _listed_objects(seen, p.bucket)
    prefixes = sorted({q.get("prefix", [""])[0] for q in listed})
    expected = sorted({prefix for prefix in prefixes if prefix.startswith(p.prefix.split("{")[0])})
    return [
        Sent("bucket", p.bucket, p.bucket if listed else None),
        Sent("prefix", expected or ["nothing listed"], prefixes),
        Sent(
            "region",
            p.region,
            {r.region for r in seen.aws if p.bucket in r.operation} == {p.region} and p.region,
        ),
    ]


def check_gcs(params: StepParams, seen: Seen) -> list[Sent]:
    # The GCS emulator keeps no request record: what was listed shows in what was found.
    p = _p(params)
    found = str(seen.result.facts if seen.result else seen.error)
    return [
        Sent("bucket", True, f"gs://{p.bucket}/" in found or p.bucket in found),
        Sent("prefix", True, p.prefix.split("{")[0] in found),
    ]


def check_cloud_reachable(params: StepParams, seen: Seen) -> list[Sent]:
    p = _p(params)
    read_gcp = [q for q in seen.compute_requests if q[0] == "GET" and "api-backend-drill" in q[1]]
    read_aws = [r for r in seen.aws if r.operation in ("DescribeListeners", "DescribeTargetGroups")]
    types = sorted({c.type for c in p.checks})
    return [
        Sent("checks.type", ["backend.switch", "dns.switch"], types),
        Sent("checks.params", True, bool(read_gcp) and bool(read_aws)),
    ]


# The plan's steps, each with its check (contexts-reachable, which drill adds, is reachable's).
CHECKS: dict[str, Check] = {
    "reachable": check_kube_reachable,
    "clouds-reachable": check_cloud_reachable,
    "velero-fresh-schedule": check_velero_fresh_schedule,
    "velero-fresh-selector": check_velero_fresh_selector,
    "velero-fresh-named": check_velero_fresh_named,
    "velero-fresh-elsewhere": check_velero_fresh_elsewhere,
    "gcs-fresh": check_gcs,
    "s3-fresh": check_s3,
    "namespace": check_namespace,
    "restore-schedule": check_restore_schedule,
    "restore-named": check_restore_named,
    "restore-elsewhere": check_restore_elsewhere,
    "dns-gcp": check_dns_gcp,
    "dns-aws": check_dns_aws,
    "backend-gcp": check_backend_gcp,
    "backend-aws-listener": check_backend_aws_listener,
    "backend-aws-group": check_backend_aws_group,
    "scale": check_scale,
    "heartbeat": check_heartbeat,
    "ready": check_ready,
    "smoke": check_smoke,
    "data-point": check_data_point,
    "gcs-beat": check_gcs,
    "s3-beat": check_s3,
}


@pytest.mark.parametrize("step_id", sorted(CHECKS))
def test_each_field_of_the_step_reaches_the_api(ran: Ran, step_id: str) -> None:
    step, seen = ran.steps[step_id], ran.seen[step_id]
    assert step.params is not None
    sent = CHECKS[step_id](step.params, seen)
    differing = [s for s in sent if s.planned != s.received]
    assert not differing, f"{step_id} ({seen.error or 'passed'}): {differing}"


def test_an_http_check_sends_its_method_headers_and_body() -> None:
    script = Script([Answer(201, b'{"state": "up"}')])
    with serve(script) as url:
        sent = HttpCheckParams.model_validate(
            {
                "url": f"{url}/health/deep",
                "method": "PUT",
                "headers": {"X-Probe": "every-field"},
                "body": '{"probe": true}',
            }
        )
        clock = BriefSleeps()
        env = StepEnv(
            run_id="every-field-1",
            step_id="http",
            mode="live",
            context=None,
            clock=clock,
            cancel=threading.Event(),
            deadline=clock.monotonic() + 10.0,
            providers=LiveProviders(clock),
            log=build_logger(-1),
        )
        with pytest.raises(DrillError):  # 201 is not the default 200: the judgement is drill's
            HttpCheck().run(sent, env)
    method, path, headers = script.requests[0]
    assert (method, path) == ("PUT", "/health/deep")
    assert headers.get("X-Probe") == "every-field"
    assert script.bodies[0] == b'{"probe": true}'


# Fields the HTTP test above checks (the plan cannot name the test server's port).
HTTP_CHECKED = frozenset({"url", "method", "headers", "body"})


def _fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Each field of ``model``, a nested model's as ``outer.inner``."""
    for name, info in model.model_fields.items():
        nested = [
            arg
            for arg in (info.annotation, *getattr(info.annotation, "__args__", ()))
            for arg in (arg, *getattr(arg, "__args__", ()))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        if nested:
            yield from _fields(nested[0], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def test_every_field_is_checked_or_said_to_reach_no_api(ran: Ran) -> None:
    checked: dict[str, set[str]] = {name: set() for name in STEP_TYPES}
    checked["http.check"] |= HTTP_CHECKED
    for step_id, check in CHECKS.items():
        step = ran.steps[step_id]
        assert step.params is not None
        checked[step.type.name] |= {s.field for s in check(step.params, ran.seen[step_id])}
    problems = []
    for name in STEP_TYPES:
        fields = set(_fields(STEP_TYPES[name].params_model))
        never = set(NEVER_SENT.get(name, {}))
        unaccounted = fields - checked[name] - never
        both = checked[name] & never
        stale = never - fields
        if unaccounted:
            problems.append(f"{name}: {sorted(unaccounted)} neither checked nor in NEVER_SENT")
        if both:
            problems.append(f"{name}: {sorted(both)} checked and also in NEVER_SENT")
        if stale:
            problems.append(f"{name}: NEVER_SENT names {sorted(stale)}, not fields")
    assert not problems, "\n".join(problems)


def test_the_plan_sets_every_field_it_checks_to_something_else_than_its_default() -> None:
    raw = yaml.safe_load(PLAN.read_text())
    given: dict[str, set[str]] = {}
    for phase in raw["phases"].values():
        for step in phase:
            given.setdefault(step["type"], set()).update(_given(step["with"]))
    missing = {
        name: sorted(set(_fields(STEP_TYPES[name].params_model)) - fields - set(NEVER_SENT[name]))
        for name, fields in given.items()
    }
    assert all(not m for m in missing.values()), missing


def _given(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                yield from _given(item, f"{prefix}{key}.")
        elif isinstance(value, dict) and key == "verify":
            yield from _given(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_a_label_selector_velero_cannot_take_is_refused_at_validation() -> None:
    from pydantic import ValidationError

    from drill.steps.velero_restore import VeleroRestoreParams

    with pytest.raises(ValidationError, match="'app in api' is not a label selector requirement"):
        VeleroRestoreParams.model_validate(
            {"schedule": "s", "include_namespaces": ["a"], "label_selector": "x=y,app in api"}
        )
