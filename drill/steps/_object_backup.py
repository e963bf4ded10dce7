"""Params shared by the object-store freshness checks (GCS, S3)."""

from __future__ import annotations

from pydantic import Field

from drill.durations import format_duration
from drill.fieldtypes import ByteSize, Duration
from drill.steps._base import StepParams


class ObjectBackupParams(StepParams):
    bucket: str = Field(min_length=3, max_length=222)
    # May hold date templates, e.g. "db/{date:%Y-%m-%d}/", filled from the run's t0.
    prefix: str = ""
    max_age: Duration
    min_size: ByteSize = 1
    # Object metadata key holding the backup's own timestamp (ISO 8601); else creation time.
    timestamp_metadata: str | None = None


def describe_object_backup(scheme: str, params: ObjectBackupParams) -> str:
    return (
        f"newest object under {scheme}://{params.bucket}/{params.prefix} is under "
        f"{format_duration(params.max_age)} old and at least {params.min_size} bytes"
    )
