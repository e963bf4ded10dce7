"""``kube.scale``: set a Deployment's or StatefulSet's replicas through the scale subresource.

A workload a HorizontalPodAutoscaler targets keeps a count only within the autoscaler's
bounds: a count outside them is refused before anything changes (the autoscaler would put it
back within seconds, and the step would have reported a count the workload does not keep).
Scaling to 0, which disables autoscaling, goes ahead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, JsonValue

from drill.errors import Conflict, NotFound, StepFailed
from drill.fieldtypes import KubeName, KubeObjectName, WholeNumber
from drill.steps._base import (
    ReadBack,
    Resource,
    StepEnv,
    StepParams,
    StepResult,
    StepType,
    Unverified,
)

if TYPE_CHECKING:
    # Annotations only: checking a plan builds none of the providers' result types.
    from providers.protocols import AutoscalerInfo


class KubeScaleParams(StepParams):
    kind: Literal["Deployment", "StatefulSet"] = Field(
        default="Deployment", description="The kind of workload.", examples=["StatefulSet"]
    )
    namespace: KubeName = Field(description="The workload's namespace.", examples=["dr-test"])
    name: KubeObjectName = Field(description="The workload's name.", examples=["api-server"])
    replicas: WholeNumber = Field(
        ge=0,
        le=2**31 - 1,  # Kubernetes holds replica counts as int32, and refuses more
        description="The replica count to set. Undo puts back the count drill read before; "
        "name the workload in a later kube.wait_ready to check it comes up.",
        examples=[3],
    )

    def target(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class KubeScale(StepType[KubeScaleParams]):
    name = "kube.scale"
    params_model = KubeScaleParams
    summary = "scales a Deployment or StatefulSet; undo puts the previous replica count back"
    mutating = True
    needs_context = True
    default_timeout_s = 60.0

    def writes(self, params: KubeScaleParams, cluster: str) -> frozenset[Resource]:
        workload = Resource("workload", cluster, f"{params.kind} {params.name}", params.namespace)
        return frozenset({workload})

    def to_verify(self, params: KubeScaleParams, cluster: str) -> tuple[Unverified, ...]:
        remedy = (
            f"name it in a later kube.wait_ready in namespace {params.namespace} "
            f"(`workloads: [{params.name}]`), or wait on that whole namespace with no selector"
        )
        return (Unverified(next(iter(self.writes(params, cluster))), "scales", remedy),)

    def describe(self, params: KubeScaleParams) -> str:
        return f"scale {params.target()} to {params.replicas}"

    def capture_prior_state(self, params: KubeScaleParams, env: StepEnv) -> JsonValue:
        kube = env.providers.kube(env.cluster())
        return {"replicas": kube.get_replicas(params.kind, params.namespace, params.name)}

    def run(self, params: KubeScaleParams, env: StepEnv) -> StepResult:
        kube = env.providers.kube(env.cluster())
        before = kube.get_replicas(params.kind, params.namespace, params.name)
        journaled = env.prior.get("replicas") if isinstance(env.prior, dict) else None
        if isinstance(journaled, int) and before not in (journaled, params.replicas):
            # Scaled by someone between drill's read and its change: theirs stands.
            raise Conflict(
                f"{params.target()} has {before} replicas, not the {journaled} drill read: "
                "someone scaled it since; nothing changed"
            )
        autoscalers = kube.autoscalers_of(params.kind, params.namespace, params.name)
        _within_bounds(params, autoscalers)
        kube.set_replicas(params.kind, params.namespace, params.name, params.replicas)
        summary = f"{params.target()} scaled {before} -> {params.replicas}"
        if autoscalers and params.replicas:
            # Within its bounds an autoscaler may still move it, by its metrics (at 0 it
            # stands aside).
            summary += "; " + ", ".join(_bounds(a) for a in autoscalers) + " may move it"
        return StepResult(summary=summary, facts={"from": before, "to": params.replicas})

    def undo(self, params: KubeScaleParams, prior: JsonValue, env: StepEnv) -> str:
        replicas = _prior_replicas(prior)
        kube = env.providers.kube(env.cluster())
        now = kube.get_replicas(params.kind, params.namespace, params.name)
        if now == replicas:
            return f"{params.target()} already at {replicas} replicas"
        if now != params.replicas:
            # Someone scaled it after drill did: their count wins; a human decides.
            raise StepFailed(
                f"{params.target()} now has {now} replicas, not the {params.replicas} drill set: "
                "someone scaled it since; left as is"
            )
        kube.set_replicas(params.kind, params.namespace, params.name, replicas)
        return f"{params.target()} back to {replicas} replicas"

    def verify_undone(
        self, params: KubeScaleParams, prior: JsonValue, env: StepEnv
    ) -> list[ReadBack]:
        replicas = _prior_replicas(prior)
        kube = env.providers.kube(env.cluster())
        try:
            now = kube.get_replicas(params.kind, params.namespace, params.name)
        except NotFound:
            gone = f"{params.kind} {params.name} gone"
            return [ReadBack.compared(params.target(), False, gone, f"{replicas} replicas")]
        return [
            ReadBack.compared(
                params.target(), now == replicas, f"{now} replicas", f"{replicas} replicas"
            )
        ]

    def undo_target(self, params: KubeScaleParams) -> str:
        return params.target()


def _within_bounds(params: KubeScaleParams, autoscalers: list[AutoscalerInfo]) -> None:
    """Refuse a count an autoscaler would put back within seconds: the step would say it
    scaled to a count the workload does not keep, and its undo would find another one."""
    for autoscaler in autoscalers:
        least, most = autoscaler.min_replicas, autoscaler.max_replicas
        # At 0 an autoscaler stands aside (scaling is disabled), as Kubernetes does.
        if params.replicas and not least <= params.replicas <= most:
            raise StepFailed(
                f"{params.target()} is scaled by {_bounds(autoscaler)}: it would move "
                f"{params.replicas} replicas back within those bounds; scale it to a count "
                "within them, or change the autoscaler's bounds first; nothing changed"
            )


def _bounds(autoscaler: AutoscalerInfo) -> str:
    return (
        f"HorizontalPodAutoscaler {autoscaler.name} "
        f"(min {autoscaler.min_replicas}, max {autoscaler.max_replicas})"
    )


def _prior_replicas(prior: JsonValue) -> int:
    replicas = prior.get("replicas") if isinstance(prior, dict) else None
    if not isinstance(replicas, int):
        raise StepFailed("journal holds no previous replica count for this scale")
    return replicas
