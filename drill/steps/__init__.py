"""Step types: one module each, registered by name in the one table below.

Each module defines a params model (the plan's ``with:`` block) and a ``StepType`` subclass.
A step talks to the outside only through ``providers`` protocols handed to it in ``StepEnv``.

Must not: read the wall clock, sleep except through ``StepEnv.wait``, import an SDK, keep
state between runs, or decide rollback order (the executor does).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from drill.lazy import lazy_exports
from drill.steps._base import (
    Cutover,
    Fact,
    Mode,
    Providers,
    ReadBack,
    ReadBackStatus,
    RecoveryPoint,
    RecoveryPointKind,
    Resource,
    StepEnv,
    StepParams,
    StepResult,
    StepTimedOut,
    StepType,
    Unverified,
    covers,
)
from drill.steps._http import HttpRequestParams, expand_env, unset_env

if TYPE_CHECKING:
    from drill.steps._restore_contents import KindTally, RestoreTally

# name -> "module:class". A step type's module (and what it imports) loads when the type is
# first looked up, so `drill validate` pays only for the types its plans use and `drill --help`
# for none. The order is the one `drill list --types` shows.
_REGISTERED = {
    "http.check": "drill.steps.http_check:HttpCheck",
    "velero.backup_fresh": "drill.steps.velero_backup_fresh:VeleroBackupFresh",
    "velero.restore": "drill.steps.velero_restore:VeleroRestore",
    "kube.scale": "drill.steps.kube_scale:KubeScale",
    "kube.wait_ready": "drill.steps.kube_wait_ready:KubeWaitReady",
    "kube.job": "drill.steps.kube_job:KubeJob",
    "kube.namespace": "drill.steps.kube_namespace:KubeNamespace",
    "kube.heartbeat": "drill.steps.kube_heartbeat:KubeHeartbeat",
    "job.recovery_point": "drill.steps.job_recovery_point:JobRecoveryPoint",
    "kube.reachable": "drill.steps.kube_reachable:KubeReachable",
    "cloud.reachable": "drill.steps.cloud_reachable:CloudReachable",
    "gcs.backup_fresh": "drill.steps.gcs_backup_fresh:GcsBackupFresh",
    "s3.backup_fresh": "drill.steps.s3_backup_fresh:S3BackupFresh",
    "gcs.heartbeat": "drill.steps.gcs_heartbeat:GcsHeartbeat",
    "s3.heartbeat": "drill.steps.s3_heartbeat:S3Heartbeat",
    "dns.switch": "drill.steps.dns_switch:DnsSwitch",
    "backend.switch": "drill.steps.backend_switch:BackendSwitch",
}

AnyStepType = StepType[Any]


class _Registry(Mapping[str, AnyStepType]):
    """Step types by name: the names are known at once, each type is built on first lookup."""

    def __init__(self, registered: Mapping[str, str]) -> None:
        self._registered = registered
        self._built: dict[str, AnyStepType] = {}

    def __getitem__(self, name: str) -> AnyStepType:
        built = self._built.get(name)
        if built is None:
            module, _, attribute = self._registered[name].partition(":")
            step_class: type[AnyStepType] = getattr(importlib.import_module(module), attribute)
            # setdefault: two steps of a parallel stage may look a type up at once.
            built = self._built.setdefault(name, step_class())
        return built

    def __contains__(self, name: object) -> bool:
        return name in self._registered

    def __iter__(self) -> Iterator[str]:
        return iter(self._registered)

    def __len__(self) -> int:
        return len(self._registered)


STEP_TYPES: Mapping[str, AnyStepType] = _Registry(_REGISTERED)

__all__ = [
    "STEP_TYPES",
    "AnyStepType",
    "Cutover",
    "Fact",
    "HttpRequestParams",
    "KindTally",
    "Mode",
    "Providers",
    "ReadBack",
    "ReadBackStatus",
    "RecoveryPoint",
    "RecoveryPointKind",
    "Resource",
    "RestoreTally",
    "StepEnv",
    "StepParams",
    "StepResult",
    "StepTimedOut",
    "StepType",
    "Unverified",
    "covers",
    "expand_env",
    "unset_env",
]
# A restore's tallies load with the report that shows them, not with every plan check.
if not TYPE_CHECKING:  # type checkers see the imports above, and flag unknown names
    __getattr__ = lazy_exports(
        __name__, {"KindTally": "_restore_contents", "RestoreTally": "_restore_contents"}
    )
