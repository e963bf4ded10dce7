"""Velero's side of the world: Backups, Schedules and BackupStorageLocations, and their contents.

Backup *contents* (the object manifests a backup holds) live in ``BackupContents``
(``_contents``), which stands for the bucket. The Backup, Schedule and BackupStorageLocation
objects live in each cluster's store, in the Velero namespace, complete with status (Velero's
CRDs have no status subresource, so status is written with the object).

``Velero`` is the Python API tests and the sandbox use to set the world up (register a
Completed backup of a given age, make a schedule produce a backup now or at a past moment,
make a location unavailable) and the controller pass that runs restores (``_restores``),
enables new Schedules, processes DownloadRequests and runs the schedules given a period: each
makes a backup every period, which appears Completed once its duration has passed. Backups
created through the API are stored as sent: no backup controller runs.

A schedule's backup carries the schedule's ``spec.template.ttl`` and, as Velero's backup
controller sets it, ``status.expiration``: its start plus that TTL (30 days when none).
Velero's garbage collection runs in every controller pass (Velero's own looks at each new
Backup and then hourly, so there an expired backup may linger up to an hour): an expired
backup is deleted with its contents and the Restores made from it (with their files), as a
processed DeleteBackupRequest leaves it; not while the backup is still running, nor while its
storage location is Unavailable, and one whose location is missing or read-only is labelled
``velero.io/gc-failure`` and kept, as Velero does. Velero's deletion does not wait for a
restore still reading the backup (it deletes that Restore too); the sandbox keeps the backup
until its restores end, because its schedules' TTLs are hours where real ones are weeks, and a
drill must not fail in the sandbox where the real one would not.

A schedule's backup holds the schedule's objects plus, for each heartbeat writer in its
namespaces, the heartbeat ConfigMap as it was when the backup read it: a quarter of the way
through the backup (Velero reads ConfigMaps early, but not at its start timestamp). So a
restored heartbeat may be older or younger than the backup's startTimestamp, as for real.

A DownloadRequest (``spec.target``: ``kind`` and ``name``) is answered as Velero's controller
answers it: for a Restore* kind the restore must exist (its backup is then the one read), the
backup and its storage location must exist, and then ``status`` gets ``phase: Processed``, a
``downloadURL`` (a pre-signed URL into the bucket: here a path of this emulator's own server,
which serves ``contents`` files gzipped as Velero stores them) and an ``expiration``. A target
that cannot be found leaves the request unprocessed, as Velero does.

This module must not serve requests or run restores itself (that is ``_restores``); it writes
objects through the API like any other client would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from drill.durations import parse_duration
from drill.sandbox.kube.api.objects import (
    Obj,
    clone,
    dig,
    labels_of,
    name_of,
    parse_time,
    rfc3339,
)
from drill.sandbox.kube.controllers.contents import (
    BackupContents,
    backup_resource_list_key,
    restore_log_key,
    restore_resource_list_key,
    restore_results_key,
)
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.heartbeats import HeartbeatWriter
from drill.sandbox.kube.controllers.restores import RestoreController
from drill.sandbox.kube.controllers.truth import BackupMade, HeartbeatCaptured

SCHEDULE_LABEL = "velero.io/schedule-name"
LOCATION_LABEL = "velero.io/storage-location"
DEFAULT_TTL = "720h0m0s"
GC_FAILURE_LABEL = "velero.io/gc-failure"
# Restore phases after which Velero reads nothing more of the backup.
RESTORE_ENDED = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")
# Backup phases in which Velero's backup deletion refuses: "backup is still in progress".
BACKUP_RUNNING = ("", "New", "Queued", "ReadyToStart", "InProgress")
BUCKET_PATH = "/velero-bucket/"  # where this emulator serves the bucket's files
DOWNLOAD_URL_TTL = timedelta(minutes=10)  # Velero's persistence.DownloadURLTTL
_BUCKET_KEYS = {
    "BackupResourceList": backup_resource_list_key,
    "RestoreResults": restore_results_key,
    "RestoreResourceList": restore_resource_list_key,
    "RestoreLog": restore_log_key,
}
# How far through a backup its heartbeat ConfigMaps are read.
CAPTURED_AFTER = 0.25


@dataclass
class _Cadence:
    """When a schedule with a period makes its next backup, and how long one takes."""

    period_s: float
    duration_s: float
    next_at: datetime


class Velero:
    def __init__(
        self,
        world: World,
        contents: BackupContents,
        furnish: Callable[[str], None],
        namespace: str = "velero",
    ) -> None:
        """``furnish`` gives a namespace a restore created what the cluster's controllers put
        in every namespace (``namespace_defaults``)."""
        self.contents = contents
        self.namespace = namespace
        self._world = world
        self._backups = world.rt("velero.io/v1", "Backup")
        self._schedules = world.rt("velero.io/v1", "Schedule")
        self._locations = world.rt("velero.io/v1", "BackupStorageLocation")
        self._restores = RestoreController(world, contents, namespace, furnish)
        self._downloads = world.rt("velero.io/v1", "DownloadRequest")
        self._restore_objects = world.rt("velero.io/v1", "Restore")
        self.download_base = ""  # the server's URL, once it serves: the base of download URLs
        self._writers: list[HeartbeatWriter] = []
        self._cadences: dict[str, _Cadence] = {}

    # -- world set-up --------------------------------------------------------------------------

    def register_backup(
        self,
        name: str,
        objects: Iterable[Obj],
        *,
        started_at: datetime | None = None,
        duration_s: float = 60.0,
        schedule: str | None = None,
        phase: str = "Completed",
        storage_location: str = "default",
        included_namespaces: list[str] | None = None,
    ) -> Obj:
        """Create Backup ``name`` (phase ``phase``) holding ``objects``; returns the Backup.

        ``started_at`` defaults to ``duration_s`` before now, i.e. a backup that just finished.
        """
        held = list(objects)
        self.contents.set_backup(name, held)
        started = started_at or self._world.clock.now() - timedelta(seconds=duration_s)
        namespaces = included_namespaces or sorted(
            {str(dig(o, "metadata", "namespace")) for o in held if dig(o, "metadata", "namespace")}
        )
        body = self._backup_body(
            name, schedule, storage_location, {"includedNamespaces": namespaces or ["*"]}
        )
        completed = started + timedelta(seconds=duration_s)
        body["status"] = _backup_status(phase, started, completed, len(held), DEFAULT_TTL)
        return self._world.api.create(self._backups, self.namespace, body)

    def set_backup_contents(self, name: str, objects: Iterable[Obj]) -> None:
        """Say what an existing (e.g. API-created) Backup holds."""
        self.contents.set_backup(name, objects)

    def add_storage_location(
        self,
        name: str = "default",
        *,
        available: bool = True,
        bucket: str = "drill-sandbox",
        provider: str = "aws",
        ca_cert: str | None = None,
    ) -> Obj:
        """``ca_cert`` (base64 PEM, as the CRD has it): the CA a private bucket serves under,
        which clients of its download URLs must trust."""
        storage: dict[str, str] = {"bucket": bucket}
        if ca_cert is not None:
            storage["caCert"] = ca_cert
        body = {
            "metadata": {"name": name},
            "spec": {
                "provider": provider,
                "objectStorage": storage,
                "default": name == "default",
                "accessMode": "ReadWrite",
            },
            "status": self._location_status(available),
        }
        return self._world.api.create(self._locations, self.namespace, body)

    def set_storage_location(self, name: str = "default", *, available: bool) -> Obj:
        """Mark location ``name`` Available or Unavailable (restores then fail validation)."""
        status = self._location_status(available)

        def write(found: Obj) -> None:
            found["status"] = status

        return self._world.store.mutate(self._locations, self.namespace, name, write)

    def add_schedule(
        self,
        name: str,
        *,
        included_namespaces: list[str],
        cron: str = "0 * * * *",
        objects: Iterable[Obj] = (),
        storage_location: str = "default",
        ttl_s: float | None = None,
    ) -> Obj:
        """Create an Enabled Schedule whose backups will hold ``objects`` and expire ``ttl_s``
        after they start (Velero's default, 30 days, when None)."""
        self.contents.set_schedule(name, objects)
        template = {
            "includedNamespaces": included_namespaces,
            "storageLocation": storage_location,
            "ttl": DEFAULT_TTL if ttl_s is None else go_duration(ttl_s),
        }
        body = {
            "metadata": {"name": name},
            "spec": {"schedule": cron, "template": template, "useOwnerReferencesInBackup": False},
            "status": {"phase": "Enabled"},
        }
        return self._world.api.create(self._schedules, self.namespace, body)

    def add_heartbeat(self, writer: HeartbeatWriter) -> None:
        """A writer refreshing a heartbeat ConfigMap in a namespace schedules back up."""
        self._writers.append(writer)

    def run_every(
        self, name: str, period_s: float, *, duration_s: float, next_at: datetime
    ) -> None:
        """Make Schedule ``name`` start a backup at ``next_at`` and every ``period_s`` after;
        each appears Completed ``duration_s`` after its start."""
        self._cadences[name] = _Cadence(period_s, duration_s, next_at)

    def run_schedule(self, name: str) -> str:
        """Make Schedule ``name`` produce a Completed backup now; returns the backup's name."""
        return self.take_backup(name, self._world.clock.now(), 0.0)

    def take_backup(self, name: str, started_at: datetime, duration_s: float) -> str:
        """Schedule ``name``'s backup started at ``started_at`` and Completed ``duration_s``
        later; returns its name. Recorded as ground truth, with the heartbeats it captured.

        Backups are named ``<schedule>-<YYYYMMDDhhmmss>`` like Velero's; if that name is taken
        (two runs in one second) the timestamp in the name moves on a second.
        """
        schedule = self._world.store.read(self._schedules, self.namespace, name)
        if schedule is None:
            raise KeyError(f"no schedule {name!r} in namespace {self.namespace!r}")
        completed_at = started_at + timedelta(seconds=duration_s)
        backup_name = self._free_backup_name(name, started_at)
        template = clone(dig(schedule, "spec", "template") or {})
        read_at = started_at + timedelta(seconds=duration_s * CAPTURED_AFTER)
        beats = self._heartbeats(template.get("includedNamespaces") or [], read_at)
        objects = self.contents.schedule(name) + [manifest for manifest, _ in beats]
        self.contents.set_backup(backup_name, objects)
        body = self._backup_body(
            backup_name, name, str(template.get("storageLocation", "default")), template
        )
        ttl = str(body["spec"]["ttl"])
        body["status"] = _backup_status("Completed", started_at, completed_at, len(objects), ttl)
        self._world.api.create(self._backups, self.namespace, body)
        self._set_last_backup(name, started_at)
        captured = tuple(beat for _, beat in beats)
        made = BackupMade(backup_name, name, started_at, completed_at, captured)
        self._world.truth.record_backup(made)
        return backup_name

    def _heartbeats(
        self, namespaces: list[str], moment: datetime
    ) -> list[tuple[Obj, HeartbeatCaptured]]:
        """Each heartbeat ConfigMap in ``namespaces`` as it was at ``moment``."""
        found = []
        for writer in self._writers:
            written = writer.last_write(moment)
            if written is None or not {writer.namespace, "*"} & set(namespaces):
                continue
            beat = HeartbeatCaptured(writer.namespace, writer.name, writer.key, written)
            found.append((writer.manifest(written), beat))
        return found

    def sync_backups(self, source: Velero) -> list[str]:
        """Copy the Backups ``source``'s cluster has and this one lacks; returns their names.

        This is what Velero's backup sync does when two clusters share a storage location:
        backups taken in the primary cluster become restorable in the DR cluster.
        """
        copied = []
        for backup in source.backups():
            name = str(backup["metadata"]["name"])
            if self._world.store.read(self._backups, self.namespace, name) is not None:
                continue
            self.contents.set_backup(name, source.contents.backup(name) or [])
            body = {
                "metadata": {"name": name, "labels": dict(backup["metadata"].get("labels", {}))}
            }
            body.update(spec=clone(backup.get("spec", {})), status=clone(backup.get("status", {})))
            self._world.api.create(self._backups, self.namespace, body)
            copied.append(name)
        return copied

    def backups(self) -> list[Obj]:
        """Copies of the Backups in this cluster's Velero namespace."""
        return [clone(b) for b in self._world.store.items(self._backups, self.namespace)]

    # -- controller ----------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        self._enable_new_schedules()
        self._run_due_schedules()
        self._collect_garbage()
        self._restores.tick(now)
        self._process_downloads()

    def _process_downloads(self) -> None:
        for request in self._world.store.items(self._downloads, self.namespace):
            if dig(request, "status", "phase") in (None, "", "New"):
                self._world.store.mutate(
                    self._downloads,
                    self.namespace,
                    str(request["metadata"]["name"]),
                    _set_status(self._download_status(request)),
                )

    def _download_status(self, request: Obj) -> Obj:
        expires = rfc3339(self._world.clock.now() + DOWNLOAD_URL_TTL)
        kind = str(dig(request, "spec", "target", "kind") or "")
        name = str(dig(request, "spec", "target", "name") or "")
        backup = name
        if kind.startswith("Restore"):
            restore = self._world.store.read(self._restore_objects, self.namespace, name)
            backup = str(dig(restore, "spec", "backupName") or "") if restore else ""
        found = self._world.store.read(self._backups, self.namespace, backup) if backup else None
        location = str(dig(found, "spec", "storageLocation") or "default") if found else ""
        if (
            found is None
            or self._world.store.read(self._locations, self.namespace, location) is None
        ):
            return {"phase": "New", "expiration": expires}  # Velero logs it and gives up
        keyed = _BUCKET_KEYS.get(kind)
        key = keyed(name) if keyed else f"unsupported/{kind}/{name}"
        url = f"{self.download_base}{BUCKET_PATH}{key}?X-Amz-Signature=sandbox"
        return {"phase": "Processed", "downloadURL": url, "expiration": expires}

    def _run_due_schedules(self) -> None:
        moment = self._world.clock.now()
        for name, cadence in self._cadences.items():
            while cadence.next_at + timedelta(seconds=cadence.duration_s) <= moment:
                self.take_backup(name, cadence.next_at, cadence.duration_s)
                cadence.next_at += timedelta(seconds=cadence.period_s)

    def _collect_garbage(self) -> None:
        """Delete every expired backup Velero's garbage collection would (see the module)."""
        now = self._world.clock.now()
        for backup in self._world.store.items(self._backups, self.namespace):
            expiration = parse_time(dig(backup, "status", "expiration"))
            if expiration is None or expiration > now:
                continue
            if (dig(backup, "status", "phase") or "") in BACKUP_RUNNING:
                continue
            if self._location_refuses(backup) or self._being_restored(name_of(backup)):
                continue
            self._delete_backup(name_of(backup))

    def _location_refuses(self, backup: Obj) -> bool:
        """True when Velero's garbage collection leaves ``backup`` alone because of its storage
        location: missing or read-only (then labelled why), or Unavailable."""
        name = str(dig(backup, "spec", "storageLocation") or "default")
        location = self._world.store.read(self._locations, self.namespace, name)
        failure = None
        if location is None:
            failure = "BSLNotFound"
        elif dig(location, "spec", "accessMode") == "ReadOnly":
            failure = "BSLReadOnly"
        elif dig(location, "status", "phase") != "Available":
            return True
        if failure is not None and labels_of(backup).get(GC_FAILURE_LABEL) != failure:
            self._world.store.mutate(
                self._backups,
                self.namespace,
                name_of(backup),
                _set_label(GC_FAILURE_LABEL, failure),
            )
        return failure is not None

    def _being_restored(self, backup: str) -> bool:
        return any(
            dig(restore, "spec", "backupName") == backup
            and dig(restore, "status", "phase") not in RESTORE_ENDED
            for restore in self._world.store.items(self._restore_objects, self.namespace)
        )

    def _delete_backup(self, backup: str) -> None:
        """What a processed DeleteBackupRequest leaves: the backup's files gone from the bucket,
        the Restores of it gone with theirs, then the Backup itself."""
        self.contents.drop_backup(backup)
        for restore in self._world.store.items(self._restore_objects, self.namespace):
            if dig(restore, "spec", "backupName") == backup:
                self.contents.drop_restore(name_of(restore))
                self._world.store.remove(self._restore_objects, self.namespace, name_of(restore))
        self._world.store.remove(self._backups, self.namespace, backup)

    def _enable_new_schedules(self) -> None:
        for schedule in self._world.store.items(self._schedules):
            if not dig(schedule, "status", "phase"):
                self._world.store.mutate(
                    self._schedules,
                    schedule["metadata"]["namespace"],
                    schedule["metadata"]["name"],
                    lambda found: found.setdefault("status", {}).update(phase="Enabled"),
                )

    # -- helpers -------------------------------------------------------------------------------

    def _backup_body(self, name: str, schedule: str | None, location: str, spec: Obj) -> Obj:
        labels = {LOCATION_LABEL: location}
        if schedule:
            labels[SCHEDULE_LABEL] = schedule
        full_spec = {
            "includedNamespaces": ["*"],
            "storageLocation": location,
            "ttl": DEFAULT_TTL,
            "defaultVolumesToFsBackup": False,
            "hooks": {},
            "metadata": {},
            "csiSnapshotTimeout": "10m0s",
            "itemOperationTimeout": "4h0m0s",
            **spec,
        }
        return {"metadata": {"name": name, "labels": labels}, "spec": full_spec}

    def _free_backup_name(self, schedule: str, moment: datetime) -> str:
        while True:
            candidate = f"{schedule}-{moment:%Y%m%d%H%M%S}"
            if self._world.store.read(self._backups, self.namespace, candidate) is None:
                return candidate
            moment += timedelta(seconds=1)

    def _set_last_backup(self, schedule: str, moment: datetime) -> None:
        def write(found: Obj) -> None:
            found.setdefault("status", {}).update(phase="Enabled", lastBackup=rfc3339(moment))

        self._world.store.mutate(self._schedules, self.namespace, schedule, write)

    def _location_status(self, available: bool) -> Obj:
        return {
            "phase": "Available" if available else "Unavailable",
            "lastValidationTime": rfc3339(self._world.clock.now()),
            "lastSyncedTime": rfc3339(self._world.clock.now()),
        }


def _set_status(status: Obj) -> Callable[[Obj], None]:
    def write(found: Obj) -> None:
        found["status"] = status

    return write


def _set_label(key: str, value: str) -> Callable[[Obj], None]:
    def write(found: Obj) -> None:
        found.setdefault("metadata", {}).setdefault("labels", {})[key] = value

    return write


def go_duration(seconds: float) -> str:
    """Whole seconds as Go's time.Duration prints them, as Velero writes a TTL: ``1h0m0s``."""
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes}m{secs}s"


def _ttl_s(ttl: str) -> float:
    """A TTL's seconds; Velero's default for one that is not a duration this parser reads
    (Go's fractions, ``1.5h``), rather than a backup that expires at once."""
    try:
        return parse_duration(ttl)
    except ValueError:
        return parse_duration(DEFAULT_TTL)


def _backup_status(phase: str, started: datetime, completed: datetime, items: int, ttl: str) -> Obj:
    """As Velero's backup controller writes it: ``expiration`` is the start plus the TTL."""
    return {
        "phase": phase,
        "version": 1,
        "formatVersion": "1.1.0",
        "startTimestamp": rfc3339(started),
        "completionTimestamp": rfc3339(completed),
        "expiration": rfc3339(started + timedelta(seconds=_ttl_s(ttl))),
        "progress": {"totalItems": items, "itemsBackedUp": items},
    }
