"""The faults a sandbox rehearsal can inject: one catalogue, one definition per fault.

``drill run PLAN --sandbox --fault NAME[@STEP]``, ``drill sandbox faults``, a world file's
``faults:`` and the fault-matrix tests all name faults from ``CATALOGUE``, so the names never
drift. A fault is armed when its step starts (``@STEP``), after a delay from the run's start
(world files), or before the run (neither). What it does is a list of ``Action``s: plain data
naming one call on one of the sandbox's emulators (``drill.sandbox.runtime`` carries them out,
in its own process or, for a sandbox kept up by ``drill sandbox up``, in the one serving it).

Which objects a fault targets comes from the plan, as the world does: ``pods-never-ready``
holds back the workloads a ``kube.wait_ready`` step waits for, ``backend-never-healthy`` the
backends a ``backend.switch`` adds. At a step, a fault targets what that step uses (its
cluster, its workloads, its Job); a fault that has nothing to act on in the plan (or step) is
refused before the run, naming why.

This module only decides *what* to inject; it must not import or touch an emulator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from drill.errors import UsageError
from drill.plan import ExecutionPlan, ResolvedStep, service_address
from drill.sandbox.worlds.clusters import selected_labels
from drill.steps.backend_switch import BackendSwitchParams
from drill.steps.dns_switch import DnsSwitchParams
from drill.steps.http_check import HttpCheckParams
from drill.steps.kube_job import KubeJobParams
from drill.steps.kube_wait_ready import KubeWaitReadyParams
from drill.steps.velero_restore import VeleroRestoreParams

Arg = str | int | float | bool | None


@dataclass(frozen=True)
class Action:
    """One call on one emulator of a sandbox, as plain data (it may cross a socket)."""

    # Where it lands: kube (a cluster's faults), velero, cloud-dns, compute, route53, gcs, s3.
    target: str
    call: str  # a method the runtime allows on that target
    role: str | None = None  # the cluster, for kube and velero
    args: dict[str, Arg] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"target": self.target, "call": self.call, "role": self.role, "args": self.args}

    @classmethod
    def from_json(cls, raw: object) -> Action:
        """An action as ``as_json`` wrote it; ValueError for anything else."""
        if not isinstance(raw, dict) or not isinstance(raw.get("args", {}), dict):
            raise ValueError("an action is an object with target, call, role and args")
        args = raw.get("args", {})
        if not all(_is_arg(value) for value in args.values()):
            raise ValueError("an action's args are strings, numbers, booleans or null")
        role = raw.get("role")
        return cls(
            str(raw["target"]),
            str(raw["call"]),
            None if role is None else str(role),
            {str(key): value for key, value in args.items()},
        )


def _is_arg(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


# (the plan, the step it is armed at or None) -> what to do; raises NotApplicable.
Planner = Callable[[ExecutionPlan, ResolvedStep | None], list[Action]]


class NotApplicable(UsageError):
    """The fault has nothing to act on in this plan (or at this step)."""


@dataclass(frozen=True)
class FaultKind:
    name: str
    summary: str  # one line, for `drill sandbox faults`
    plan: Planner


@dataclass(frozen=True)
class FaultSpec:
    """One fault asked for: by name, armed at a step's start, after a delay, or at once."""

    name: str
    at_step: str | None = None
    after_s: float | None = None

    def __str__(self) -> str:
        if self.at_step:
            return f"{self.name}@{self.at_step}"
        return self.name if self.after_s is None else f"{self.name} after {self.after_s:g}s"


# --- what each fault targets ------------------------------------------------------------------


def _scope(plan: ExecutionPlan, step: ResolvedStep | None) -> list[ResolvedStep]:
    steps = [step] if step is not None else plan.steps()
    return [s for s in steps if s.params is not None]


def _roles(plan: ExecutionPlan, step: ResolvedStep | None) -> list[str]:
    """The step's cluster, or (no step, or a step on no cluster) every cluster of the plan."""
    if step is not None and step.context_role:
        return [step.context_role]
    return sorted(plan.contexts)


def _on_clusters(call: str, **args: Arg) -> Planner:
    def planned(plan: ExecutionPlan, step: ResolvedStep | None) -> list[Action]:
        return [Action("kube", call, role, dict(args)) for role in _roles(plan, step)]

    return planned


def _restores(call: str, **args: Arg) -> Planner:
    def planned(plan: ExecutionPlan, step: ResolvedStep | None) -> list[Action]:
        roles = sorted(
            {
                s.context_role
                for s in _scope(plan, step)
                if isinstance(s.params, VeleroRestoreParams) and s.context_role
            }
        )
        _require(roles, "velero.restore step", step)
        return [Action("kube", call, role, dict(args)) for role in roles]

    return planned


def _location_unavailable(plan: ExecutionPlan, step: ResolvedStep | None) -> list[Action]:
    roles = sorted(
        {
            s.context_role
            for s in _scope(plan, step)
            if s.type.name.startswith("velero.") and s.context_role is not None
        }
    )
    _require(roles, "velero step", step)
    unavailable: dict[str, Arg] = {"name": "default", "available": False}
    return [Action("velero", "set_storage_location", role, unavailable) for role in roles]


