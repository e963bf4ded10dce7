"""What the Velero step types share: which backup is "the latest" at t0, and whether it is usable.

A recovery can only bring back what existed at t0: the latest backup *at t0* is Velero's own
"latest" (the newest ``startTimestamp`` among Completed backups) among those that had completed
by then. A backup that completed later holds data from after the disaster.

A step-support module: step types import it; it never imports a step type.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue

from drill.durations import format_moment
from drill.errors import StepFailed
from drill.fieldtypes import LABEL_VALUE_MAX, KubeObjectName
from drill.steps._base import StepEnv

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import BackupInfo, VeleroApi


def _a_labelled_name(name: str) -> str:
    """Velero labels each backup a schedule makes with the schedule's name, and drill finds
    them by that label (velero.io/schedule-name): a label value's length is the limit."""
    if len(name) > LABEL_VALUE_MAX:
        raise ValueError(
            f"{name!r} is {len(name)} characters: Velero labels the backups of a schedule "
            "with its name (velero.io/schedule-name), and a label value holds at most "
            f"{LABEL_VALUE_MAX}; name a Schedule of at most {LABEL_VALUE_MAX} characters"
        )
    return name


class _AtMostALabelValue:
    """The JSON Schema of an object name that is also a label value."""

    def __get_pydantic_json_schema__(
        self, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "maxLength": LABEL_VALUE_MAX}


# A Velero Schedule's name, as a plan gives it: an object name its backups' label can carry.
ScheduleName = Annotated[KubeObjectName, AfterValidator(_a_labelled_name), _AtMostALabelValue()]


def completed_backups(
    velero: VeleroApi, schedule: str | None, backup: str | None, selector: str | None
) -> list[BackupInfo]:
    """The Completed backups of the source (with a start time), whenever they completed."""
    if backup:
        found = velero.backup(backup)
        candidates = [found] if found else []
    else:
        candidates = velero.backups(schedule=schedule, selector=selector)
    return [b for b in candidates if b.phase == "Completed" and b.started_at is not None]


def latest_at_t0(backups: list[BackupInfo], source: str, env: StepEnv) -> BackupInfo:
    """Velero's "latest" among ``backups`` that had completed by t0; StepFailed naming t0 and
    the oldest backup when none had (a backup with no completion time cannot be shown to)."""
    t0 = env.t0()
    done = [b for b in backups if b.completed_at is not None and b.completed_at <= t0]
    if done:
        return max(done, key=_started)
    oldest = min(backups, key=_started)
    if oldest.completed_at is None:
        when = "has no completionTimestamp"
    else:
        when = f"completed {format_moment(oldest.completed_at)}"
    raise StepFailed(
        f"no backup of {source} had completed by {env.t0_words()}: the oldest of "
        f"{len(backups)}, {oldest.name}, {when}; a recovery to t0 has nothing to restore"
    )


def _started(backup: BackupInfo) -> datetime:
    assert backup.started_at is not None, "completed_backups keeps only started ones"
    return backup.started_at


def require_available_location(velero: VeleroApi, backup: BackupInfo) -> None:
    location = velero.storage_location(backup.storage_location)
    if location is None:
        raise StepFailed(f"backup storage location {backup.storage_location} does not exist")
    if location.phase != "Available":
        raise StepFailed(
            f"backup storage location {backup.storage_location} is {location.phase}: "
            "a restore from it would fail validation"
        )
