"""``kube.job``: a smoke-test Job in the cluster; its log tail goes in the report.

The step deletes its Job when it ends, but a crash can leave it behind, so the step is a
mutating one: its undo (and ``drill rollback``) deletes the Job named for this run and step,
if it is still there and carries this run's label.
"""

from __future__ import annotations

from pydantic import Field, JsonValue

from drill.errors import Conflict, StepFailed
from drill.fieldtypes import Duration, KubeName
from drill.steps._base import (
    ReadBack,
    Resource,
    StepEnv,
    StepParams,
    StepResult,
    StepType,
)
from drill.steps._changes import StillThere, read_back_gone, watch_until
from providers.protocols import JobSpec, JobStatus, KubeApi

_REPORTED_LOG_CHARS = 2000


class KubeJobParams(StepParams):
    namespace: KubeName
    image: str = Field(min_length=1)
    command: list[str] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    name_prefix: KubeName = "drill-smoke"
    log_tail_lines: int = Field(default=50, ge=0, le=1000)
    active_deadline: Duration = 600.0


class KubeJob(StepType[KubeJobParams]):
    name = "kube.job"
    params_model = KubeJobParams
    summary = "runs a Job to completion, keeps the tail of its logs, always deletes it"
    mutating = True
    needs_context = True
    default_timeout_s = 600.0

    def writes(self, params: KubeJobParams, cluster: str) -> frozenset[Resource]:
        # A Job of its own, but inside a namespace: a drill must not add one to production's.
        return frozenset({Resource("namespace", cluster, params.namespace)})

    def verifies(self, params: KubeJobParams, cluster: str) -> frozenset[Resource]:
        # A Job that passes ran in the namespace: what was restored there answers it.
        return frozenset({Resource("namespace", cluster, params.namespace)})

    def describe(self, params: KubeJobParams) -> str:
        return f"run {params.image} {' '.join(params.command)} as a Job in {params.namespace}"

    def capture_prior_state(self, params: KubeJobParams, env: StepEnv) -> JsonValue:
        name = env.object_name(params.name_prefix)
        labels = env.providers.kube(env.cluster()).job_labels(params.namespace, name)
        return {"job": name, "existed": labels is not None}

    def run(self, params: KubeJobParams, env: StepEnv) -> StepResult:
        kube = env.providers.kube(env.cluster())
        spec = JobSpec(
            namespace=params.namespace,
            name=env.object_name(params.name_prefix),
            image=params.image,
            command=params.command,
            env=params.env,
            labels=env.run_labels(),
            active_deadline_s=int(params.active_deadline),
        )
        try:
            kube.create_job(spec)
        except Conflict:
            # The name is this run's and this step's own: a retry adopts the Job the first
            # try started instead of running the smoke test twice.
            env.log.info("job_adopted", job=spec.name)
        try:
            final = _wait(kube, spec, env)
            logs = _tail(kube, spec, params.log_tail_lines)
        finally:
            kube.delete_job(spec.namespace, spec.name)
        if final.state == "failed":
            raise StepFailed(f"job {spec.name} failed: {final.message or 'see its log'}\n{logs}")
        return StepResult(
            summary=f"job {spec.name} succeeded",
            facts={"job": spec.name, "log_tail": logs},
        )

    def undo(self, params: KubeJobParams, prior: JsonValue, env: StepEnv) -> str:
        name = _job_name(params, prior, env)
        where = f"job {params.namespace}/{name}"
        kube = env.providers.kube(env.cluster())
        labels = kube.job_labels(params.namespace, name)
        if labels is None:
            return f"{where} already gone"
        if not env.created_by_this_run(labels):
            return f"{where} left alone: not started by this run"
        kube.delete_job(params.namespace, name)
        return f"deleted {where}"

    def verify_undone(
        self, params: KubeJobParams, prior: JsonValue, env: StepEnv
    ) -> list[ReadBack]:
        """The run's Job is gone. (Its name is this run's and step's own: one there before the
        run, or another's since, would be no Job of this run and is left out.)"""
        name = _job_name(params, prior, env)
        kube = env.providers.kube(env.cluster())

        def still_there() -> StillThere | None:
            labels = kube.job_labels(params.namespace, name)
            if labels is None or not env.created_by_this_run(labels):
                return None
            # Deleted with background propagation, a Job goes at once (its pods later).
            return StillThere(f"job {name} still there", going=False)

        return [read_back_gone(f"job {params.namespace}/{name}", still_there, env)]

    def undo_target(self, params: KubeJobParams) -> str:
        return f"smoke-test job in {params.namespace}"


def _job_name(params: KubeJobParams, prior: JsonValue, env: StepEnv) -> str:
    noted = prior.get("job") if isinstance(prior, dict) else None
    return noted if isinstance(noted, str) else env.object_name(params.name_prefix)


def _wait(kube: KubeApi, spec: JobSpec, env: StepEnv) -> JobStatus:
    return watch_until(
        lambda window_s: kube.watch_job(spec.namespace, spec.name, window_s),
        lambda status: status.state != "running",
        f"job {spec.name}",
        lambda _: f"job {spec.name} still running",
        env,
        progress=lambda status: ": ".join(filter(None, (f"job {status.state}", status.message))),
    )


def _tail(kube: KubeApi, spec: JobSpec, lines: int) -> str:
    if lines == 0:
        return ""
    return kube.job_logs(spec.namespace, spec.name, lines)[-_REPORTED_LOG_CHARS:]
