"""The true RPO of a sandbox run: what the emulators recorded, at full precision.

drill reads timestamps as the APIs give them (Velero keeps whole seconds of a backup's start,
S3 of an object's); the sandbox knows when each backup really started and when each heartbeat
was really written, to the microsecond. Given what a run's report says it used (the backups
and objects its steps name), this says what RPO from backup metadata and RPO from data truly
were, so tests and benches measure drill's error against the truth, not against the same
rounded timestamps drill read.

Truth follows the sources, not drill's readings: a restored heartbeat is the one the restored
backup captured (for a recovery-point Job, the database stand-in's); a heartbeat in a bucket is
the newest written under the prefix by t0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from drill.sandbox.kube import BackupMade
from drill.sandbox.runtime import Sandbox
from drill.sandbox.worlds.clusters import DATABASE_HEARTBEAT

Fact = str | int | float | bool | None


@dataclass(frozen=True)
class StepSeen:
    """What a run's report says of one step: its id, type and facts."""

    id: str
    type: str
    facts: Mapping[str, Fact]


@dataclass(frozen=True)
class TrueRpo:
    from_data_s: float | None
    from_backup_s: float | None
    data_points: Mapping[str, datetime]  # by step id
    backup_points: Mapping[str, datetime]


def true_rpo(sandbox: Sandbox, steps: Sequence[StepSeen], t0: datetime) -> TrueRpo:
    """The true RPOs of the run whose steps (as reported) are ``steps``. A probe whose truth
    the sandbox cannot know (a Job running kubectl on a ConfigMap no heartbeat probe names) is
    left out."""
    restores = [s for s in steps if s.type == "velero.restore"]
    restored = [b for b in (_backup(sandbox, s.facts.get("backup")) for s in restores) if b]
    backup_points = {s.id: at for s in steps if (at := _backup_point(sandbox, s)) is not None}
    data_points = {
        s.id: at for s in steps if (at := _data_point(sandbox, s, restored, t0)) is not None
    }
    return TrueRpo(_before(t0, data_points), _before(t0, backup_points), data_points, backup_points)


def _before(t0: datetime, points: Mapping[str, datetime]) -> float | None:
    return (t0 - min(points.values())).total_seconds() if points else None


def _backup(sandbox: Sandbox, name: Fact) -> BackupMade | None:
    if not isinstance(name, str):
        return None
    found = (cluster.truth.backup(name) for cluster in sandbox.clusters.values())
    return next((made for made in found if made is not None), None)


def _backup_point(sandbox: Sandbox, step: StepSeen) -> datetime | None:
    if step.type in ("velero.backup_fresh", "velero.restore"):
        made = _backup(sandbox, step.facts.get("backup"))
        return made.started_at if made else None
    if step.type in ("gcs.backup_fresh", "s3.backup_fresh"):
        bucket, name = _object(step.facts.get("object"))
        return sandbox.cloud.backup_taken_at(bucket, name)
    return None


def _data_point(
    sandbox: Sandbox, step: StepSeen, restored: list[BackupMade], t0: datetime
) -> datetime | None:
    if step.type in ("kube.heartbeat", "job.recovery_point"):
        name = str(step.facts.get("configmap", DATABASE_HEARTBEAT[0])).rsplit("/", 1)[-1]
        beats = [beat for made in restored for beat in made.heartbeats if beat.name == name]
        return min((beat.written_at for beat in beats), default=None)
    if step.type in ("gcs.heartbeat", "s3.heartbeat"):
        bucket, prefix = _object(step.facts.get("under"))
        written = [at for at in sandbox.cloud.heartbeats(bucket, prefix) if at <= t0]
        return max(written, default=None)
    return None


def _object(url: Fact) -> tuple[str, str]:
    """``gs://bucket/name`` as (bucket, name)."""
    bucket, _, name = str(url).split("://", 1)[-1].partition("/")
    return bucket, name
