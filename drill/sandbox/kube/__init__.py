"""An in-process Kubernetes API emulator for the sandbox and the tests.

``KubeEmulator`` serves a Kubernetes API over real HTTPS on 127.0.0.1 (an ephemeral port,
under a CA of its own: ``ca_pem``) that the kubernetes Python client and kubectl can
use: core namespaces, pods, services, configmaps, secrets and serviceaccounts (with TokenRequest);
apps deployments and statefulsets (with ``scale`` and ``status``); batch jobs and cronjobs;
coordination leases; RBAC roles, clusterroles and their bindings, enforced for every request
(the admin token ``SANDBOX_TOKEN`` is ``system:masters``; ``token_for`` issues a
ServiceAccount's); access and rules reviews; Velero backups, restores, schedules and
backupstoragelocations, checked against Velero's schemas. CronJobs are only stored: nothing
schedules them. Simulated
controllers, timed by an injected clock and a ``Profile``, make workloads become ready, jobs
run their commands (``curl``, ``wget``, ... against the cluster's Services) and retry,
namespaces terminate and Velero restores complete; ``faults`` injects failures and ``truth``
records when things really happened. ``write_kubeconfig`` points contexts at
emulators.

Typical use::

    with KubeEmulator(profile=Profile().scaled(0.01)) as dr:
        dr.velero.register_backup("nightly-1", manifests)
        write_kubeconfig(path, {"dr": dr.url})
        ...  # drive it with the real client
        dr.truth.restore("r1")

The package must not import the kubernetes SDK (it is a server, not a client), and nothing in
drill's run path imports it except the CLI's ``--sandbox`` wiring. The modules behind this
surface are private.
"""

from drill.sandbox.kube._emulator import DEFAULT_NAMESPACES, KubeEmulator
from drill.sandbox.kube._faults import Faults, RestoreFault
from drill.sandbox.kube._kubeconfig import SANDBOX_TOKEN, kubeconfig, write_kubeconfig
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.controllers.contents import BackupContents
from drill.sandbox.kube.controllers.context import Profile
from drill.sandbox.kube.controllers.heartbeats import HeartbeatWriter
from drill.sandbox.kube.controllers.kubelet import PodLogs
from drill.sandbox.kube.controllers.namespace_defaults import namespace_defaults
from drill.sandbox.kube.controllers.network import Outside
from drill.sandbox.kube.controllers.truth import (
    BackupMade,
    GroundTruth,
    HeartbeatCaptured,
    JobFinished,
    NamespaceGone,
    RestoreFinished,
    WorkloadReady,
)
from drill.sandbox.kube.controllers.velero import Velero

__all__ = [
    "DEFAULT_NAMESPACES",
    "SANDBOX_TOKEN",
    "ApiError",
    "BackupContents",
    "BackupMade",
    "Faults",
    "GroundTruth",
    "HeartbeatCaptured",
    "HeartbeatWriter",
    "JobFinished",
    "KubeEmulator",
    "NamespaceGone",
    "Outside",
    "PodLogs",
    "Profile",
    "RestoreFault",
    "RestoreFinished",
    "Velero",
    "WorkloadReady",
    "kubeconfig",
    "namespace_defaults",
    "write_kubeconfig",
]
