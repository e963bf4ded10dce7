"""``velero.restore``: a Velero Restore with namespace mappings, waited to a terminal phase.

The backup is resolved here, at t0: with a schedule, the newest that had completed by t0 (so
``--disaster-at`` restores what would have existed then); a named backup that completed after
t0 is refused. Its ``startTimestamp`` is the recovery point from backup metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field, JsonValue, model_validator

from drill.errors import Conflict, StepFailed
from drill.fieldtypes import Duration, KubeName, KubeObjectName, LabelSelector, exactly_one
from drill.steps._base import (
    RUN_LABEL,
    ReadBack,
    RecoveryPoint,
    Resource,
    StepEnv,
    StepParams,
    StepResult,
    StepType,
    Unverified,
)
from drill.steps._changes import StillThere, await_namespace_gone, read_back_gone, watch_until
from drill.steps._velero import (
    ScheduleName,
    completed_backups,
    latest_at_t0,
    require_available_location,
)

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types, nor a restore's tallies.
    from drill.steps._restore_contents import RestoreTally
    from providers.protocols import BackupInfo, KubeApi, RestoreRequest, RestoreStatus, VeleroApi


class VeleroRestoreParams(StepParams):
    backup: KubeObjectName | None = Field(
        default=None,
        description="The Velero Backup to restore. Give exactly one of backup or schedule.",
        examples=["daily-backup-20260101020000"],
    )
    schedule: ScheduleName | None = Field(
        default=None,
        description="Restore the newest Completed backup of this Velero Schedule (chosen by "
        "drill, so the report names the backup restored).",
        examples=["daily-backup"],
    )
    velero_namespace: KubeName = Field(
        default="velero", description="The namespace Velero runs in.", examples=["velero"]
    )
    include_namespaces: list[KubeName] = Field(
        default_factory=list,
        description="The backup's namespaces to restore (empty: all of them, which no drill "
        "may do).",
        examples=[["production"]],
    )
    exclude_namespaces: list[KubeName] = Field(
        default_factory=list,
        description="Namespaces of the backup left out.",
        examples=[["kube-system"]],
    )
    namespace_mapping: dict[KubeName, KubeName] = Field(
        default_factory=dict,
        description="Restore a namespace of the backup under another name: backup namespace "
        "-> namespace restored into. Undo deletes the namespaces the restore created.",
        examples=[{"production": "dr-test"}],
    )
    include_resources: list[str] = Field(
        default_factory=list,
        description="Only these resources (Velero's names: deployments, configmaps, "
        "persistentvolumeclaims...); empty: all.",
        examples=[["deployments", "services", "configmaps"]],
    )
    exclude_resources: list[str] = Field(
        default_factory=list,
        description="Resources left out.",
        examples=[["events"]],
    )
    label_selector: LabelSelector | None = Field(
        default=None,
        description="Only objects whose labels match this selector (key=value, key!=value, "
        "key in (a,b), key notin (a,b), key, !key, joined by commas).",
        examples=["app=api-server"],
    )
    restore_pvs: bool = Field(
        default=True,
        description="Restore persistent volumes from their snapshots.",
        examples=[False],
    )
    # Cluster-scoped objects survive deleting the mapped namespace, so drills leave them out.
    include_cluster_resources: bool = Field(
        default=False,
        description="Also restore cluster-scoped objects (they outlive the namespace undo "
        "deletes, so drills leave them out).",
        examples=[True],
    )
    existing_resource_policy: Literal["none", "update"] = Field(
        default="none",
        description="An object that already exists: none leaves it (a warning), update "
        "updates it from the backup.",
        examples=["update"],
    )
    allow_partially_failed: bool = Field(
        default=False,
        description="Pass when the restore ends PartiallyFailed, not only Completed.",
        examples=[True],
    )
    item_operation_timeout: Duration | None = Field(
        default=None,
        description="Velero's itemOperationTimeout: how long its plugins' asynchronous "
        "operations (volume data) may take (default: Velero's).",
        examples=["4h"],
    )

    @model_validator(mode="after")
    def _one_source(self) -> VeleroRestoreParams:
        exactly_one(self, "backup", "schedule")
        return self

    def target_namespaces(self) -> list[str]:
        """Where restored objects land: mapped names, or the included ones unmapped."""
        mapped = [self.namespace_mapping.get(ns, ns) for ns in self.include_namespaces]
        return sorted(set(mapped) | set(self.namespace_mapping.values()))


class VeleroRestore(StepType[VeleroRestoreParams]):
    name = "velero.restore"
    params_model = VeleroRestoreParams
    summary = "creates a Velero Restore with namespace mappings and waits for it to finish"
    mutating = True
    needs_context = True
    default_timeout_s = 1800.0
    recovery_point_kind = "backup metadata"

    def writes(self, params: VeleroRestoreParams, cluster: str) -> frozenset[Resource]:
        """The namespaces restored into (what a restore of every namespace writes cannot be
        named: see ``unbounded``)."""
        targets = params.target_namespaces()
        return frozenset(Resource("namespace", cluster, name) for name in targets)

    def to_verify(self, params: VeleroRestoreParams, cluster: str) -> tuple[Unverified, ...]:
        """Which workloads a restore brings back is in the backup, not the plan; what the plan
        can show is that something later waits, or runs a Job, in each namespace it fills."""
        return tuple(
            Unverified(
                Resource("namespace", cluster, namespace),
                "restores into",
                f"add a later kube.wait_ready or kube.job in namespace {namespace}",
            )
            for namespace in params.target_namespaces()
        )

    def unbounded(self, params: VeleroRestoreParams) -> str | None:
        if params.include_namespaces:
            return None
        return (
            "this restore brings back every namespace of the backup under its own name; a drill "
            "names them in include_namespaces and maps each to a namespace of its own"
        )

    def restores_from(self, params: VeleroRestoreParams, cluster: str) -> frozenset[Resource]:
        names = _source_namespaces(params)
        return frozenset(Resource("namespace", cluster, name) for name in names)

    def describe(self, params: VeleroRestoreParams) -> str:
        source = (
            f"backup {params.backup}"
            if params.backup
            else f"the latest backup of {params.schedule} completed by t0"
        )
        mapping = ", ".join(f"{src} -> {dst}" for src, dst in params.namespace_mapping.items())
        return f"restore {source}" + (f" mapping {mapping}" if mapping else "")

    def capture_prior_state(self, params: VeleroRestoreParams, env: StepEnv) -> JsonValue:
        kube = env.providers.kube(env.cluster())
        existing: list[JsonValue] = []
        for namespace in params.target_namespaces():
            found = kube.get_namespace(namespace)
            # One still terminating is going: the restore waits and makes it anew, so undo
            # must delete it whole, as one this run created.
            if found is not None and found.phase != "Terminating":
                existing.append(namespace)
        return {"restore": env.object_name("drill"), "existing_namespaces": existing}

    def run(self, params: VeleroRestoreParams, env: StepEnv) -> StepResult:
        velero = env.providers.velero(env.cluster(), params.velero_namespace)
        source = f"backup {params.backup}" if params.backup else f"schedule {params.schedule}"
        backups = completed_backups(velero, params.schedule, params.backup, None)
        if not backups:
            raise StepFailed(f"no Completed backup to restore from ({source})")
        backup = latest_at_t0(backups, source, env)
        assert backup.started_at is not None, "completed_backups keeps only started ones"
        require_available_location(velero, backup)
        if env.mode == "drill":
            _require_new_namespaces(params, env)
        name = env.object_name("drill")
        try:
            velero.create_restore(_request(name, backup, params, env.run_labels()))
            env.log.info("restore_created", restore=name, backup=backup.name)
        except Conflict:
            # The name is this run's and this step's own: a retry adopts what the first
            # try created instead of restoring twice.
            env.log.info("restore_adopted", restore=name, backup=backup.name)
        final = self._wait(name, params, env)
        if env.mode == "drill":
            _require_only_this_restore(name, params, env)
        tally = _completeness(velero, final, backup, params, env)
        return StepResult(
            summary=_summary(final, backup) + _incomplete(tally),
            facts=_facts(final, backup),
            recovery_point=RecoveryPoint(
                at=backup.started_at, source=f"velero backup {backup.name} startTimestamp"
            ),
            restore=tally,
        )

    def _wait(self, name: str, params: VeleroRestoreParams, env: StepEnv) -> RestoreStatus:
        velero = env.providers.velero(env.cluster(), params.velero_namespace)

        def stuck(last: RestoreStatus | None) -> str:
            from providers.protocols import RestoreStatus

            last = last or RestoreStatus(name=name, phase="New")
            return (
                f"restore {name} stuck in phase {last.phase} "
                f"({last.items_restored}/{last.total_items} items restored)"
            )

        def watch(window_s: float) -> Iterator[RestoreStatus]:
            return velero.watch_restore(name, window_s)

        final = watch_until(
            watch,
            lambda s: s.terminal,
            f"restore {name}",
            stuck,
            env,
            progress=lambda s: f"{s.items_restored}/{s.total_items} items restored ({s.phase})",
        )
        return _judge(final, params)

    def undo(self, params: VeleroRestoreParams, prior: JsonValue, env: StepEnv) -> str:
        """Remove what the restore brought: namespaces that did not exist before the run go as
        a whole; from those that did (production, in live mode) only the objects Velero labelled
        with this restore's name. Then the Restore itself."""
        restore, kept = _prior(prior, env)
        velero = env.providers.velero(env.cluster(), params.velero_namespace)
        removed = _remove_restored(restore, sorted(kept), params, velero, env)
        velero.delete_restore(restore)
        kube = env.providers.kube(env.cluster())
        # Only namespaces that did not exist before this run: never production.
        created = [ns for ns in params.target_namespaces() if ns not in kept]
        for namespace in created:
            kube.delete_namespace(namespace)
        said = [f"deleted restore {restore}"]
        if created:
            said.append(f"namespaces {', '.join(created)}")
        if removed:
            said.append(f"{len(removed)} object(s) it restored ({_listed(removed)})")
        return " and ".join(said)

    def verify_undone(
        self, params: VeleroRestoreParams, prior: JsonValue, env: StepEnv
    ) -> list[ReadBack]:
        """Namespaces the restore created are gone; those that existed are still there and
        hold nothing the restore created; the Restore itself is gone."""
        restore, kept = _prior(prior, env)
        velero = env.providers.velero(env.cluster(), params.velero_namespace)
        read = [
            _read_back_namespace(namespace, restore, namespace in kept, params, velero, env)
            for namespace in params.target_namespaces()
        ]
        checks = [check for check in read if check is not None]

        def restore_left() -> StillThere | None:
            # Velero may hold a deleted Restore a while (its finalizer cleans up after it).
            found = velero.restore(restore)
            return None if found is None else StillThere(f"restore {restore} still there", True)

        checks.append(read_back_gone(f"restore {restore}", restore_left, env))
        return checks

    def undo_target(self, params: VeleroRestoreParams) -> str:
        return f"restore into {', '.join(params.target_namespaces())}"


