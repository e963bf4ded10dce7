"""``gcs.heartbeat``: the newest heartbeat object under a GCS prefix, read as the recovery point."""

from __future__ import annotations

from pydantic import Field

from drill.steps._base import StepEnv, StepResult, StepType
from drill.steps._object_heartbeat import (
    ObjectHeartbeatParams,
    describe_object_heartbeat,
    read_object_heartbeat,
)


class GcsHeartbeatParams(ObjectHeartbeatParams):
    project: str | None = Field(
        default=None,
        description="The Google Cloud project the client works in (reading bills none).",
        examples=["example-prod"],
    )


class GcsHeartbeat(StepType[GcsHeartbeatParams]):
    name = "gcs.heartbeat"
    params_model = GcsHeartbeatParams
    summary = (
        "reads the newest heartbeat object under a GCS prefix that existed at t0; sets the "
        "recovery point from data"
    )
    default_timeout_s = 120.0
    recovery_point_kind = "data"

    def describe(self, params: GcsHeartbeatParams) -> str:
        return describe_object_heartbeat("gs", params)

    def run(self, params: GcsHeartbeatParams, env: StepEnv) -> StepResult:
        store = env.providers.object_store("gcp", params.project, None)
        return read_object_heartbeat(store, "gs", params, env)
