"""What the simulated controllers share: the API, the clock, the timing profile, faults, truth.

This module only defines the shared handles and the timing profile; it must not contain
controller logic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from drill.clock import Clock
from drill.sandbox.kube._faults import Faults
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.api.store import Store
from drill.sandbox.kube.api.verbs import Api
from drill.sandbox.kube.controllers.truth import GroundTruth


@dataclass(frozen=True)
class Profile:
    """How long simulated things take, in seconds of the injected clock.

    ``namespace_delete_s`` is how long a deleted namespace stays Terminating. A Job's failed
    pod is replaced after ``job_backoff_s``, doubling with each failure up to
    ``job_backoff_max_s`` (Kubernetes' 10 s and 6 min). Velero waits up to
    ``restore_namespace_wait_s`` for a Terminating namespace it restores into to be gone (its
    ``--resource-terminating-timeout``, 10 min). ``tick_s`` (real time between controller
    passes) and ``watch_timeout_s`` (the server-side cap on a watch that gave no
    ``timeoutSeconds``) are real-time settings of the emulator. ``watch_idle_cut_s``, when
    set, is a load balancer in front of the API server cutting a connection that carried no
    byte for that long (an AWS Application Load Balancer's default idle timeout is 60 s): a
    watch on something that changes rarely is cut mid-stream, and the client must list and
    watch again.
    """

    ready_after_s: float = 5.0
    job_duration_s: float = 3.0
    restore_duration_s: float = 10.0
    namespace_delete_s: float = 1.0
    job_backoff_s: float = 10.0
    job_backoff_max_s: float = 360.0
    restore_namespace_wait_s: float = 600.0
    tick_s: float = 0.02
    event_window: int = 1000
    watch_timeout_s: float = 1800.0
    watch_idle_cut_s: float | None = None

    def scaled(self, factor: float) -> Profile:
        """The same world, ``factor`` times faster (0.01 turns 10 s into 0.1 s)."""
        return replace(
            self,
            ready_after_s=self.ready_after_s * factor,
            job_duration_s=self.job_duration_s * factor,
            restore_duration_s=self.restore_duration_s * factor,
            namespace_delete_s=self.namespace_delete_s * factor,
            job_backoff_s=self.job_backoff_s * factor,
            job_backoff_max_s=self.job_backoff_max_s * factor,
            restore_namespace_wait_s=self.restore_namespace_wait_s * factor,
            watch_idle_cut_s=None
            if self.watch_idle_cut_s is None
            else self.watch_idle_cut_s * factor,
        )


@dataclass(frozen=True)
class World:
    api: Api
    clock: Clock
    profile: Profile
    faults: Faults
    truth: GroundTruth

    @property
    def store(self) -> Store:
        return self.api.store

    def rt(self, api_version: str, kind: str) -> ResourceType:
        return self.api.registry.get(api_version, kind)
