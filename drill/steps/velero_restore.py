"""``velero.restore``: a Velero Restore with namespace mappings, waited to a terminal phase."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from drill.fieldtypes import Duration, KubeName, exactly_one
from drill.steps._base import PlannedStepType, StepParams


class VeleroRestoreParams(StepParams):
    backup: str | None = None
    schedule: str | None = None
    velero_namespace: KubeName = "velero"
    include_namespaces: list[KubeName] = Field(default_factory=list)
    exclude_namespaces: list[KubeName] = Field(default_factory=list)
    namespace_mapping: dict[KubeName, KubeName] = Field(default_factory=dict)
    include_resources: list[str] = Field(default_factory=list)
    exclude_resources: list[str] = Field(default_factory=list)
    label_selector: str | None = None
    restore_pvs: bool = True
    # Cluster-scoped objects survive deleting the mapped namespace, so drills leave them out.
    include_cluster_resources: bool = False
    existing_resource_policy: Literal["none", "update"] = "none"
    allow_partially_failed: bool = False
    item_operation_timeout: Duration | None = None

    @model_validator(mode="after")
    def _one_source(self) -> VeleroRestoreParams:
        exactly_one(self, "backup", "schedule")
        return self


class VeleroRestore(PlannedStepType[VeleroRestoreParams]):
    name = "velero.restore"
    params_model = VeleroRestoreParams
    summary = "creates a Velero Restore with namespace mappings and waits for it to finish"
    mutating = True
    needs_context = True
    default_timeout_s = 1800.0

    def describe(self, params: VeleroRestoreParams) -> str:
        source = f"backup {params.backup}" if params.backup else f"latest of {params.schedule}"
        mapping = ", ".join(f"{src} -> {dst}" for src, dst in params.namespace_mapping.items())
        return f"restore {source}" + (f" mapping {mapping}" if mapping else "")
