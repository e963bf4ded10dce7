"""``kube.wait_ready``: every workload matching a selector is rolled out and ready."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from drill.errors import StepFailed
from drill.fieldtypes import KubeName
from drill.steps._base import StepEnv, StepParams, StepResult, StepType
from drill.steps._changes import watch_until
from providers.protocols import WorkloadStatus

WorkloadKind = Literal["Deployment", "StatefulSet"]


def _all_kinds() -> list[WorkloadKind]:
    return ["Deployment", "StatefulSet"]


class KubeWaitReadyParams(StepParams):
    namespace: KubeName
    selector: str = ""
    kinds: list[WorkloadKind] = Field(default_factory=_all_kinds, min_length=1)
    min_workloads: int = Field(default=1, ge=0)


class KubeWaitReady(StepType[KubeWaitReadyParams]):
    name = "kube.wait_ready"
    params_model = KubeWaitReadyParams
    summary = "waits until every matching Deployment/StatefulSet is rolled out and ready"
    needs_context = True
    default_timeout_s = 600.0

    def describe(self, params: KubeWaitReadyParams) -> str:
        selector = f" matching {params.selector}" if params.selector else ""
        return f"wait until workloads{selector} in {params.namespace} are ready"

    def run(self, params: KubeWaitReadyParams, env: StepEnv) -> StepResult:
        kube = env.providers.kube(env.cluster())

        def watch(window_s: float) -> Iterator[list[WorkloadStatus]]:
            for listed in kube.watch_workloads(params.namespace, params.selector, window_s):
                yield [w for w in listed if w.kind in params.kinds]

        latest = watch_until(
            watch,
            lambda workloads: _all_ready(workloads, params.min_workloads),
            "workloads to become ready",
            lambda last: _not_ready_message(last or [], params),
            env,
        )
        return _ready(latest)


def _all_ready(workloads: list[WorkloadStatus], minimum: int) -> bool:
    return len(workloads) >= minimum and all(w.rolled_out for w in workloads)


def _ready(workloads: list[WorkloadStatus]) -> StepResult:
    names = ", ".join(f"{w.name} {w.ready}/{w.desired}" for w in workloads)
    return StepResult(
        summary=f"{len(workloads)} workload(s) ready: {names}"
        if workloads
        else "nothing to wait for",
        facts={"workloads": len(workloads), "ready_replicas": sum(w.ready for w in workloads)},
    )


def _not_ready_message(workloads: list[WorkloadStatus], params: KubeWaitReadyParams) -> str:
    if len(workloads) < params.min_workloads:
        selector = params.selector or "(all)"
        raise StepFailed(
            f"found {len(workloads)} workload(s) matching {selector} in {params.namespace}, "
            f"expected at least {params.min_workloads}"
        )
    pending = [w for w in workloads if not w.rolled_out]
    details = "; ".join(
        f"{w.kind} {w.name} {w.ready}/{w.desired} ready"
        + (f" ({', '.join(w.conditions)})" if w.conditions else "")
        for w in pending
    )
    return f"not ready: {details}"