# What a Velero restore brings into a namespace, controllers first so their dependents go with
# them; what the restore only labels (namespaces) or leaves to others (events) is not here.
RESTORED_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "CronJob",
    "Job",
    "ReplicaSet",
    "Pod",
    "Service",
    "Ingress",
    "NetworkPolicy",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "PersistentVolumeClaim",
)
RESTORE_NAME_LABEL = "velero.io/restore-name"


def _prior(prior: JsonValue, env: StepEnv) -> tuple[str, set[str]]:
    """The Restore's name and the target namespaces that existed before the run."""
    if not isinstance(prior, dict):
        raise StepFailed("journal holds no prior state for this restore")
    restore = str(prior.get("restore", env.object_name("drill")))
    existing = prior.get("existing_namespaces")
    return restore, {str(ns) for ns in existing} if isinstance(existing, list) else set()


def _read_back_namespace(
    namespace: str,
    restore: str,
    existed: bool,
    params: VeleroRestoreParams,
    velero: VeleroApi,
    env: StepEnv,
) -> ReadBack | None:
    """None for a namespace an earlier step of this run created: that step's own read-back
    checks it gone, with all the restore put in it."""
    kube = env.providers.kube(env.cluster())
    target = f"namespace {namespace}"
    if not existed:
        return read_back_gone(target, lambda: _namespace_left(kube, namespace), env)
    found = kube.get_namespace(namespace)
    if found is None or found.phase == "Terminating":
        now = "absent" if found is None else "Terminating"
        return ReadBack.compared(target, False, now, "there")
    if env.created_by_this_run(found.labels):
        return None
    since: datetime | None = None
    if params.existing_resource_policy == "update":
        started = velero.restore(restore)
        if started is None or started.started_at is None:
            why = f"restore {restore} is gone, so what it created cannot be told from what it "
            return ReadBack(target, "not verified", why + "updated (both carry its label)")
        since = started.started_at
    selector = f"{RESTORE_NAME_LABEL}={restore}"
    left = kube.labelled(namespace, selector, RESTORED_KINDS, created_since=since)
    if left:
        said = f"still holds {len(left)} object(s) restore {restore} created ({_listed(left)})"
        return ReadBack(target, "differs", said)
    return ReadBack(target, "equal", f"there, holding nothing restore {restore} created")


