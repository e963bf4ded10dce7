"""Backup contents: the manifests each Velero backup holds, standing in for the bucket.

One instance can be shared by several emulators, as clusters share a backup storage location,
so a backup registered for the primary cluster can be restored into the DR cluster. This
module must not know about Backup objects or restores; it only keeps manifests, and the files
Velero keeps beside them in the bucket, under Velero's own keys: a backup's resource list
(``backups/B/B-resource-list.json.gz``: ``{"apps/v1/Deployment": ["ns/name", ...]}``) and a
restore's results and resource list (``restores/R/restore-R-results.gz``,
``restores/R/restore-R-resource-list.json.gz``), gzipped JSON as Velero writes them, and the
restore's log (``restores/R/restore-R-logs.gz``, gzipped text).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterable, Mapping

from drill.sandbox.kube.api.objects import Obj, clone, name_of, namespace_of


class BackupContents:
    """The manifests each backup holds, by backup name. Thread-safe; shareable between clusters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_backup: dict[str, list[Obj]] = {}
        self._by_schedule: dict[str, list[Obj]] = {}
        self._files: dict[str, bytes] = {}  # other objects in the bucket, by key

    def set_backup(self, backup: str, objects: Iterable[Obj]) -> None:
        with self._lock:
            self._by_backup[backup] = [clone(o) for o in objects]

    def backup(self, backup: str) -> list[Obj] | None:
        with self._lock:
            found = self._by_backup.get(backup)
            return None if found is None else [clone(o) for o in found]

    def drop_backup(self, backup: str) -> None:
        """Delete a backup's files from the bucket, as Velero's backup deletion does."""
        with self._lock:
            self._by_backup.pop(backup, None)
            self._files.pop(backup_resource_list_key(backup), None)

    def drop_restore(self, restore: str) -> None:
        """Delete a restore's files from the bucket, as Velero does when the Restore goes."""
        with self._lock:
            self._files.pop(restore_results_key(restore), None)
            self._files.pop(restore_resource_list_key(restore), None)
            self._files.pop(restore_log_key(restore), None)

    def put_restore_files(
        self,
        restore: str,
        results: Mapping[str, object],
        resource_list: Mapping[str, list[str]],
        log: str,
    ) -> None:
        """What Velero uploads when a restore ends: its results, its resource list and its
        log."""
        with self._lock:
            self._files[restore_results_key(restore)] = _gzipped(results)
            self._files[restore_resource_list_key(restore)] = _gzipped(resource_list)
            self._files[restore_log_key(restore)] = gzip.compress(log.encode())

    def drop_file(self, key: str) -> None:
        """Lose one file of the bucket (a test of what drill says when it cannot read it)."""
        with self._lock:
            self._files[key] = b""  # as if absent

    def file(self, key: str) -> bytes | None:
        """The bucket object under ``key``; None when there is none."""
        with self._lock:
            if key in self._files:
                return self._files[key] or None
            backup = key.split("/")[1] if key.startswith("backups/") else ""
            if key != backup_resource_list_key(backup) or backup not in self._by_backup:
                return None
            return _gzipped(resource_list(self._by_backup[backup]))

    def set_schedule(self, schedule: str, objects: Iterable[Obj]) -> None:
        """What every backup the schedule makes from now on will hold."""
        with self._lock:
            self._by_schedule[schedule] = [clone(o) for o in objects]

    def schedule(self, schedule: str) -> list[Obj]:
        with self._lock:
            return [clone(o) for o in self._by_schedule.get(schedule, [])]


def backup_resource_list_key(backup: str) -> str:
    return f"backups/{backup}/{backup}-resource-list.json.gz"


def restore_results_key(restore: str) -> str:
    return f"restores/{restore}/restore-{restore}-results.gz"


def restore_resource_list_key(restore: str) -> str:
    return f"restores/{restore}/restore-{restore}-resource-list.json.gz"


def restore_log_key(restore: str) -> str:
    return f"restores/{restore}/restore-{restore}-logs.gz"


def resource_key(manifest: Obj) -> str:
    """Velero's key for an item's resource: its group/version and kind, ``apps/v1/Deployment``."""
    return f"{manifest.get('apiVersion')}/{manifest.get('kind')}"


def item_name(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def resource_list(manifests: Iterable[Obj]) -> dict[str, list[str]]:
    """A backup's resource list as Velero writes it: sorted entries per resource key."""
    listed: dict[str, list[str]] = {}
    for manifest in manifests:
        entry = item_name(namespace_of(manifest) or None, name_of(manifest))
        listed.setdefault(resource_key(manifest), []).append(entry)
    return {key: sorted(entries) for key, entries in listed.items()}


def _gzipped(document: object) -> bytes:
    return gzip.compress(json.dumps(document).encode())
