"""Backup contents: the manifests each Velero backup holds, standing in for the bucket.

One instance can be shared by several emulators, as clusters share a backup storage location,
so a backup registered for the primary cluster can be restored into the DR cluster. This
module must not know about Backup objects or restores; it only keeps manifests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from drill.sandbox.kube.api.objects import Obj, clone


class BackupContents:
    """The manifests each backup holds, by backup name. Thread-safe; shareable between clusters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_backup: dict[str, list[Obj]] = {}
        self._by_schedule: dict[str, list[Obj]] = {}

    def set_backup(self, backup: str, objects: Iterable[Obj]) -> None:
        with self._lock:
            self._by_backup[backup] = [clone(o) for o in objects]

    def backup(self, backup: str) -> list[Obj] | None:
        with self._lock:
            found = self._by_backup.get(backup)
            return None if found is None else [clone(o) for o in found]

    def set_schedule(self, schedule: str, objects: Iterable[Obj]) -> None:
        """What every backup the schedule makes from now on will hold."""
        with self._lock:
            self._by_schedule[schedule] = [clone(o) for o in objects]

    def schedule(self, schedule: str) -> list[Obj]:
        with self._lock:
            return [clone(o) for o in self._by_schedule.get(schedule, [])]
