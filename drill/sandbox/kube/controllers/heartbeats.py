"""Heartbeat writers: a ConfigMap key a writer sets to the current time every ``interval_s``.

What ``drill heartbeat`` does in a real protected namespace, simulated on its own schedule:
writes at ``first_write_at + k * interval_s``, each holding that moment (ISO 8601, to the
microsecond). A Velero backup captures the ConfigMap as it was when the backup read it, so the
restored copy holds the last write before then; the writer's moments are kept at full
precision, so tests compare drill's RPO from data with the truth.

A writer is a schedule, not a thread: what it had written at any moment, past or present, is
known from the moment alone. This module must not read the wall clock or touch the API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from drill.sandbox.kube.api.objects import Obj


@dataclass(frozen=True)
class HeartbeatWriter:
    namespace: str
    name: str
    key: str
    interval_s: float
    first_write_at: datetime

    def last_write(self, moment: datetime) -> datetime | None:
        """The newest write at or before ``moment``; None before the first."""
        since_s = (moment - self.first_write_at).total_seconds()
        if since_s < 0:
            return None
        writes = math.floor(since_s / self.interval_s)
        return self.first_write_at + timedelta(seconds=writes * self.interval_s)

    def manifest(self, written_at: datetime) -> Obj:
        """The ConfigMap as the write at ``written_at`` left it."""
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/name": "drill-heartbeat"},
            },
            "data": {self.key: written_at.isoformat()},
        }
