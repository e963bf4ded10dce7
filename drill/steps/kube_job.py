"""``kube.job``: a smoke-test Job in the cluster; its log tail goes in the report."""

from __future__ import annotations

from pydantic import Field

from drill.fieldtypes import Duration, KubeName
from drill.steps._base import PlannedStepType, StepParams


class KubeJobParams(StepParams):
    namespace: KubeName
    image: str = Field(min_length=1)
    command: list[str] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    name_prefix: KubeName = "drill-smoke"
    log_tail_lines: int = Field(default=50, ge=0, le=1000)
    active_deadline: Duration = 600.0


class KubeJob(PlannedStepType[KubeJobParams]):
    name = "kube.job"
    params_model = KubeJobParams
    summary = "runs a Job to completion, keeps the tail of its logs, always deletes it"
    needs_context = True
    default_timeout_s = 600.0

    def describe(self, params: KubeJobParams) -> str:
        return f"run {params.image} {' '.join(params.command)} as a Job in {params.namespace}"
