"""The realistic profile: a restore that lasts minutes (here scaled down) outlasts several
renewals of the run's lease, and the run still passes.

`drill run --sandbox --profile realistic --time-scale F` starts a sandbox of its own whose
restores take three minutes times F. drill's clock sleeps a tenth as long as asked (the
tests' brief sleeps), so the lease, renewed every 20 s of drill's time, is renewed every 2 s
of real time: the restore below, 9 s long, spans four renewals. The Lease object in the
sandbox's API server is read over HTTP, as kubectl would, while the run goes on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from kubernetes import client, config

from drill.commands.sandbox import SandboxOptions, SandboxTarget, private_sandbox
from drill.executor._lease import RENEW_EVERY_S
from drill.plan import LoadedPlan
from drill.sandbox.runtime import REALISTIC_PROFILE
from tests.inprocess import BriefSleeps, InProcess

pytestmark = pytest.mark.slow

TIME_SCALE = 0.05  # a 180 s restore takes 9 s


class LeaseWatch:
    """Every renewTime of every Lease the sandbox holds, read twenty times a second."""

    def __init__(self) -> None:
        self.renewals: dict[str, set[datetime]] = {}
        self.stop = threading.Event()

    @contextmanager
    def around(
        self, loaded: LoadedPlan, config_file: str | None, options: SandboxOptions
    ) -> Iterator[SandboxTarget]:
        with private_sandbox(loaded, config_file, options) as target:
            api = client.CoordinationV1Api(
                config.new_client_from_config(target.kubeconfig, context=target.contexts["dr"])
            )
            thread = threading.Thread(target=self._watch, args=(api,), daemon=True)
            thread.start()
            try:
                yield target
            finally:
                self.stop.set()
                thread.join(5)

    def _watch(self, api: client.CoordinationV1Api) -> None:
        while not self.stop.wait(0.05):
            for lease in api.list_lease_for_all_namespaces().items:
                if lease.spec.renew_time is not None:
                    name = lease.metadata.name
                    self.renewals.setdefault(name, set()).add(lease.spec.renew_time)


def test_a_minutes_long_restore_outlasts_two_lease_renewals_and_the_run_passes(
    tmp_path: Path,
) -> None:
    clock = BriefSleeps()
    watch = LeaseWatch()
    commands = InProcess(
        tmp_path,
        {"DRILL_SANDBOX_DIR": str(tmp_path / "sandbox")},
        clock=clock,
        start_sandbox=watch.around,
    )
    result = commands.run(
        "namespace-restore",
        sandbox=True,
        output="json",
        profile="realistic",
        time_scale=TIME_SCALE,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    (restore,) = [s for s in report["steps"] if s["id"] == "restore-production"]
    renew_every_s = RENEW_EVERY_S * clock.factor
    # The realistic restore took (at least) its profile's time, longer than two renewals.
    assert restore["duration_s"] >= REALISTIC_PROFILE.restore_duration_s * TIME_SCALE
    assert restore["duration_s"] > 2 * renew_every_s
    started = datetime.fromisoformat(restore["started_at"])
    finished = datetime.fromisoformat(restore["finished_at"])
    renewed = sorted(watch.renewals["drill-namespace-restore"])
    during = [moment for moment in renewed if started <= moment <= finished]
    assert len(during) >= 2, (renewed, started, finished)
