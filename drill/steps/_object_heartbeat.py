"""What the object-store heartbeat probes (GCS, S3) share: the newest heartbeat under a prefix.

A writer puts a small object under the prefix every ``interval``, named so that names sort by
time (``heartbeats/20260102T030405Z``) and holding the ISO 8601 time it was written. In a
restored or replicated bucket the newest heartbeat that existed at t0 is the recovery point
from data: its *content* is read, never its creation time, because a copy, a restore or a
replication gives an object a creation time of its own.

Heartbeats later than t0 are the bucket's history after the disaster: a replica keeps receiving
them while a drill runs, so they are skipped and counted (``later_heartbeats: ignore``). A
bucket restored to t0 should hold none; ``later_heartbeats: fail`` makes one an error.

Only the first ``MAX_HEARTBEAT_BYTES`` of each object are read, newest name first, at most
``max_reads`` objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from drill.durations import format_duration, format_moment
from drill.errors import StepFailed
from drill.fieldtypes import PositiveDuration, WholeNumber
from drill.steps._base import StepEnv, StepParams, StepResult
from drill.steps._recovery import age_facts, data_point, parse_moment

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import ObjectStore

MAX_HEARTBEAT_BYTES = 1024


class ObjectHeartbeatParams(StepParams):
    bucket: str = Field(
        min_length=3,
        max_length=222,
        description="The restored or replicated bucket the heartbeat objects are in.",
        examples=["uploads-replica"],
    )
    prefix: str = Field(
        default="",
        pattern=r"^[^{}]*$",
        description="Where under the bucket the heartbeat objects are; their names must sort "
        "by time (e.g. an ISO 8601 time in the name).",
        examples=["heartbeats/"],
    )
    # How often the writer puts one: the data may be up to this much newer than the heartbeat.
    interval: PositiveDuration = Field(
        default=30.0,
        description="How often the writer puts a heartbeat: the data may be up to this much "
        "newer than the newest one.",
        examples=["1m"],
    )
    later_heartbeats: Literal["ignore", "fail"] = Field(
        default="ignore",
        description="What to do with heartbeats written after t0 (a point-in-time drill): "
        "pass over them, or fail the step.",
        examples=["fail"],
    )
    max_reads: WholeNumber = Field(
        default=50,
        ge=1,
        le=1000,
        description="At most this many objects are read, newest first, to find a heartbeat.",
        examples=[20],
    )


def describe_object_heartbeat(scheme: str, params: ObjectHeartbeatParams) -> str:
    return (
        f"read the newest heartbeat under {scheme}://{params.bucket}/{params.prefix} "
        f"(written every {format_duration(params.interval)}) that existed at t0"
    )


def read_object_heartbeat(
    store: ObjectStore, scheme: str, params: ObjectHeartbeatParams, env: StepEnv
) -> StepResult:
    where = f"{scheme}://{params.bucket}/{params.prefix}"
    listed = sorted(
        store.list_objects(params.bucket, params.prefix), key=lambda o: o.name, reverse=True
    )
    if not listed:
        raise StepFailed(f"no heartbeat object under {where}")
    later: list[str] = []
    for obj in listed[: params.max_reads]:
        url = f"{scheme}://{obj.bucket}/{obj.name}"
        content = store.read_object(obj.bucket, obj.name, MAX_HEARTBEAT_BYTES)
        at = parse_moment(content.decode("utf-8", errors="replace"), url)
        if at <= env.t0():
            return _found(url, where, at, len(listed), later, env)
        if params.later_heartbeats == "fail":
            raise StepFailed(
                f"{url} says {format_moment(at)}, later than {env.t0_words()}: this bucket holds "
                "data from after the disaster, so it was not restored to t0"
            )
        later.append(url)
    raise StepFailed(
        f"the {len(later)} newest heartbeats under {where} are all later than "
        f"{env.t0_words()} (newest {later[0]}); raise max_reads ({params.max_reads}) to look "
        "further back"
    )


def _found(
    url: str, where: str, at: datetime, listed: int, later: list[str], env: StepEnv
) -> StepResult:
    point = data_point(at, f"heartbeat {url}", env)
    age = format_duration(max((env.t0() - at).total_seconds(), 0.0))
    skipped = f"; {len(later)} later heartbeat(s) skipped" if later else ""
    return StepResult(
        summary=f"{url}: heartbeat written {format_moment(at)}, {age} before t0{skipped}",
        facts={
            **age_facts(at, env),
            "object": url,
            "under": where,
            "heartbeats_seen": listed,
            "later_than_t0": len(later),
        },
        recovery_point=point,
    )
