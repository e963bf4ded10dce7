"""``s3.backup_fresh``: the newest object under an S3 prefix is young and big enough."""

from __future__ import annotations

from drill.steps._base import PlannedStepType
from drill.steps._object_backup import ObjectBackupParams, describe_object_backup


class S3BackupFreshParams(ObjectBackupParams):
    region: str | None = None


class S3BackupFresh(PlannedStepType[S3BackupFreshParams]):
    name = "s3.backup_fresh"
    params_model = S3BackupFreshParams
    summary = "newest object under an S3 prefix is fresh and big enough; sets the recovery point"
    default_timeout_s = 120.0

    def describe(self, params: S3BackupFreshParams) -> str:
        return describe_object_backup("s3", params)
