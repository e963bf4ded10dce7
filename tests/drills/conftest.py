"""Whole drills against the sandbox: drill's commands and the world, both in this process.

The fixture starts the sandbox's emulators here and leaves the state file a `drill sandbox up`
would, so `drill run PLAN --sandbox` (called as the CLI calls it) uses them, while the test
reads the emulators' ground truth and checks that nothing that existed before a run changed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drill.clock import Clock
from drill.commands.sandbox import SandboxOptions, SandboxTarget, private_sandbox
from drill.plan import LoadedPlan
from drill.sandbox.clouds import CloudProfile
from drill.sandbox.kube import KubeEmulator, Profile
from drill.sandbox.runtime import ControlServer, Sandbox
from drill.sandbox.state import SandboxState, write_state
from drill.sandbox.worlds.clusters import derive
from drill.sandbox.worlds.plans import resolve_both_modes
from tests.child import REPO
from tests.inprocess import BriefSleeps, InProcess, Result

# The order of things as in the shipped sandbox, in tenths of a second: a drill's real waits
# are these delays and the steps' first polls (0.25 s), never seconds.
FAST = Profile(
    ready_after_s=0.2, job_duration_s=0.15, restore_duration_s=0.25, namespace_delete_s=0.1
)
FAST_CLOUD = CloudProfile(
    dns_change_s=0.1, dns_propagation_s=0.05, operation_s=0.1, healthy_after_s=0.15
)


@dataclass
class Drill:
    sandbox: Sandbox
    workdir: Path
    state_dir: Path
    clock: Clock = field(default_factory=BriefSleeps)  # drill's, and the sandbox's

    @property
    def dr(self) -> KubeEmulator:
        return self.sandbox.clusters["dr"]

    @property
    def commands(self) -> InProcess:
        sandbox = {"DRILL_SANDBOX_DIR": str(self.state_dir)}
        return InProcess(self.workdir, sandbox, clock=self.clock)

    def run(
        self, plan: str, *, live: bool = False, output: str = "text", faults: tuple[str, ...] = ()
    ) -> Result:
        """`drill run PLAN --sandbox` (with --live: also --yes; with faults: --fault each)."""
        return self.commands.run(
            plan, sandbox=True, live=live, yes=live, output=output, faults=faults
        )

    def run_json(self, plan: str, *, live: bool = False) -> tuple[dict[str, Any], Result]:
        result = self.run(plan, live=live, output="json")
        assert result.stdout, result.stderr[-3000:]
        return json.loads(result.stdout), result

    def rollback(self, run_id: str) -> Result:
        """`drill rollback RUN --sandbox --yes`."""
        return self.commands.rollback(run_id, sandbox=True, yes=True)


@contextmanager
def fast_private_sandbox(
    loaded: LoadedPlan, config_file: str | None, options: SandboxOptions
) -> Iterator[SandboxTarget]:
    """What `drill run --sandbox` starts when no sandbox is up, with the fast profiles."""
    timing = {"profile": FAST, "cloud_profile": FAST_CLOUD}
    with private_sandbox(loaded, config_file, options, **timing) as target:
        yield target


def start_drill_sandbox(
    plan_files: list[Path],
    tmp_path: Path,
    profile: Profile = FAST,
    clock: Clock | None = None,
) -> Generator[Drill, None, None]:
    """The sandbox of ``plan_files`` with ``profile`` (fast unless given), and drill's commands
    that use it. Given a ``clock``, both read it; else the sandbox keeps real time and drill's
    sleeps are brief."""
    world = derive(resolve_both_modes(plan_files))
    state_dir = tmp_path / "sandbox-state"
    with (
        Sandbox(
            world, tmp_path / "sandbox", profile=profile, cloud_profile=FAST_CLOUD, clock=clock
        ) as sandbox,
        ControlServer(sandbox) as control,
    ):
        write_state(
            state_dir,
            SandboxState(
                os.getpid(),
                str(sandbox.kubeconfig),
                sandbox.contexts,
                [str(p) for p in plan_files],
                asdict(sandbox.cloud_settings),
                control=control.url,
                token=control.token,
            ),
        )
        for emulator in sandbox.clusters.values():
            settle(emulator)
        yield Drill(sandbox, tmp_path, state_dir, clock or BriefSleeps())


def settle(emulator: KubeEmulator) -> None:
    """Wait until the world's own workloads are ready: their becoming so is not the run's doing."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pending = [
            d for d in emulator.list("apps/v1", "Deployment")
            if d.get("status", {}).get("readyReplicas", 0) != d["spec"]["replicas"]
        ]  # fmt: skip
        if not pending:
            return
        time.sleep(0.05)
    raise AssertionError("the sandbox world did not settle")


@pytest.fixture
def namespace_restore(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([REPO / "plans" / "namespace-restore.yaml"], tmp_path)


KINDS = (
    ("v1", "Namespace"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("velero.io/v1", "Backup"),
    ("velero.io/v1", "Schedule"),
    ("velero.io/v1", "BackupStorageLocation"),
)


def snapshot(emulator: KubeEmulator, namespaces: tuple[str, ...]) -> dict[str, Any]:
    """Every object of the watched kinds in ``namespaces``, plus the namespaces themselves.

    Read from the emulator's store, past any injected request fault meant for drill.
    """
    found = {}
    for api_version, kind in KINDS:
        for item in emulator.list(api_version, kind):
            meta = item["metadata"]
            if kind == "Namespace" or meta.get("namespace") in namespaces:
                found[f"{kind}/{meta.get('namespace', '')}/{meta['name']}"] = item
    return found


def lose_workloads(drill: Drill, namespace: str) -> None:
    """The disaster a live restore recovers from: the namespace's workloads are gone (the
    sandbox runs what its backups hold until then)."""
    for api_version, kind in (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ConfigMap")):
        for item in drill.dr.list(api_version, kind, namespace):
            drill.dr.delete(api_version, kind, item["metadata"]["name"], namespace)
