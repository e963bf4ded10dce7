"""``kube.scale``: set a Deployment's or StatefulSet's replicas through the scale subresource."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drill.fieldtypes import KubeName
from drill.steps._base import PlannedStepType, StepParams


class KubeScaleParams(StepParams):
    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    namespace: KubeName
    name: str = Field(min_length=1)
    replicas: int = Field(ge=0)


class KubeScale(PlannedStepType[KubeScaleParams]):
    name = "kube.scale"
    params_model = KubeScaleParams
    summary = "scales a Deployment or StatefulSet; undo puts the previous replica count back"
    mutating = True
    needs_context = True
    default_timeout_s = 60.0

    def describe(self, params: KubeScaleParams) -> str:
        return f"scale {params.kind} {params.namespace}/{params.name} to {params.replicas}"