def _namespace_left(kube: KubeApi, namespace: str) -> StillThere | None:
    found = kube.get_namespace(namespace)
    if found is None:
        return None
    return StillThere(f"namespace {namespace} still {found.phase}", found.phase == "Terminating")


def _remove_restored(
    restore: str,
    namespaces: list[str],
    params: VeleroRestoreParams,
    velero: VeleroApi,
    env: StepEnv,
) -> list[str]:
    """Delete, in namespaces that existed before the run, only what carries this restore's
    label. With ``existing_resource_policy: update`` Velero also labels the objects it updated,
    so only those created since the restore started go; when that moment is unknown nothing
    is deleted and the undo fails, saying so."""
    kube = env.providers.kube(env.cluster())
    targets = [
        ns for ns in params.target_namespaces() if ns in namespaces and _outlives_run(kube, ns, env)
    ]
    if not targets:
        return []
    since: datetime | None = None
    if params.existing_resource_policy == "update":
        found = velero.restore(restore)
        if found is None:
            raise StepFailed(
                f"restore {restore} is gone, so what it created in {', '.join(targets)} cannot "
                f"be told from what it updated (both carry {RESTORE_NAME_LABEL}={restore}); "
                "nothing deleted: remove what it created by hand"
            )
        if found.started_at is None:
            return []  # it never started: it created nothing
        since = found.started_at
    selector = f"{RESTORE_NAME_LABEL}={restore}"
    removed: list[str] = []
    for namespace in targets:
        gone = kube.delete_labelled(namespace, selector, RESTORED_KINDS, created_since=since)
        removed += [f"{what} in {namespace}" for what in gone]
    env.log.info("restored_objects_removed", restore=restore, removed=removed)
    return removed


