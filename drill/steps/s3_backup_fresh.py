"""``s3.backup_fresh``: the newest object under an S3 prefix is young and big enough."""

from __future__ import annotations

from pydantic import Field

from drill.steps._base import StepEnv, StepResult, StepType
from drill.steps._object_backup import (
    ObjectBackupParams,
    check_object_backup,
    describe_object_backup,
)


class S3BackupFreshParams(ObjectBackupParams):
    region: str | None = Field(
        default=None,
        description="The bucket's AWS region (default: the AWS configuration's).",
        examples=["us-east-1"],
    )


class S3BackupFresh(StepType[S3BackupFreshParams]):
    name = "s3.backup_fresh"
    params_model = S3BackupFreshParams
    summary = "newest object under an S3 prefix is fresh and big enough; sets the recovery point"
    default_timeout_s = 120.0
    recovery_point_kind = "backup metadata"

    def describe(self, params: S3BackupFreshParams) -> str:
        return describe_object_backup("s3", params)

    def run(self, params: S3BackupFreshParams, env: StepEnv) -> StepResult:
        store = env.providers.object_store("aws", None, params.region)
        return check_object_backup(store, "s3", params, env)
