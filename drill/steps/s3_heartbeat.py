"""``s3.heartbeat``: the newest heartbeat object under an S3 prefix, read as the recovery point."""

from __future__ import annotations

from pydantic import Field

from drill.steps._base import StepEnv, StepResult, StepType
from drill.steps._object_heartbeat import (
    ObjectHeartbeatParams,
    describe_object_heartbeat,
    read_object_heartbeat,
)


class S3HeartbeatParams(ObjectHeartbeatParams):
    region: str | None = Field(
        default=None,
        description="The bucket's AWS region (default: the AWS configuration's).",
        examples=["us-east-1"],
    )


class S3Heartbeat(StepType[S3HeartbeatParams]):
    name = "s3.heartbeat"
    params_model = S3HeartbeatParams
    summary = (
        "reads the newest heartbeat object under an S3 prefix that existed at t0; sets the "
        "recovery point from data"
    )
    default_timeout_s = 120.0
    recovery_point_kind = "data"

    def describe(self, params: S3HeartbeatParams) -> str:
        return describe_object_heartbeat("s3", params)

    def run(self, params: S3HeartbeatParams, env: StepEnv) -> StepResult:
        store = env.providers.object_store("aws", None, params.region)
        return read_object_heartbeat(store, "s3", params, env)