def _outlives_run(kube: KubeApi, namespace: str, env: StepEnv) -> bool:
    """True for a namespace that is there and was not made by this run: one this run made is
    removed whole by the undo of the step that made it (a drill's scratch namespace)."""
    found = kube.get_namespace(namespace)
    return found is not None and not env.created_by_this_run(found.labels)


def _listed(things: list[str], at_most: int = 8) -> str:
    shown = ", ".join(things[:at_most])
    return shown + (f" and {len(things) - at_most} more" if len(things) > at_most else "")


def _request(
    name: str, backup: BackupInfo, params: VeleroRestoreParams, labels: dict[str, str]
) -> RestoreRequest:
    from providers.protocols import RestoreRequest

    return RestoreRequest(
        name=name,
        # The backup is resolved here, not by Velero from scheduleName, so the recovery point
        # reported is exactly the backup that was restored.
        backup_name=backup.name,
        schedule_name=None,
        included_namespaces=params.include_namespaces,
        excluded_namespaces=params.exclude_namespaces,
        namespace_mapping=params.namespace_mapping,
        included_resources=params.include_resources,
        excluded_resources=params.exclude_resources,
        label_selector=params.label_selector,
        restore_pvs=params.restore_pvs,
        include_cluster_resources=params.include_cluster_resources,
        existing_resource_policy=params.existing_resource_policy,
        labels=labels,
        item_operation_timeout_s=params.item_operation_timeout,
    )


def _judge(status: RestoreStatus, params: VeleroRestoreParams) -> RestoreStatus:
    if status.phase == "Completed":
        return status
    if status.phase == "PartiallyFailed" and params.allow_partially_failed:
        return status
    if status.phase == "FailedValidation":
        errors = "; ".join(status.validation_errors) or "no reason given"
        raise StepFailed(f"restore {status.name} failed validation: {errors}")
    reason = f": {status.failure_reason}" if status.failure_reason else ""
    raise StepFailed(
        f"restore {status.name} ended {status.phase}{reason} "
        f"({status.errors} errors, {status.warnings} warnings)"
    )


