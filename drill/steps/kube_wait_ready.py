"""``kube.wait_ready``: every workload matching a selector is rolled out and ready."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drill.fieldtypes import KubeName
from drill.steps._base import PlannedStepType, StepParams

WorkloadKind = Literal["Deployment", "StatefulSet"]


def _all_kinds() -> list[WorkloadKind]:
    return ["Deployment", "StatefulSet"]


class KubeWaitReadyParams(StepParams):
    namespace: KubeName
    selector: str = ""
    kinds: list[WorkloadKind] = Field(default_factory=_all_kinds, min_length=1)
    min_workloads: int = Field(default=1, ge=0)


class KubeWaitReady(PlannedStepType[KubeWaitReadyParams]):
    name = "kube.wait_ready"
    params_model = KubeWaitReadyParams
    summary = "waits until every matching Deployment/StatefulSet is rolled out and ready"
    needs_context = True
    default_timeout_s = 600.0

    def describe(self, params: KubeWaitReadyParams) -> str:
        selector = f" matching {params.selector}" if params.selector else ""
        return f"wait until workloads{selector} in {params.namespace} are ready"
