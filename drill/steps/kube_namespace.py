"""``kube.namespace``: create or delete a namespace owned by this run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, JsonValue

from drill.errors import StepFailed
from drill.fieldtypes import KubeName
from drill.steps._base import (
    RUN_LABEL,
    ReadBack,
    Resource,
    StepEnv,
    StepParams,
    StepResult,
    StepType,
)
from drill.steps._changes import StillThere, await_namespace_gone, read_back_gone

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import NamespaceInfo


class KubeNamespaceParams(StepParams):
    action: Literal["create", "delete"] = Field(
        description="create a namespace labelled with the run id (undo deletes it), or delete "
        "one this run created.",
        examples=["create"],
    )
    name: KubeName = Field(description="The namespace.", examples=["dr-scratch"])


class KubeNamespace(StepType[KubeNamespaceParams]):
    name = "kube.namespace"
    params_model = KubeNamespaceParams
    summary = "creates a namespace labelled with the run id, or deletes one this run created"
    mutating = True
    needs_context = True
    default_timeout_s = 300.0

    def writes(self, params: KubeNamespaceParams, cluster: str) -> frozenset[Resource]:
        return frozenset({Resource("namespace", cluster, params.name)})

    def describe(self, params: KubeNamespaceParams) -> str:
        return f"{params.action} namespace {params.name} (owned by this run)"

    def capture_prior_state(self, params: KubeNamespaceParams, env: StepEnv) -> JsonValue:
        existing = env.providers.kube(env.cluster()).get_namespace(params.name)
        # One still terminating is going: a create waits for it and makes the namespace anew.
        return {"existed": existing is not None and existing.phase != "Terminating"}

    def run(self, params: KubeNamespaceParams, env: StepEnv) -> StepResult:
        kube = env.providers.kube(env.cluster())
        existing = kube.get_namespace(params.name)
        if params.action == "create":
            return _create(params.name, existing, env)
        if existing is None:
            return StepResult(summary=f"namespace {params.name} is already gone")
        self._require_owned(existing.labels.get(RUN_LABEL), params.name, env)
        kube.delete_namespace(params.name)
        return StepResult(summary=f"deleted namespace {params.name}")

    def undo(self, params: KubeNamespaceParams, prior: JsonValue, env: StepEnv) -> str:
        if params.action == "delete":
            return f"namespace {params.name} stays deleted (a deletion cannot be undone)"
        kube = env.providers.kube(env.cluster())
        existing = kube.get_namespace(params.name)
        if existing is None:
            return f"namespace {params.name} already gone"
        if not env.created_by_this_run(existing.labels):
            return f"namespace {params.name} left alone: not created by this run"
        kube.delete_namespace(params.name)
        return f"deleted namespace {params.name}"

    def verify_undone(
        self, params: KubeNamespaceParams, prior: JsonValue, env: StepEnv
    ) -> list[ReadBack]:
        """A namespace of this run's (created, or deleted: the step deletes only its own) must
        be gone; one that is not this run's must be as it was: there if it was there."""
        existed = prior.get("existed") if isinstance(prior, dict) else None
        if not isinstance(existed, bool):
            raise StepFailed("journal holds no prior state for this namespace")
        kube = env.providers.kube(env.cluster())
        target = self.undo_target(params)
        before = "there" if existed else "absent"
        found = kube.get_namespace(params.name)
        if found is not None and not env.created_by_this_run(found.labels):
            now = f"there ({found.phase}), not this run's"
            return [ReadBack.compared(target, existed, now, before)]
        if params.action == "create" and existed:
            # Someone else's namespace, which the step refused to take over, is gone.
            return [ReadBack.compared(target, False, "absent", before)]
        return [read_back_gone(target, lambda: _left(kube.get_namespace(params.name)), env)]

    def undo_target(self, params: KubeNamespaceParams) -> str:
        return f"namespace {params.name}"

    @staticmethod
    def _require_owned(owner: str | None, name: str, env: StepEnv) -> None:
        if owner != env.run_id:
            raise StepFailed(
                f"refusing to delete namespace {name}: it was not created by this run "
                f"(label {RUN_LABEL}={owner or 'absent'})"
            )


def _left(found: NamespaceInfo | None) -> StillThere | None:
    """A namespace a rollback expects gone: terminating is going, anything else stays."""
    if found is None:
        return None
    return StillThere(f"namespace {found.name} still {found.phase}", found.phase == "Terminating")


def _create(name: str, existing: NamespaceInfo | None, env: StepEnv) -> StepResult:
    kube = env.providers.kube(env.cluster())
    if existing is not None and env.created_by_this_run(existing.labels):
        return StepResult(summary=f"namespace {name} created by this run's earlier try")
    if existing is not None and existing.phase == "Terminating":
        await_namespace_gone(name, env)
        existing = None
    if existing is not None:
        owner = existing.labels.get(RUN_LABEL)
        hint = f" by run {owner} (drill rollback {owner})" if owner else " (not by drill)"
        raise StepFailed(f"namespace {name} already exists, created{hint}")
    kube.create_namespace(name, env.run_labels())
    return StepResult(summary=f"created namespace {name}")
