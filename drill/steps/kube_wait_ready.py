"""``kube.wait_ready``: every workload matching a selector is rolled out and ready.

Rolled out as `kubectl rollout status` judges it: the controller has acted on the latest spec,
every replica runs the current template (a StatefulSet's from its partition up), and a
Deployment has no replica of an older template left and its updated replicas available. Ready
replicas alone are not enough: mid-rollout, old pods keep the count up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from drill.errors import StepFailed
from drill.fieldtypes import KubeName, KubeObjectName, WholeNumber, label_selector_object
from drill.steps._base import Resource, StepEnv, StepParams, StepResult, StepType
from drill.steps._changes import watch_until

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import WorkloadStatus

WorkloadKind = Literal["Deployment", "StatefulSet"]


def _all_kinds() -> list[WorkloadKind]:
    return ["Deployment", "StatefulSet"]


class KubeWaitReadyParams(StepParams):
    namespace: KubeName = Field(
        description="The namespace whose workloads to wait for.", examples=["dr-test"]
    )
    selector: str = Field(
        default="",
        description="A label selector for the workloads to wait for (empty: every workload "
        "of the kinds in the namespace).",
        examples=["app=api-server"],
    )
    kinds: list[WorkloadKind] = Field(
        default_factory=_all_kinds,
        min_length=1,
        description="The kinds of workload waited for.",
        examples=[["Deployment"]],
    )
    min_workloads: WholeNumber = Field(
        default=1,
        ge=0,
        description="Fail unless at least this many workloads match.",
        examples=[2],
    )
    # The workloads this wait vouches for: each must be among those the selector matches, and
    # ready. What `drill validate` counts as checked by this wait (see README, "Verify covers
    # what was changed"): a selector alone names no workload, since a plan cannot know labels.
    workloads: list[KubeObjectName] = Field(
        default_factory=list,
        description="Workloads, by name, that must be among those matched and ready: what "
        "`drill validate` counts as checked by this wait (a selector alone names none).",
        examples=[["api-server"]],
    )

    @field_validator("selector")
    @classmethod
    def _a_label_selector(cls, value: str) -> str:
        """Empty (every workload), or a selector the API server can parse."""
        if value.strip():
            label_selector_object(value)
        return value


class KubeWaitReady(StepType[KubeWaitReadyParams]):
    name = "kube.wait_ready"
    params_model = KubeWaitReadyParams
    summary = "waits until every matching Deployment/StatefulSet is rolled out and ready"
    needs_context = True
    default_timeout_s = 600.0

    def describe(self, params: KubeWaitReadyParams) -> str:
        selector = f" matching {params.selector}" if params.selector else ""
        named = f" (among them {', '.join(params.workloads)})" if params.workloads else ""
        return f"wait until workloads{selector} in {params.namespace} are ready{named}"

    def verifies(self, params: KubeWaitReadyParams, cluster: str) -> frozenset[Resource]:
        """The namespace it waits in; the workloads it names; with no selector, every workload
        of its kinds there."""
        names = params.workloads if params.selector else [*params.workloads, "*"]
        found = {
            Resource("workload", cluster, f"{kind} {name}", params.namespace)
            for kind in params.kinds
            for name in names
        }
        return frozenset({Resource("namespace", cluster, params.namespace), *found})

    def run(self, params: KubeWaitReadyParams, env: StepEnv) -> StepResult:
        kube = env.providers.kube(env.cluster())

        def watch(window_s: float) -> Iterator[list[WorkloadStatus]]:
            for listed in kube.watch_workloads(params.namespace, params.selector, window_s):
                yield [w for w in listed if w.kind in params.kinds]

        latest = watch_until(
            watch,
            lambda workloads: _all_ready(workloads, params),
            "workloads to become ready",
            lambda last: _not_ready_message(last or [], params),
            env,
            progress=_readiness,
        )
        return _ready(latest)


def _all_ready(workloads: list[WorkloadStatus], params: KubeWaitReadyParams) -> bool:
    return (
        len(workloads) >= params.min_workloads
        and not _missing(workloads, params)
        and all(w.rolled_out for w in workloads)
    )


def _missing(workloads: list[WorkloadStatus], params: KubeWaitReadyParams) -> list[str]:
    """Named workloads the selector does not (yet) match in the namespace."""
    found = {w.name for w in workloads}
    return [name for name in params.workloads if name not in found]


def _readiness(workloads: list[WorkloadStatus]) -> str:
    """Ready/desired replicas of each workload, as a rollout goes on."""
    counts = ", ".join(f"{w.name} {w.ready}/{w.desired}" for w in workloads)
    return f"ready: {counts}" if counts else "no workload matched yet"


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
    missing = _missing(workloads, params)
    if missing:
        selector = f" matching {params.selector}" if params.selector else ""
        found = ", ".join(sorted(w.name for w in workloads)) or "none"
        return (
            f"{', '.join(missing)} (named in workloads) not among the workloads{selector} in "
            f"{params.namespace} (found: {found}): it is missing, or its labels do not match"
        )
    pending = [w for w in workloads if not w.rolled_out]
    details = "; ".join(
        f"{w.kind} {w.name} {w.ready}/{w.desired} ready"
        # While replicas are missing, the count says so; once all are ready, what is left.
        + (f", {w.rollout_pending}" if w.ready >= w.desired and w.rollout_pending else "")
        + (", paused (spec.paused): nothing rolls out until it is resumed" if w.paused else "")
        + (f" ({', '.join(w.conditions)})" if w.conditions else "")
        for w in pending
    )
    return f"not ready: {details}"
