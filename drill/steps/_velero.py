"""What the Velero step types share: which backup is "the latest", and whether it is usable.

A step-support module: step types import it; it never imports a step type.
"""

from __future__ import annotations

from drill.errors import StepFailed
from providers.protocols import BackupInfo, VeleroApi


def newest_completed(
    velero: VeleroApi, schedule: str | None, backup: str | None, selector: str | None
) -> BackupInfo | None:
    """Velero's own rule for "latest": newest startTimestamp among Completed backups."""
    if backup:
        found = velero.backup(backup)
        candidates = [found] if found else []
    else:
        candidates = velero.backups(schedule=schedule, selector=selector)
    dated = [(b.started_at, b) for b in candidates if b.phase == "Completed" and b.started_at]
    return max(dated, key=lambda pair: pair[0])[1] if dated else None


def require_available_location(velero: VeleroApi, backup: BackupInfo) -> None:
    location = velero.storage_location(backup.storage_location)
    if location is None:
        raise StepFailed(f"backup storage location {backup.storage_location} does not exist")
    if location.phase != "Available":
        raise StepFailed(
            f"backup storage location {backup.storage_location} is {location.phase}: "
            "a restore from it would fail validation"
        )
