"""The simulated Velero restore controller.

Restores run one at a time, oldest first, as Velero's do (a stuck one blocks the queue). A
restore is validated when its turn comes: exactly one of ``backupName`` / ``scheduleName``;
the backup must exist (``scheduleName`` picks the newest Completed backup labelled
``velero.io/schedule-name``, by ``status.startTimestamp``, and is written back as
``spec.backupName``); its BackupStorageLocation must be Available. A failure ends the restore
``FailedValidation`` with ``validationErrors``. Otherwise it is ``InProgress`` for
``restore_duration_s`` (``progress.itemsRestored`` climbing), then the backed-up objects are
created and it ends ``Completed`` (or ``PartiallyFailed`` when an item failed). A target
namespace still Terminating then is waited for, as Velero waits (the restore stays
``InProgress``, up to ``restore_namespace_wait_s``: its resource-terminating timeout), and
created afresh once gone; past the timeout, the items that go in it fail with Velero's error.

Items are restored in Velero's order: its default resource priorities (namespaces, ...,
secrets, configmaps, pods, replicasets, endpoints, services), then every other resource
alphabetically by ``RESOURCE.GROUP``.

Restored objects follow Velero's rules: filtered by included/excluded namespaces and resources
and the label selector, moved by ``namespaceMapping`` (the target namespace is created if
missing), labelled ``velero.io/backup-name`` and ``velero.io/restore-name``, stripped of
ownerReferences, status and server-set metadata, Services lose their cluster IPs (and node ports
unless ``preserveNodePorts``); an object that already exists is skipped: quietly when it equals
the backed-up one, else with a warning and listed as failed, as Velero does (or updated, with
``existingResourcePolicy: update``); an existing ServiceAccount (every namespace has
``default``) gets the backed-up one's secrets and image pull secrets merged in instead. A
finished Pod (``Succeeded`` or ``Failed``) or Job (one with a ``completionTime``) is not
restored and not listed, only logged ("NS/NAME is complete - skipping"), and a mirror pod is
listed as skipped, as Velero's restore does (``isCompleted`` in pkg/restore/restore.go). A
namespace is never restored as an item: it is created when missing, and listed only then; one it
creates is furnished at once with what the cluster's controllers put in every namespace
(``namespace_defaults``), as they act long before Velero reaches its items. Velero's
never-restored resources (events, nodes, ...) are added to ``spec.excludedResources`` when the
restore starts, as Velero writes them there. ``warnings`` and ``errors`` are omitted when zero,
as in Velero. When it ends, the restore's results (messages by namespace) and resource list
(each item with what became of it: created, updated, skipped or failed) and its log (in
logrus's text format, Velero's default) go to the bucket (``contents``) for DownloadRequests.

Faults may make a restore end ``PartiallyFailed`` / ``Failed`` or hang in a phase. Terminal
phases are recorded as ground truth. This module must not serve requests or set up backups.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from drill.sandbox.kube._faults import RestoreFault
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import (
    Obj,
    child,
    clone,
    dig,
    labels_of,
    meta,
    name_of,
    namespace_of,
    rfc3339,
)
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.api.selectors import selector_from_object
from drill.sandbox.kube.controllers.contents import BackupContents, item_name, resource_key
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.truth import RestoreFinished

RESTORABLE = ("Completed", "PartiallyFailed")
ItemKey = tuple[str, str, str]  # (resource key, namespace, name), as Velero keys items
# Velero's nonRestorableResources: added to every restore's excludedResources.
NON_RESTORABLE = (
    "nodes",
    "events",
    "events.events.k8s.io",
    "backups.velero.io",
    "restores.velero.io",
    "resticrepositories.velero.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
    "backuprepositories.velero.io",
)
# Velero's default restore priorities (pkg/cmd/server/config/config.go): these resources
# first, in this order; every other one after them, in alphabetical order of RESOURCE.GROUP.
_PRIORITIES = (
    "customresourcedefinitions",
    "namespaces",
    "storageclasses",
    "volumesnapshotclass.snapshot.storage.k8s.io",
    "volumesnapshotcontents.snapshot.storage.k8s.io",
    "volumesnapshots.snapshot.storage.k8s.io",
    "datauploads.velero.io",
    "persistentvolumes",
    "persistentvolumeclaims",
    "clusterroles",
    "roles",
    "serviceaccounts",
    "clusterrolebindings",
    "rolebindings",
    "secrets",
    "configmaps",
    "limitranges",
    "priorityclasses",
    "pods",
    "replicasets.apps",
    "clusterclasses.cluster.x-k8s.io",
    "endpoints",
    "services",
)
_SERVER_META = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
)
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"  # a static pod's copy in the API
_LATE_HANG_PHASES = (
    "WaitingForPluginOperations",
    "WaitingForPluginOperationsPartiallyFailed",
    "Finalizing",
    "FinalizingPartiallyFailed",
)


@dataclass
class _Run:
    namespace: str
    name: str
    backup: str
    spec: Obj
    items: list[tuple[ResourceType | None, Obj]]
    started: float
    started_at: datetime
    fault: RestoreFault | None
    counts: dict[str, int] = field(default_factory=lambda: {"warnings": 0, "errors": 0})
    restored_items: bool = False
    # When it began waiting for Terminating target namespaces to go, and those it gave up on.
    waiting_since: float | None = None
    abandoned: frozenset[str] = frozenset()
    # (resource key, namespace, name) -> created | updated | skipped | failed
    actions: dict[ItemKey, str] = field(default_factory=dict)
    results: dict[str, Obj] = field(default_factory=lambda: {"warnings": {}, "errors": {}})
    log: list[str] = field(default_factory=list)  # the restore's log, a line each

    def say(
        self, level: str, namespace: str | None, message: str, *, scope: str = "cluster"
    ) -> None:
        """One warning or error, where Velero's results put it: by namespace, else in
        ``scope`` (``cluster``, or ``velero`` for Velero's own)."""
        result = self.results[level]
        if namespace:
            result.setdefault("namespaces", {}).setdefault(namespace, []).append(message)
        else:
            result.setdefault(scope, []).append(message)
        self.counts[level] += 1

    def log_info(self, moment: datetime, message: str) -> None:
        """One line of the restore's log, as Velero's logrus text formatter writes it."""
        self.log.append(
            f'time="{rfc3339(moment)}" level=info msg="{message}" '
            f'logSource="pkg/restore/restore.go" restore={self.namespace}/{self.name}'
        )

    def resource_list(self) -> dict[str, list[str]]:
        listed: dict[str, list[str]] = {}
        for (key, namespace, name), action in self.actions.items():
            listed.setdefault(key, []).append(f"{item_name(namespace, name)}({action})")
        return {key: sorted(entries) for key, entries in listed.items()}


class RestoreController:
    def __init__(
        self,
        world: World,
        contents: BackupContents,
        namespace: str,
        furnish: Callable[[str], None],
    ) -> None:
        self._world = world
        self._furnish = furnish
        self._contents = contents
        self._namespace = namespace
        self._restores = world.rt("velero.io/v1", "Restore")
        self._backups = world.rt("velero.io/v1", "Backup")
        self._locations = world.rt("velero.io/v1", "BackupStorageLocation")
        self._namespaces = world.rt("v1", "Namespace")
        self._run: _Run | None = None

    def tick(self, now: float) -> None:
        if self._run is not None:
            self._advance(self._run, now)
        if self._run is None:
            waiting = self._waiting()
            if waiting:
                self._start(waiting[0], now)

    # -- queue ---------------------------------------------------------------------------------

    def _waiting(self) -> list[Obj]:
        """Restores not started yet, oldest first; each is shown as phase New while it waits."""
        found = [
            r
            for r in self._world.store.items(self._restores)
            if dig(r, "status", "phase") in (None, "", "New")
        ]
        for restore in found:
            if dig(restore, "status", "phase") != "New":
                self._write(restore, {"phase": "New"})
        # Oldest first; within one second of creationTimestamp, by name.
        return sorted(
            found, key=lambda r: (str(r["metadata"].get("creationTimestamp")), name_of(r))
        )

    def _start(self, restore: Obj, now: float) -> None:
        problems, backup = self._validate(restore)
        if problems or backup is None:
            self._fail_validation(restore, problems)
            return
        spec = self._exclude_non_restorable(restore)
        backup_name = name_of(backup)
        items = self._plan(spec, self._contents.backup(backup_name) or [])
        fault = self._world.faults.take_restore_fault(name_of(restore))
        started_at = self._world.clock.now()
        where = (namespace_of(restore), name_of(restore))
        self._run = _Run(*where, backup_name, spec, items, now, started_at, fault)
        self._run.log_info(started_at, "starting restore")
        if spec.get("scheduleName"):
            self._set_backup_name(restore, backup_name)
        status = {
            "phase": "InProgress",
            "startTimestamp": rfc3339(started_at),
            "progress": {"totalItems": len(items), "itemsRestored": 0},
        }
        self._write(restore, status)

    def _exclude_non_restorable(self, restore: Obj) -> Obj:
        spec = clone(restore.get("spec") or {})
        excluded = list(spec.get("excludedResources") or [])
        spec["excludedResources"] = excluded + [r for r in NON_RESTORABLE if r not in excluded]

        def write(found: Obj) -> None:
            child(found, "spec")["excludedResources"] = spec["excludedResources"]

        self._world.store.mutate(self._restores, namespace_of(restore), name_of(restore), write)
        return spec

    # -- validation ----------------------------------------------------------------------------

    def _validate(self, restore: Obj) -> tuple[list[str], Obj | None]:
        spec = restore.get("spec") or {}
        backup_name, schedule_name = spec.get("backupName"), spec.get("scheduleName")
        if bool(backup_name) == bool(schedule_name):
            return [
                "Either a backup or schedule must be specified as a source for the restore, "
                "but not both"
            ], None
        if backup_name:
            backup = self._world.store.read(self._backups, self._namespace, str(backup_name))
            if backup is None:
                return [
                    f'Error retrieving backup: backups.velero.io "{backup_name}" not found'
                ], None
        else:
            backup = self._newest_of_schedule(str(schedule_name))
            if backup is None:
                return [f"No backups found for schedule {schedule_name!r}"], None
        return self._backup_problems(backup), backup

    def _newest_of_schedule(self, schedule: str) -> Obj | None:
        done = [
            b
            for b in self._world.store.items(self._backups, self._namespace)
            if labels_of(b).get("velero.io/schedule-name") == schedule
            and dig(b, "status", "phase") == "Completed"
        ]
        return max(done, key=lambda b: str(dig(b, "status", "startTimestamp") or ""), default=None)

    def _backup_problems(self, backup: Obj) -> list[str]:
        phase = dig(backup, "status", "phase")
        if phase not in RESTORABLE:
            return [
                f"Backup {name_of(backup)} is in phase {phase}; "
                "only Completed and PartiallyFailed backups can be restored"
            ]
        location_name = str(dig(backup, "spec", "storageLocation") or "default")
        location = self._world.store.read(self._locations, self._namespace, location_name)
        if location is None or dig(location, "status", "phase") != "Available":
            return [
                f'Backup storage location "{location_name}" is unavailable, '
                f"cannot read backup {name_of(backup)}"
            ]
        return []

    def _fail_validation(self, restore: Obj, problems: list[str]) -> None:
        moment = self._world.clock.now()
        self._write(
            restore,
            {
                "phase": "FailedValidation",
                "validationErrors": problems,
                "completionTimestamp": rfc3339(moment),
            },
        )
        backup = str(dig(restore, "spec", "backupName") or "")
        record = RestoreFinished(
            name_of(restore), backup, "FailedValidation", None, moment, 0, 0, 0
        )
        self._world.truth.record_restore(record)

    # -- planning ------------------------------------------------------------------------------

    def _plan(self, spec: Obj, manifests: list[Obj]) -> list[tuple[ResourceType | None, Obj]]:
        wanted = [
            (self._world.api.registry.by_kind(str(m.get("apiVersion")), str(m.get("kind"))), m)
            for m in manifests
        ]
        kept = [(rt, m) for rt, m in wanted if _selected(spec, rt, m)]
        return sorted(kept, key=lambda pair: _restore_order(pair[0]))

    # -- progress ------------------------------------------------------------------------------

    def _advance(self, run: _Run, now: float) -> None:
        restore = self._world.store.read(self._restores, run.namespace, run.name)
        if restore is None:
            self._run = None  # deleted while running: free the queue
            return
        duration = max(self._world.profile.restore_duration_s, 1e-9)
        fraction = min((now - run.started) / duration, 1.0)
        if run.fault is not None and run.fault.hang:
            self._hang(restore, run, fraction)
            return
        if fraction < 1.0:
            self._write_progress(restore, run, fraction)
            return
        if self._waits_for_namespaces(run, now):
            return
        self._finish(restore, run)

    def _waits_for_namespaces(self, run: _Run, now: float) -> bool:
        """Velero's rule: a target namespace still Terminating is waited for, up to its
        resource-terminating timeout, then created afresh; past the timeout, what goes in it
        fails."""
        terminating = {
            namespace
            for namespace in _target_namespaces(run)
            if dig(self._world.store.read(self._namespaces, "", namespace), "status", "phase")
            == "Terminating"
        }
        if not terminating:
            return False
        if run.waiting_since is None:
            run.waiting_since = now
        if now - run.waiting_since < self._world.profile.restore_namespace_wait_s:
            return True
        run.abandoned = frozenset(terminating)
        for namespace in sorted(terminating):
            message = f"error getting namespace {namespace}: timed out waiting for the condition"
            run.say("errors", None, message, scope="velero")
        return False

    def _write_progress(self, restore: Obj, run: _Run, fraction: float) -> None:
        total = len(run.items)
        done = min(math.floor(total * fraction), total)
        if dig(restore, "status", "progress", "itemsRestored") != done:
            self._write(restore, {"progress": {"totalItems": total, "itemsRestored": done}})

    def _hang(self, restore: Obj, run: _Run, fraction: float) -> None:
        assert run.fault is not None
        late = run.fault.phase in _LATE_HANG_PHASES
        if late and fraction >= 1.0 and not run.restored_items:
            self._restore_items(run)
            self._write(
                restore,
                {
                    "phase": run.fault.phase,
                    "progress": {"totalItems": len(run.items), "itemsRestored": len(run.items)},
                },
            )
        elif not late and dig(restore, "status", "phase") != run.fault.phase:
            self._write(restore, {"phase": run.fault.phase})
        elif not late:
            self._write_progress(restore, run, min(fraction, 0.5))  # stuck half way

    def _finish(self, restore: Obj, run: _Run) -> None:
        if run.fault is None or run.fault.phase != "Failed":
            self._restore_items(run)
        moment = self._world.clock.now()
        status = _final_status(run, rfc3339(moment))
        self._write(restore, status)
        run.log_info(moment, "restore completed")
        log = "\n".join(run.log) + "\n"
        self._contents.put_restore_files(run.name, run.results, run.resource_list(), log)
        record = RestoreFinished(
            name=run.name,
            backup_name=run.backup,
            phase=status["phase"],
            started_at=run.started_at,
            finished_at=moment,
            items_restored=status["progress"]["itemsRestored"],
            warnings=run.counts["warnings"],
            errors=int(status.get("errors", 0)),
        )
        self._world.truth.record_restore(record)
        self._run = None

    # -- creating objects ----------------------------------------------------------------------

    def _restore_items(self, run: _Run) -> None:
        run.restored_items = True
        mapping = run.spec.get("namespaceMapping") or {}
        for rt, manifest in run.items:
            if rt is None:  # a kind this cluster does not serve
                run.say("errors", None, f"no API resource serves {resource_key(manifest)}")
                continue
            if rt.plural == "namespaces":  # created when missing, never restored as an item
                self._ensure_namespace(mapping.get(name_of(manifest), name_of(manifest)), run)
                continue
            obj = _restored_copy(rt, manifest, mapping, run)
            if not self._passed_over(rt, manifest, obj, run):
                self._create(rt, obj, run)

    def _passed_over(self, rt: ResourceType, manifest: Obj, obj: Obj, run: _Run) -> bool:
        """Velero's items it never creates: a finished Pod or Job, left out of the resource
        list and only logged, and a mirror pod, listed as skipped."""
        now = self._world.clock.now()
        if rt.plural in ("pods", "jobs") and _finished(manifest):
            self._ensure_namespace(namespace_of(obj), run)  # as for any namespaced item
            where = item_name(namespace_of(manifest), name_of(manifest))
            run.log_info(now, f"{where} is complete - skipping")
            return True
        annotations = meta(manifest).get("annotations") or {}
        if rt.plural == "pods" and MIRROR_POD_ANNOTATION in annotations:
            run.actions[(resource_key(obj), namespace_of(obj), name_of(obj))] = "skipped"
            run.log_info(now, "Not restoring pod because it's a mirror pod")
            return True
        return False

    def _create(self, rt: ResourceType, obj: Obj, run: _Run) -> None:
        namespace = namespace_of(obj) if rt.namespaced else None
        key = (resource_key(obj), namespace or "", name_of(obj))
        if namespace in run.abandoned:
            run.actions[key] = "failed"
            return
        try:
            if namespace is not None:
                self._ensure_namespace(namespace, run)
            self._world.api.create(rt, namespace, obj)
            run.actions[key] = "created"
        except ApiError as error:
            if error.reason != "AlreadyExists":
                where = item_name(namespace, name_of(obj))
                run.say("errors", namespace, f"error restoring {rt.plural}/{where}: {error}")
                run.actions[key] = "failed"
            elif rt.plural == "serviceaccounts":
                self._merge_service_account(rt, namespace, obj, run, key)
            elif run.spec.get("existingResourcePolicy") == "update":
                self._update_existing(rt, namespace, obj, run, key)
            else:
                self._skip_existing(rt, namespace, obj, run, key)

    def _skip_existing(
        self, rt: ResourceType, namespace: str | None, obj: Obj, run: _Run, key: ItemKey
    ) -> None:
        """Velero's rule: an existing object equal to the backed-up one is skipped quietly; one
        that differs is a warning, and the item is listed as failed."""
        existing = self._world.store.read(rt, namespace or "", name_of(obj))
        if existing is not None and _same(existing, obj):
            run.actions[key] = "skipped"
            return
        kind = str(obj.get("kind"))
        said = (
            f'{kind} "{name_of(obj)}"'
            if run.spec.get("existingResourcePolicy")
            else (f"{kind}:{name_of(obj)}")
        )
        run.say(
            "warnings",
            namespace,
            f"could not restore, {said} already exists. Warning: the in-cluster version is "
            "different than the backed-up version",
        )
        run.actions[key] = "failed"

    def _merge_service_account(
        self, rt: ResourceType, namespace: str | None, obj: Obj, run: _Run, key: ItemKey
    ) -> None:
        """Velero's rule for a ServiceAccount that exists (every namespace has ``default``): the
        backed-up one's secrets and image pull secrets are added to it, the rest is kept; no
        change leaves it skipped, quietly."""
        existing = self._world.store.read(rt, namespace or "", name_of(obj)) or {}
        merged = {
            field: _union(existing.get(field), obj.get(field))
            for field in ("secrets", "imagePullSecrets")
        }
        changed = {field: refs for field, refs in merged.items() if refs != existing.get(field)}
        if not changed:
            run.actions[key] = "skipped"
            return
        self._patch_existing(rt, namespace, name_of(obj), changed, run, key)

    def _update_existing(
        self, rt: ResourceType, namespace: str | None, obj: Obj, run: _Run, key: ItemKey
    ) -> None:
        patch = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        self._patch_existing(rt, namespace, name_of(obj), patch, run, key)

    def _patch_existing(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        patch: Obj,
        run: _Run,
        key: ItemKey,
    ) -> None:
        """Merge-patch the existing object: updated, or failed with Velero's warning."""
        try:
            self._world.api.patch(rt, namespace, name, "application/merge-patch+json", patch)
            run.actions[key] = "updated"
        except ApiError as error:
            run.say("warnings", namespace, f"could not update {name}: {error}")
            run.actions[key] = "failed"

    def _ensure_namespace(self, namespace: str, run: _Run) -> None:
        if self._world.store.read(self._namespaces, "", namespace) is not None:
            return
        body = {"metadata": {"name": namespace, "labels": _velero_labels(run)}}
        try:
            self._world.api.create(self._namespaces, None, body)
            run.actions[("v1/Namespace", "", namespace)] = "created"
        except ApiError as error:
            if error.reason != "AlreadyExists":
                raise
        self._furnish(namespace)

    # -- writing -------------------------------------------------------------------------------

    def _write(self, restore: Obj, changes: Obj) -> None:
        def write(found: Obj) -> None:
            child(found, "status").update(changes)

        self._world.store.mutate(self._restores, namespace_of(restore), name_of(restore), write)

    def _set_backup_name(self, restore: Obj, backup_name: str) -> None:
        def write(found: Obj) -> None:
            child(found, "spec")["backupName"] = backup_name

        self._world.store.mutate(self._restores, namespace_of(restore), name_of(restore), write)


def _restore_order(rt: ResourceType | None) -> tuple[int, str]:
    """Where Velero restores a resource's items: by its priorities, then alphabetically (a
    kind this cluster does not serve last, where its error is said)."""
    if rt is None:
        return len(_PRIORITIES) + 1, ""
    name = rt.qualified
    if name in _PRIORITIES:
        return _PRIORITIES.index(name), ""
    return len(_PRIORITIES), name


def _finished(manifest: Obj) -> bool:
    """Velero's ``isCompleted``: a Pod that Succeeded or Failed, a Job with a completionTime
    (a failed Job has none, and is restored)."""
    if manifest.get("kind") == "Pod":
        return dig(manifest, "status", "phase") in ("Succeeded", "Failed")
    return bool(dig(manifest, "status", "completionTime"))


def _target_namespaces(run: _Run) -> set[str]:
    """The namespaces a restore's items go to (mapped), namespaces restored as such included."""
    mapping = run.spec.get("namespaceMapping") or {}
    found = set()
    for rt, manifest in run.items:
        source = (
            name_of(manifest)
            if rt is not None and rt.plural == "namespaces"
            else namespace_of(manifest)
        )
        if source:
            found.add(mapping.get(source, source))
    return found


def _final_status(run: _Run, now: str) -> Obj:
    fault = run.fault
    errors = run.counts["errors"] + (fault.errors if fault else 0)
    phase = fault.phase if fault else ("PartiallyFailed" if errors else "Completed")
    total = len(run.items)
    restored = 0 if phase == "Failed" else total
    status: Obj = {
        "phase": phase,
        "completionTimestamp": now,
        "progress": {"totalItems": total, "itemsRestored": restored},
    }
    counts = (("warnings", run.counts["warnings"]), ("errors", errors))
    status.update({key: count for key, count in counts if count})  # Velero omits zeros
    if fault and fault.failure_reason:
        status["failureReason"] = fault.failure_reason
    return status


def _same(existing: Obj, restored: Obj) -> bool:
    """Equal as Velero compares them: everything but server-set metadata and status."""

    def essence(obj: Obj) -> Obj:
        kept = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
        metadata = obj.get("metadata") or {}
        kept["labels"] = metadata.get("labels") or {}
        kept["annotations"] = metadata.get("annotations") or {}
        return kept

    labelled = clone(existing)
    child(labelled, "metadata", "labels").update(dig(restored, "metadata", "labels") or {})
    return essence(labelled) == essence(restored)


def _union(kept: object, added: object) -> list[Obj] | None:
    """``kept`` references, then those of ``added`` it lacks (by name); None when both are."""
    have = [r for r in kept if isinstance(r, dict)] if isinstance(kept, list) else []
    more = [r for r in added if isinstance(r, dict)] if isinstance(added, list) else []
    names = {r.get("name") for r in have}
    union = have + [r for r in more if r.get("name") not in names]
    return union or (None if kept is None else have)


def _velero_labels(run: _Run) -> dict[str, str]:
    return {"velero.io/backup-name": run.backup, "velero.io/restore-name": run.name}


def _names_of(rt: ResourceType | None, manifest: Obj) -> set[str]:
    """Every way a restore spec may name this item's resource."""
    if rt is None:
        return {str(manifest.get("kind", "")).lower()}
    return {rt.plural, rt.qualified, rt.singular, rt.kind.lower(), *rt.short_names}


def _in(names: set[str], listed: list[str] | None, *, default: bool) -> bool:
    if not listed:
        return default
    return "*" in listed or bool(names & set(listed))


def _selected(spec: Obj, rt: ResourceType | None, manifest: Obj) -> bool:
    source_ns = (
        name_of(manifest)
        if rt is not None and rt.plural == "namespaces"
        else namespace_of(manifest)
    )
    cluster_scoped = rt is not None and not rt.namespaced and rt.plural != "namespaces"
    if cluster_scoped and spec.get("includeClusterResources") is False:
        return False
    names = _names_of(rt, manifest)
    return (
        (cluster_scoped or _in({source_ns}, spec.get("includedNamespaces"), default=True))
        and not _in({source_ns}, spec.get("excludedNamespaces"), default=False)
        and _in(names, spec.get("includedResources"), default=True)
        and not _in(names, spec.get("excludedResources"), default=False)
        and selector_from_object(spec.get("labelSelector")).matches(manifest)
    )


def _restored_copy(rt: ResourceType, manifest: Obj, mapping: dict[str, str], run: _Run) -> Obj:
    obj = clone(manifest)
    obj.pop("status", None)
    metadata = meta(obj)
    for key in _SERVER_META:
        metadata.pop(key, None)
    if rt.plural == "namespaces":
        metadata["name"] = mapping.get(name_of(obj), name_of(obj))
    elif rt.namespaced:
        metadata["namespace"] = mapping.get(namespace_of(obj), namespace_of(obj))
    child(obj, "metadata", "labels").update(_velero_labels(run))
    if rt.plural == "services":
        _reset_service(obj, preserve_node_ports=bool(run.spec.get("preserveNodePorts")))
    return obj


def _reset_service(service: Obj, *, preserve_node_ports: bool) -> None:
    spec = child(service, "spec")
    if spec.get("clusterIP") != "None":  # headless services keep "None"
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    if not preserve_node_ports:
        for port in spec.get("ports") or []:
            port.pop("nodePort", None)