def _never_ready(plan: ExecutionPlan, step: ResolvedStep | None) -> list[Action]:
    actions = []
    for waited in _scope(plan, step):
        params = waited.params
        if not isinstance(params, KubeWaitReadyParams) or waited.context_role is None:
            continue
        app = selected_labels(params.selector).get("app")
        names = params.workloads or ([app] if app else [])
        actions += [
            Action(
                "kube",
                "never_ready",
                waited.context_role,
                {"namespace": params.namespace, "name": name},
            )
            for name in names
        ]
    _require(actions, "kube.wait_ready step naming its workloads (or app=NAME)", step)
    return actions


def _failing_jobs(plan: ExecutionPlan, step: ResolvedStep | None) -> list[Action]:
    actions = [
        Action(
            "kube",
            "fail_job",
            s.context_role,
            {"namespace": s.params.namespace, "name": f"{s.params.name_prefix}-*"},
        )
        for s in _scope(plan, step)
        if isinstance(s.params, KubeJobParams) and s.context_role
    ]
    _require(actions, "kube.job step", step)
    return actions


# A URL inside a smoke test's command (curl -fsS http://api.dr-test.svc/healthz).
_URL_IN_COMMAND = re.compile(r"https?://[^\s\"']+")
SMOKE_FAILURE_STATUS = 500


def _smoke_targets_fail(plan: ExecutionPlan, step: ResolvedStep | None) -> list[Action]:
    """The application behind each smoke target answers 500: the Services a kube.job step's
    command requests, and the hosts http.check steps ask (their load balancer still routes to
    healthy backends; it is the application that fails)."""
    actions: list[Action] = []
    for smoke in _scope(plan, step):
        params = smoke.params
        if isinstance(params, HttpCheckParams):
            host = (urlsplit(params.url).hostname or "").lower()
            args: dict[str, Arg] = {"host": host, "status": SMOKE_FAILURE_STATUS}
            actions.append(Action("gateway", "fail_host", None, args))
        elif isinstance(params, KubeJobParams) and smoke.context_role is not None:
            actions += [
                Action(
                    "kube-http",
                    "set",
                    smoke.context_role,
                    {
                        "namespace": namespace,
                        "workload": f"{name}-*",
                        "status": SMOKE_FAILURE_STATUS,
                    },
                )
                for namespace, name in _services_requested(params)
            ]
    _require(actions, "http.check step or kube.job step requesting a Service", step)
    return actions


def _services_requested(params: KubeJobParams) -> list[tuple[str, str]]:
    """(namespace, Service) of each in-cluster URL a Job's command requests: NAME.NS.svc (and
    longer), NAME.NS, or a bare NAME in the Job's own namespace."""
    found = []
    for part in params.command:
        for url in _URL_IN_COMMAND.findall(part):
            address = service_address(url)
            if address is not None:
                found.append((address.namespace, address.name))
                continue
            labels = (urlsplit(url).hostname or "").split(".")
            if len(labels) == 1:
                found.append((params.namespace, labels[0]))
            elif len(labels) == 2:
                found.append((labels[1], labels[0]))
    return found


def _dns(provider: str, gcp_call: str, **args: Arg) -> Planner:
    def planned(plan: ExecutionPlan, step: ResolvedStep | None) -> list[Action]:
        providers = {
            s.params.provider for s in _scope(plan, step) if isinstance(s.params, DnsSwitchParams)
        }
        wanted = providers if provider == "any" else providers & {provider}
        _require(wanted, f"dns.switch step{'' if provider == 'any' else f' of {provider}'}", step)
        actions = []
        if "gcp" in wanted:
            actions.append(Action("cloud-dns", gcp_call, None, dict(args)))
        if "aws" in wanted:
            actions.append(Action("route53", "stuck_changes"))
        return actions

    return planned


def _gcp_backends(
    build: Callable[[BackendSwitchParams], list[Action]],
) -> Planner:
    def planned(plan: ExecutionPlan, step: ResolvedStep | None) -> list[Action]:
        actions = [
            action
            for s in _scope(plan, step)
            if isinstance(s.params, BackendSwitchParams) and s.params.provider == "gcp"
            for action in build(s.params)
        ]
        _require(actions, "backend.switch step of gcp", step)
        return actions

    return planned


def _concurrent_update(params: BackendSwitchParams) -> list[Action]:
    ref = params.ref()
    args: dict[str, Arg] = {"project": ref.project, "name": ref.name, "region": ref.region}
    return [Action("compute", "concurrent_update", None, args)]


def _never_healthy(params: BackendSwitchParams) -> list[Action]:
    return [
        Action("compute", "never_healthy", None, {"group_url": target.target})
        for target in params.targets()
        if target.capacity > 0
    ]


def _stuck_operations(params: BackendSwitchParams) -> list[Action]:
    return [Action("compute", "stuck_operations")]


