"""Step types: one module each, registered in the one table below.

Each module defines a params model (the plan's ``with:`` block) and a ``StepType`` subclass.
A step talks to the outside only through ``providers`` protocols handed to it in ``StepEnv``.

Must not: read the wall clock, sleep except through ``StepEnv.wait``, import an SDK, keep
state between runs, or decide rollback order (the executor does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drill.steps._base import (
    Fact,
    Mode,
    Providers,
    RecoveryPoint,
    Resource,
    StepEnv,
    StepParams,
    StepResult,
    StepTimedOut,
    StepType,
)
from drill.steps.backend_switch import BackendSwitch
from drill.steps.cloud_reachable import CloudReachable
from drill.steps.dns_switch import DnsSwitch
from drill.steps.gcs_backup_fresh import GcsBackupFresh
from drill.steps.http_check import HttpCheck
from drill.steps.kube_job import KubeJob
from drill.steps.kube_namespace import KubeNamespace
from drill.steps.kube_reachable import KubeReachable
from drill.steps.kube_scale import KubeScale
from drill.steps.kube_wait_ready import KubeWaitReady
from drill.steps.s3_backup_fresh import S3BackupFresh
from drill.steps.velero_backup_fresh import VeleroBackupFresh
from drill.steps.velero_restore import VeleroRestore

AnyStepType = StepType[Any]

STEP_TYPES: Mapping[str, AnyStepType] = {
    step_type.name: step_type
    for step_type in (
        HttpCheck(),
        VeleroBackupFresh(),
        VeleroRestore(),
        KubeScale(),
        KubeWaitReady(),
        KubeJob(),
        KubeNamespace(),
        KubeReachable(),
        CloudReachable(),
        GcsBackupFresh(),
        S3BackupFresh(),
        DnsSwitch(),
        BackendSwitch(),
    )
}

__all__ = [
    "STEP_TYPES",
    "AnyStepType",
    "Fact",
    "Mode",
    "Providers",
    "RecoveryPoint",
    "Resource",
    "StepEnv",
    "StepParams",
    "StepResult",
    "StepTimedOut",
    "StepType",
]
