"""``velero.restore``: a Velero Restore with namespace mappings, waited to a terminal phase."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue, model_validator

from drill.errors import StepFailed
from drill.fieldtypes import Duration, KubeName, exactly_one
from drill.steps._base import RecoveryPoint, StepEnv, StepParams, StepResult, StepTimedOut, StepType
from drill.steps._velero import newest_completed, require_available_location
from providers.protocols import BackupInfo, RestoreRequest, RestoreStatus

# How long one watch may block: the most a signal waits before the step notices it.
WATCH_WINDOW_S = 5.0


class VeleroRestoreParams(StepParams):
    backup: str | None = None
    schedule: str | None = None
    velero_namespace: KubeName = "velero"
    include_namespaces: list[KubeName] = Field(default_factory=list)
    exclude_namespaces: list[KubeName] = Field(default_factory=list)
    namespace_mapping: dict[KubeName, KubeName] = Field(default_factory=dict)
    include_resources: list[str] = Field(default_factory=list)
    exclude_resources: list[str] = Field(default_factory=list)
    label_selector: str | None = None
    restore_pvs: bool = True
    # Cluster-scoped objects survive deleting the mapped namespace, so drills leave them out.
    include_cluster_resources: bool = False
    existing_resource_policy: Literal["none", "update"] = "none"
    allow_partially_failed: bool = False
    item_operation_timeout: Duration | None = None

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

    def describe(self, params: VeleroRestoreParams) -> str:
        source = f"backup {params.backup}" if params.backup else f"latest of {params.schedule}"
        mapping = ", ".join(f"{src} -> {dst}" for src, dst in params.namespace_mapping.items())
        return f"restore {source}" + (f" mapping {mapping}" if mapping else "")

    def capture_prior_state(self, params: VeleroRestoreParams, env: StepEnv) -> JsonValue:
        kube = env.providers.kube(env.cluster())
        existing: list[JsonValue] = [
            ns for ns in params.target_namespaces() if kube.get_namespace(ns) is not None
        ]
        return {"restore": env.object_name("drill"), "existing_namespaces": existing}

    def run(self, params: VeleroRestoreParams, env: StepEnv) -> StepResult:
        velero = env.providers.velero(env.cluster(), params.velero_namespace)
        backup = newest_completed(velero, params.schedule, params.backup, None)
        if backup is None or backup.started_at is None:
            source = params.backup or f"schedule {params.schedule}"
            raise StepFailed(f"no Completed backup to restore from ({source})")
        require_available_location(velero, backup)
        name = env.object_name("drill")
        velero.create_restore(_request(name, backup, params, env.run_labels()))
        env.log.info("restore_created", restore=name, backup=backup.name)
        final = self._wait(name, params, env)
        return StepResult(
            summary=_summary(final, backup),
            facts=_facts(final, backup),
            recovery_point=RecoveryPoint(
                at=backup.started_at, source=f"velero backup {backup.name} startTimestamp"
            ),
        )

    def _wait(self, name: str, params: VeleroRestoreParams, env: StepEnv) -> RestoreStatus:
        velero = env.providers.velero(env.cluster(), params.velero_namespace)
        last = RestoreStatus(name=name, phase="New")
        while env.remaining_s() > 0:
            window = min(WATCH_WINDOW_S, env.remaining_s())
            for status in velero.watch_restore(name, window):
                last = status
                if status.terminal:
                    return _judge(status, params)
            if env.cancel.is_set():
                env.wait(0, f"restore {name}")  # raises Interrupted
        raise StepTimedOut(
            f"restore {name} stuck in phase {last.phase} "
            f"({last.items_restored}/{last.total_items} items restored)"
        )

    def undo(self, params: VeleroRestoreParams, prior: JsonValue, env: StepEnv) -> str:
        if not isinstance(prior, dict):
            raise StepFailed("journal holds no prior state for this restore")
        restore = str(prior.get("restore", env.object_name("drill")))
        existing = prior.get("existing_namespaces")
        kept = set(existing) if isinstance(existing, list) else set()
        env.providers.velero(env.cluster(), params.velero_namespace).delete_restore(restore)
        kube = env.providers.kube(env.cluster())
        # Only namespaces that did not exist before this run: never production.
        created = [ns for ns in params.target_namespaces() if ns not in kept]
        for namespace in created:
            kube.delete_namespace(namespace)
        removed = f" and namespaces {', '.join(created)}" if created else ""
        return f"deleted restore {restore}{removed}"


def _request(
    name: str, backup: BackupInfo, params: VeleroRestoreParams, labels: dict[str, str]
) -> RestoreRequest:
    return RestoreRequest(
        name=name,
        # The backup is resolved here, not by Velero from scheduleName, so the recovery point
        # reported is exactly the backup that was restored.
        backup_name=backup.name,
        schedule_name=None,
        included_namespaces=params.include_namespaces,
        namespace_mapping=params.namespace_mapping,
        included_resources=params.include_resources,
        excluded_resources=params.exclude_resources,
        label_selector=params.label_selector,
        restore_pvs=params.restore_pvs,
        include_cluster_resources=params.include_cluster_resources,
        existing_resource_policy=params.existing_resource_policy,
        labels=labels,
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
