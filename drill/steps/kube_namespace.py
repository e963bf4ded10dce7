"""``kube.namespace``: create or delete a namespace owned by this run."""

from __future__ import annotations

from typing import Literal

from drill.fieldtypes import KubeName
from drill.steps._base import PlannedStepType, StepParams


class KubeNamespaceParams(StepParams):
    action: Literal["create", "delete"]
    name: KubeName


class KubeNamespace(PlannedStepType[KubeNamespaceParams]):
    name = "kube.namespace"
    params_model = KubeNamespaceParams
    summary = "creates a namespace labelled with the run id, or deletes one this run created"
    mutating = True
    needs_context = True
    default_timeout_s = 300.0

    def describe(self, params: KubeNamespaceParams) -> str:
        return f"{params.action} namespace {params.name} (owned by this run)"
