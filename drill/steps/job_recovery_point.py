"""``job.recovery_point``: a Job in the recovered cluster prints the newest time its data holds.

The plan gives the image and command, e.g. ``psql -Atc "select max(written_at) from
heartbeat"`` against the restored database; the last line the Job prints must be an ISO 8601
time with a time zone (psql's ``2026-01-02 03:04:05.123+00`` is one). That time is the
recovery point from data. A Job that fails, or whose last line is no such time, fails the step
and says what it printed.

The Job is this run's own, as ``kube.job``'s: labelled with the run id, deleted when it ends,
and deleted by undo if a crash left it behind. So the step is a mutating one, and a drill must
run it in a namespace of its own (the restored copy), never in production's.
"""

from __future__ import annotations

from pydantic import Field, JsonValue

from drill.errors import StepFailed
from drill.fieldtypes import KubeName
from drill.steps._base import ReadBack, Resource, StepEnv, StepResult, StepType
from drill.steps._jobs import (
    JobDeadline,
    JobParams,
    job_prior_state,
    job_writes,
    run_job,
    undo_job,
    verify_job_undone,
)
from drill.steps._recovery import age_facts, data_point, parse_moment

# Enough lines to find the last one that is not blank.
_TAIL_LINES = 20


class JobRecoveryPointParams(JobParams):
    name_prefix: KubeName = Field(
        default="drill-recovery-point",
        description="The start of the Job's name; drill adds the run and step to it.",
        examples=["recovery-point"],
    )
    active_deadline: JobDeadline = Field(
        default=300.0,
        description="The Job's activeDeadlineSeconds: Kubernetes stops it after this long.",
        examples=["5m"],
    )


class JobRecoveryPoint(StepType[JobRecoveryPointParams]):
    name = "job.recovery_point"
    params_model = JobRecoveryPointParams
    summary = (
        "runs a Job that prints the newest time in the recovered data (ISO 8601, last log "
        "line); sets the recovery point from data; always deletes it"
    )
    mutating = True
    needs_context = True
    default_timeout_s = 300.0
    recovery_point_kind = "data"

    def writes(self, params: JobRecoveryPointParams, cluster: str) -> frozenset[Resource]:
        return job_writes(params, cluster)

    def describe(self, params: JobRecoveryPointParams) -> str:
        return (
            f"run {params.image} {' '.join(params.command)} as a Job in {params.namespace}; "
            "its last log line is the recovery point"
        )

    def capture_prior_state(self, params: JobRecoveryPointParams, env: StepEnv) -> JsonValue:
        return job_prior_state(params, env)

    def run(self, params: JobRecoveryPointParams, env: StepEnv) -> StepResult:
        spec, _, logs = run_job(params, env, _TAIL_LINES)
        where = f"the last log line of job {spec.name}"
        lines = [line for line in logs.splitlines() if line.strip()]
        if not lines:
            raise StepFailed(f"job {spec.name} printed nothing: expected an ISO 8601 time")
        at = parse_moment(lines[-1], where)
        point = data_point(at, f"job {params.namespace}/{params.name_prefix} ({params.image})", env)
        return StepResult(
            summary=f"job {spec.name} printed {at.isoformat()}",
            facts={**age_facts(at, env), "job": spec.name},
            recovery_point=point,
        )

    def undo(self, params: JobRecoveryPointParams, prior: JsonValue, env: StepEnv) -> str:
        return undo_job(params, prior, env)

    def verify_undone(
        self, params: JobRecoveryPointParams, prior: JsonValue, env: StepEnv
    ) -> list[ReadBack]:
        return verify_job_undone(params, prior, env)

    def undo_target(self, params: JobRecoveryPointParams) -> str:
        return f"recovery-point job in {params.namespace}"
