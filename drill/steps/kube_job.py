"""``kube.job``: a smoke-test Job in the cluster; its log tail goes in the report.

The step deletes its Job when it ends, but a crash can leave it behind, so the step is a
mutating one: its undo (and ``drill rollback``) deletes the Job named for this run and step,
if it is still there and carries this run's label.
"""

from __future__ import annotations

from pydantic import Field, JsonValue

from drill.fieldtypes import KubeName, WholeNumber
from drill.steps._base import ReadBack, Resource, StepEnv, StepResult, StepType
from drill.steps._jobs import (
    JobParams,
    job_prior_state,
    job_writes,
    run_job,
    undo_job,
    verify_job_undone,
)


class KubeJobParams(JobParams):
    name_prefix: KubeName = Field(
        default="drill-smoke",
        description="The start of the Job's name; drill adds the run and step to it.",
        examples=["smoke"],
    )
    log_tail_lines: WholeNumber = Field(
        default=50,
        ge=0,
        le=1000,
        description="How many last lines of the Job's log the report keeps (0: none).",
        examples=[100],
    )


class KubeJob(StepType[KubeJobParams]):
    name = "kube.job"
    params_model = KubeJobParams
    summary = "runs a Job to completion, keeps the tail of its logs, always deletes it"
    mutating = True
    needs_context = True
    default_timeout_s = 600.0

    def writes(self, params: KubeJobParams, cluster: str) -> frozenset[Resource]:
        return job_writes(params, cluster)

    def verifies(self, params: KubeJobParams, cluster: str) -> frozenset[Resource]:
        # A Job that passes ran in the namespace: what was restored there answers it.
        return frozenset({Resource("namespace", cluster, params.namespace)})

    def describe(self, params: KubeJobParams) -> str:
        return f"run {params.image} {' '.join(params.command)} as a Job in {params.namespace}"

    def capture_prior_state(self, params: KubeJobParams, env: StepEnv) -> JsonValue:
        return job_prior_state(params, env)

    def run(self, params: KubeJobParams, env: StepEnv) -> StepResult:
        spec, _, logs = run_job(params, env, params.log_tail_lines)
        return StepResult(
            summary=f"job {spec.name} succeeded",
            facts={"job": spec.name, "log_tail": logs},
        )

    def undo(self, params: KubeJobParams, prior: JsonValue, env: StepEnv) -> str:
        return undo_job(params, prior, env)

    def verify_undone(
        self, params: KubeJobParams, prior: JsonValue, env: StepEnv
    ) -> list[ReadBack]:
        return verify_job_undone(params, prior, env)

    def undo_target(self, params: KubeJobParams) -> str:
        return f"smoke-test job in {params.namespace}"