def _require(found: Iterable[object], what: str, step: ResolvedStep | None) -> None:
    if not list(found):
        where = f"step {step.id} is not a {what}" if step else f"the plan has no {what}"
        raise NotApplicable(f"nothing to inject: {where}")


CATALOGUE: dict[str, FaultKind] = {
    kind.name: kind
    for kind in (
        FaultKind(
            "api-5xx",
            "the Kubernetes API answers 503 to its next 4 requests",
            _on_clusters("fail_requests", count=4, status=503),
        ),
        FaultKind(
            "api-throttled",
            "the Kubernetes API answers 429 (Retry-After: 1) to its next 2 requests",
            _on_clusters("fail_requests", count=2, status=429),
        ),
        FaultKind(
            "restore-relist-500",
            "the next list of Velero restores (a wait's re-list) answers 500",
            _restores("fail_requests", count=1, status=500, path_contains="restores", method="GET"),
        ),
        FaultKind(
            "watch-reset",
            "the next 3 watches are cut mid-stream (connection reset)",
            _on_clusters("drop_new_watches", count=3, abrupt=True),
        ),
        FaultKind(
            "watch-expired",
            "the next 6 watches end with 410 Expired as an ERROR event (history compacted)",
            _on_clusters("expire_watches", count=6, in_stream=True),
        ),
        FaultKind(
            "watch-gone",
            "the next 6 watch requests are answered 410 Expired",
            _on_clusters("expire_watches", count=6, in_stream=False),
        ),
        FaultKind(
            "backup-location-unavailable",
            "Velero's default BackupStorageLocation turns Unavailable",
            _location_unavailable,
        ),
        FaultKind(
            "restore-partially-failed",
            "the next Velero restore ends PartiallyFailed (1 error)",
            _restores("fail_restore", phase="PartiallyFailed"),
        ),
        FaultKind(
            "restore-failed",
            "the next Velero restore ends Failed",
            _restores("fail_restore", phase="Failed"),
        ),
        FaultKind(
            "restore-stuck",
            "the next Velero restore stays InProgress for ever",
            _restores("hang_restore"),
        ),
        FaultKind(
            "pods-never-ready",
            "the workloads a kube.wait_ready step waits for run but never become ready",
            _never_ready,
        ),
        FaultKind(
            "job-fails",
            "the Jobs of kube.job steps (the smoke tests) fail: their pods exit 1",
            _failing_jobs,
        ),
        FaultKind(
            "smoke-target-500",
            "the application behind each smoke target (kube.job URLs, http.check hosts) "
            "answers 500",
            _smoke_targets_fail,
        ),
        FaultKind(
            "dns-change-stuck",
            "DNS changes stay pending for ever (Cloud DNS and Route53)",
            _dns("any", "stuck_changes"),
        ),
        FaultKind(
            "dns-conflict",
            "Cloud DNS answers 412 to the next change (the record changed underneath)",
            _dns(
                "gcp", "fail_requests", count=1, status=412, path_pattern="*/changes", method="POST"
            ),
        ),
        FaultKind(
            "backend-conflict",
            "someone else updates the backend service just before drill's patch (GCP)",
            _gcp_backends(_concurrent_update),
        ),
        FaultKind(
            "backend-operation-stuck",
            "Compute operations stay RUNNING for ever (GCP)",
            _gcp_backends(_stuck_operations),
        ),
        FaultKind(
            "backend-never-healthy",
            "the backends a backend.switch adds never pass their health checks (GCP)",
            _gcp_backends(_never_healthy),
        ),
    )
}


# --- asking for faults ------------------------------------------------------------------------


def parse_fault_flag(text: str) -> FaultSpec:
    """``NAME`` or ``NAME@STEP``, as ``--fault`` takes it; an unknown name is a usage error
    listing the known ones."""
    name, _, step = text.partition("@")
    known(name, f"--fault {text}")
    if "@" in text and not step:
        raise UsageError(f"--fault {text}: name the step after @ (NAME@STEP), or drop the @")
    return FaultSpec(name, step or None)


def known(name: str, where: str) -> FaultKind:
    kind = CATALOGUE.get(name)
    if kind is None:
        raise UsageError(
            f"{where}: no fault {name!r}; `drill sandbox faults` lists them: "
            + ", ".join(CATALOGUE)
        )
    return kind


def planned_actions(spec: FaultSpec, plan: ExecutionPlan) -> list[Action]:
    """What ``spec`` does to the sandbox of ``plan`` (in the plan's mode). Raises UsageError
    for an unknown fault or step, or a fault with nothing to act on."""
    kind = known(spec.name, f"fault {spec}")
    step = None
    if spec.at_step is not None:
        step = next((s for s in plan.steps() if s.id == spec.at_step), None)
        if step is None or step.params is None:
            runs = ", ".join(s.id for s in plan.steps() if s.params is not None)
            raise UsageError(
                f"fault {spec}: no step {spec.at_step!r} runs in {plan.mode} mode "
                f"(the steps that do: {runs})"
            )
    try:
        return kind.plan(plan, step)
    except NotApplicable as exc:
        raise UsageError(f"fault {spec}: {exc}") from None
