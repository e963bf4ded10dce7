"""What the Job step types share: one run-owned Job, run to completion, its log tail, its undo.

A Job's name is the run's and the step's own (``StepEnv.object_name``), so a retry adopts the
Job a first try started instead of running it twice, and undo (or ``drill rollback`` after a
crash) deletes it only if it is still there and carries this run's label.

A step-support module: step types import it; it never imports a step type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, JsonValue

from drill.errors import Conflict, StepFailed
from drill.fieldtypes import Duration, EnvVarName, ImageReference, KubeName
from drill.steps._base import ReadBack, Resource, StepEnv, StepParams
from drill.steps._changes import StillThere, read_back_gone, watch_until

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import JobSpec, JobStatus, KubeApi

REPORTED_LOG_CHARS = 2000


def _a_job_deadline(seconds: float) -> float:
    if seconds < 1:
        raise ValueError(
            "must be at least 1s: Kubernetes takes a Job's activeDeadlineSeconds in whole "
            "seconds, from 1"
        )
    return seconds


# A Job's activeDeadlineSeconds, written as a duration: whole seconds are sent, at least one.
JobDeadline = Annotated[Duration, AfterValidator(_a_job_deadline)]


class JobParams(StepParams):
    namespace: KubeName = Field(description="The namespace the Job runs in.", examples=["dr-test"])
    image: ImageReference = Field(
        description="The container image to run, as the kubelet pulls it "
        "([registry[:port]/]name[:tag][@digest]).",
        examples=["curlimages/curl:8.10.1"],
    )
    command: list[str] = Field(
        min_length=1,
        description="The command and its arguments; the step passes when it exits 0.",
        examples=[["curl", "-fsS", "http://api-server.dr-test.svc/healthz"]],
    )
    env: dict[EnvVarName, str] = Field(
        default_factory=dict,
        description="Environment variables of the container. Names as Kubernetes takes them "
        "(1.32 and later): printable ASCII characters other than '='.",
        examples=[{"TARGET": "dr-test"}],
    )
    name_prefix: KubeName = Field(
        description="The start of the Job's name; drill adds the run and step to it.",
        examples=["smoke"],
    )
    active_deadline: JobDeadline = Field(
        default=600.0,
        description="The Job's activeDeadlineSeconds: Kubernetes stops it after this long.",
        examples=["5m"],
    )


def job_writes(params: JobParams, cluster: str) -> frozenset[Resource]:
    # A Job of its own, but inside a namespace: a drill must not add one to production's.
    return frozenset({Resource("namespace", cluster, params.namespace)})


def job_prior_state(params: JobParams, env: StepEnv) -> JsonValue:
    name = env.object_name(params.name_prefix)
    labels = env.providers.kube(env.cluster()).job_labels(params.namespace, name)
    return {"job": name, "existed": labels is not None}


def run_job(params: JobParams, env: StepEnv, tail_lines: int) -> tuple[JobSpec, JobStatus, str]:
    """Start the Job (or adopt this step's own), wait until it ends, read the tail of its log,
    then delete it whatever happened: (its spec, how it ended, the log tail)."""
    from providers.protocols import JobSpec

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
        env.log.info("job_adopted", job=spec.name)
    seen: list[JobStatus] = []
    try:
        final = _wait(kube, spec, env, seen)
        logs = _tail(kube, spec, tail_lines)
    finally:
        kube.delete_job(spec.namespace, spec.name)
    if final.state == "failed":
        # A Job that runs out its deadline has its pods deleted: say what they last waited on.
        said = final.message or "see its log"
        raise StepFailed(f"job {spec.name} failed: {said}{_waited_on(seen)}\n{logs}")
    return spec, final, logs


def undo_job(params: JobParams, prior: JsonValue, env: StepEnv) -> str:
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


def verify_job_undone(params: JobParams, prior: JsonValue, env: StepEnv) -> list[ReadBack]:
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


def _job_name(params: JobParams, prior: JsonValue, env: StepEnv) -> str:
    noted = prior.get("job") if isinstance(prior, dict) else None
    return noted if isinstance(noted, str) else env.object_name(params.name_prefix)


def _wait(kube: KubeApi, spec: JobSpec, env: StepEnv, seen: list[JobStatus]) -> JobStatus:
    """Until the Job ends; ``seen`` keeps the last status it had while running."""

    def progress(status: JobStatus) -> str:
        seen[:] = [status]
        return ": ".join(filter(None, (f"job {status.state}", status.message))) + _waited_on(seen)

    return watch_until(
        lambda window_s: kube.watch_job(spec.namespace, spec.name, window_s),
        lambda status: status.state != "running",
        f"job {spec.name}",
        lambda _: f"job {spec.name} still running{_waited_on(seen)}",
        env,
        progress=progress,
    )


def _waited_on(seen: list[JobStatus]) -> str:
    """What the Job's pods waited on when last seen running (empty: nothing was said)."""
    latest = seen[-1].waiting if seen else ()
    return f" (its pods waited on: {'; '.join(latest)})" if latest else ""


def _tail(kube: KubeApi, spec: JobSpec, lines: int) -> str:
    if lines == 0:
        return ""
    return kube.job_logs(spec.namespace, spec.name, lines)[-REPORTED_LOG_CHARS:]