def _summary(status: RestoreStatus, backup: BackupInfo) -> str:
    return (
        f"restore {status.name} from {backup.name}: {status.phase}, "
        f"{status.items_restored}/{status.total_items} items, {status.warnings} warnings"
    )


def _facts(status: RestoreStatus, backup: BackupInfo) -> dict[str, str | int]:
    return {
        "restore": status.name,
        "backup": backup.name,
        "phase": status.phase,
        "items_restored": status.items_restored,
        "total_items": status.total_items,
        "warnings": status.warnings,
        "errors": status.errors,
    }


def _completeness(
    velero: VeleroApi,
    status: RestoreStatus,
    backup: BackupInfo,
    params: VeleroRestoreParams,
    env: StepEnv,
) -> RestoreTally:
    from drill.steps._restore_contents import Scope, tally_restore

    scope = Scope(
        include_namespaces=tuple(params.include_namespaces),
        exclude_namespaces=tuple(params.exclude_namespaces),
        namespace_mapping=params.namespace_mapping,
        include_resources=tuple(params.include_resources),
        exclude_resources=tuple(params.exclude_resources),
        label_selector=params.label_selector,
        include_cluster_resources=params.include_cluster_resources,
    )
    # What is left of the step's time, but never so little that a reply cannot come.
    timeout_s = max(min(env.remaining_s(), _COMPLETENESS_TIMEOUT_S), 1.0)
    tally = tally_restore(velero, status.name, backup.name, scope, timeout_s)
    env.log.info("restore_completeness", complete=tally.complete, reason=tally.reason)
    return tally


_COMPLETENESS_TIMEOUT_S = 30.0


def _incomplete(tally: RestoreTally) -> str:
    if tally.complete is None:
        return "; completeness not measured"
    return "" if tally.complete else f"; INCOMPLETE: {tally.reason}"


def _source_namespaces(params: VeleroRestoreParams) -> set[str]:
    """Namespaces of the backup the restore brings back, as far as the plan names them."""
    named = set(params.include_namespaces) | set(params.namespace_mapping)
    return named - set(params.exclude_namespaces)


def _require_only_this_restore(name: str, params: VeleroRestoreParams, env: StepEnv) -> None:
    """A drill's namespaces are new, so whatever a Velero restore put there is this one's.
    Objects another restore labelled mean another run restores into them at the same time
    (another plan with the same drill namespace): what verify would read is not this
    restore's, and nothing measured from it would be true of this backup."""
    kube = env.providers.kube(env.cluster())
    others = f"{RESTORE_NAME_LABEL},{RESTORE_NAME_LABEL}!={name}"
    for namespace in sorted(params.target_namespaces()):
        # The workloads a restore brings, which drill's account may list where it restores.
        found = kube.labelled(namespace, others, ("Deployment", "StatefulSet"))
        if found:
            raise StepFailed(
                f"namespace {namespace} holds objects another Velero restore brought, not "
                f"restore {name}: {_listed(found)}; another run restores into it at the same "
                "time, and verify would check its objects. Drill one plan into a namespace at "
                "a time"
            )


def _require_new_namespaces(params: VeleroRestoreParams, env: StepEnv) -> None:
    """A drill restores only into namespaces this run creates: never over what exists."""
    kube = env.providers.kube(env.cluster())
    for namespace in sorted(params.target_namespaces()):
        existing = kube.get_namespace(namespace)
        if existing is not None and existing.phase == "Terminating":
            await_namespace_gone(namespace, env)  # Velero, too, waits for it to go
            continue
        if existing is None or env.created_by_this_run(existing.labels):
            continue
        owner = existing.labels.get(RUN_LABEL)
        made_by = f"by drill run {owner}" if owner else "not by drill"
        raise StepFailed(
            f"refused: namespace {namespace} already exists ({existing.phase}, created "
            f"{made_by}); a drill restores only into namespaces it creates. Map the restore to "
            "a namespace that does not exist, or remove that one first"
        )
