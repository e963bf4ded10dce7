"""``kube.heartbeat``: the recovery point read inside the recovered data, from a heartbeat.

A writer (``drill heartbeat``, or the application itself) sets a key of a ConfigMap in the
protected namespace to the current time (ISO 8601) every ``interval``. A backup captures the
ConfigMap as it was then, so the restored copy says when the newest data the backup holds was
written: the recovery point from data, which backup metadata (a start time) only estimates.
In drill mode the step reads the restored copy in the mapped namespace.

Read-only: it writes nothing, and needs ``get`` on that one ConfigMap.
"""

from __future__ import annotations

from pydantic import Field

from drill.durations import format_duration
from drill.errors import StepFailed
from drill.fieldtypes import ConfigMapKey, KubeName, KubeObjectName, PositiveDuration
from drill.steps._base import StepEnv, StepParams, StepResult, StepType
from drill.steps._recovery import age_facts, data_point, parse_moment

DEFAULT_NAME = "drill-heartbeat"
DEFAULT_KEY = "timestamp"


class KubeHeartbeatParams(StepParams):
    namespace: KubeName = Field(
        description="The namespace of the restored copy to read (in drill mode, the namespace "
        "the restore maps production to).",
        examples=["dr-test"],
    )
    name: KubeObjectName = Field(
        default=DEFAULT_NAME,
        description="The heartbeat ConfigMap `drill heartbeat` writes.",
        examples=["drill-heartbeat"],
    )
    key: ConfigMapKey = Field(
        default=DEFAULT_KEY,
        description="The key holding the ISO 8601 time of the last write.",
        examples=["timestamp"],
    )
    # How often the writer refreshes it: the recovered data may be up to this much newer than
    # the heartbeat says. Reported, and used by the sandbox to run its writer.
    interval: PositiveDuration = Field(
        default=30.0,
        description="How often the writer refreshes the heartbeat: the recovered data may be "
        "up to this much newer than it says.",
        examples=["30s"],
    )


class KubeHeartbeat(StepType[KubeHeartbeatParams]):
    name = "kube.heartbeat"
    params_model = KubeHeartbeatParams
    summary = (
        "reads the time a heartbeat ConfigMap holds in the recovered namespace; sets the "
        "recovery point from data"
    )
    needs_context = True
    default_timeout_s = 60.0
    recovery_point_kind = "data"

    def describe(self, params: KubeHeartbeatParams) -> str:
        return (
            f"read the heartbeat in configmap {params.namespace}/{params.name} key {params.key} "
            f"(written every {format_duration(params.interval)})"
        )

    def run(self, params: KubeHeartbeatParams, env: StepEnv) -> StepResult:
        where = f"configmap {params.namespace}/{params.name}"
        data = env.providers.kube(env.cluster()).config_map_data(params.namespace, params.name)
        if data is None:
            raise StepFailed(
                f"no {where}: the recovered data holds no heartbeat (was the writer running "
                "in the protected namespace when the backup was taken, and was it restored?)"
            )
        if params.key not in data:
            keys = ", ".join(sorted(data)) or "none"
            raise StepFailed(f"{where} has no key {params.key!r} (keys: {keys})")
        at = parse_moment(data[params.key], f"{where} key {params.key}")
        source = f"heartbeat {where} key {params.key}"
        point = data_point(at, source, env)
        age = format_duration(max((env.t0() - at).total_seconds(), 0.0))
        return StepResult(
            summary=f"heartbeat written {at:%Y-%m-%d %H:%M:%S}Z, {age} before t0",
            facts={
                **age_facts(at, env),
                "configmap": f"{params.namespace}/{params.name}",
                "interval_s": params.interval,
            },
            recovery_point=point,
        )
