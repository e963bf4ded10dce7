"""``gcs.backup_fresh``: the newest object under a GCS prefix is young and big enough."""

from __future__ import annotations

from pydantic import Field

from drill.steps._base import StepEnv, StepResult, StepType
from drill.steps._object_backup import (
    ObjectBackupParams,
    check_object_backup,
    describe_object_backup,
)


class GcsBackupFreshParams(ObjectBackupParams):
    project: str | None = Field(
        default=None,
        description="The Google Cloud project the client works in (listing bills none).",
        examples=["example-prod"],
    )


class GcsBackupFresh(StepType[GcsBackupFreshParams]):
    name = "gcs.backup_fresh"
    params_model = GcsBackupFreshParams
    summary = "newest object under a GCS prefix is fresh and big enough; sets the recovery point"
    default_timeout_s = 120.0
    recovery_point_kind = "backup metadata"

    def describe(self, params: GcsBackupFreshParams) -> str:
        return describe_object_backup("gs", params)

    def run(self, params: GcsBackupFreshParams, env: StepEnv) -> StepResult:
        store = env.providers.object_store("gcp", params.project, None)
        return check_object_backup(store, "gs", params, env)
