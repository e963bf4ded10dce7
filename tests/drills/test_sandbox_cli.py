"""`drill sandbox up|status|down` and `drill run --sandbox` as a newcomer uses them.

A run with no sandbox up starts its own in this process; `up` and `down` go through the real
entry point, since `up` leaves a background process behind for the next commands.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from drill.commands.sandbox import cloud_clients, sandbox_down, sandbox_status, sandbox_up
from drill.sandbox.worlds.clusters import derive
from drill.sandbox.worlds.files import world_yaml
from drill.sandbox.worlds.plans import resolve_both_modes
from providers.cloud import CloudSettings
from tests.child import REPO, run_drill
from tests.drills.conftest import fast_private_sandbox
from tests.inprocess import BriefSleeps, InProcess


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        sandbox = {"DRILL_SANDBOX_DIR": str(self.tmp_path / "sandbox")}
        return run_drill(self.tmp_path, *args, env=sandbox)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(tmp_path)
    yield runner
    runner("sandbox", "down")  # never leave a server behind


@pytest.mark.slow  # a whole drill, its sandbox started and stopped around it
def test_run_sandbox_without_one_up_starts_and_stops_its_own(tmp_path: Path) -> None:
    commands = InProcess(
        tmp_path,
        {"DRILL_SANDBOX_DIR": str(tmp_path / "sandbox")},
        start_sandbox=fast_private_sandbox,
    )
    result = commands.run("namespace-restore", sandbox=True, output="json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["contexts"] == {"dr": "sandbox-dr"}
    assert report["rpo"]["met"] is True
    settings = commands.settings()
    assert commands.call(lambda c: sandbox_status(settings, c)).stdout.startswith(
        "no sandbox is up"
    )
    assert commands.call(lambda c: sandbox_down(settings, c)).stdout == "no sandbox is up\n"


@pytest.mark.slow
def test_up_keeps_state_between_commands_and_down_stops_it(cli: Cli) -> None:
    # up and down through the real program; the commands between them in this process, as
    # the later commands of a session would find the sandbox: through its state file.
    sandbox_dir = {"DRILL_SANDBOX_DIR": str(cli.tmp_path / "sandbox")}
    commands = InProcess(cli.tmp_path, sandbox_dir, clock=BriefSleeps())
    settings = commands.settings()
    asked = datetime.now(UTC)
    up = cli("sandbox", "up", "namespace-restore", "--ttl", "5m")
    assert up.returncode == 0, up.stderr
    assert "kubeconfig:" in up.stdout
    state = json.loads((cli.tmp_path / "sandbox" / "state.json").read_text())
    stops_at = datetime.strptime(state["stops_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(minutes=5) - timedelta(seconds=1) <= stops_at - asked
    assert stops_at - asked <= timedelta(minutes=5, seconds=30)
    assert f"  stops at {state['stops_at']}: --ttl 5m, or `drill sandbox down`" in up.stdout
    status = commands.call(lambda c: sandbox_status(settings, c))
    assert status.stdout.startswith(f"sandbox up (pid {state['pid']})")
    assert f"  stops at: {state['stops_at']}\n" in status.stdout
    again = commands.call(lambda c: sandbox_up(settings, ("namespace-restore",), c, "1h"))
    assert again.returncode == 0, again.stderr
    assert (
        f"stops at {state['stops_at']}: it was up already, and keeps its own --ttl" in again.stdout
    )

    first = commands.run(
        "namespace-restore", sandbox=True, live=True, yes=True, output="json", settings=settings
    )
    assert first.returncode == 0, first.stderr[-3000:]
    # The live run left its restore in place; the next command sees the same cluster.
    if shutil.which("kubectl"):
        listed = subprocess.run(
            ["kubectl", "--kubeconfig", state["kubeconfig"], "--context", "sandbox-dr",
             "get", "deploy", "-n", "production", "-o", "name"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert "deployment.apps/api-server" in listed.stdout, listed.stderr
    run_id = json.loads(first.stdout)["run_id"]
    rollback = commands.rollback(run_id, sandbox=True, yes=True, settings=settings)
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr

    down = cli("sandbox", "down")
    assert "stopped" in down.stdout
    assert not Path(state["kubeconfig"]).exists()  # nothing up wrote is left behind
    assert not (cli.tmp_path / "sandbox").exists()
    after = commands.call(lambda c: sandbox_status(settings, c))
    assert after.stdout.startswith("no sandbox is up")
    refused = commands.rollback(run_id, sandbox=True, yes=True, settings=settings)
    assert refused.returncode == 0  # nothing left to undo, so the sandbox is not needed


@pytest.mark.slow
def test_up_from_a_world_file_arms_its_faults_in_every_run(cli: Cli) -> None:
    """A sandbox kept up from a world file, faster than the fast profile: every run against it
    gets the world's fault, through the serving process's control endpoint; a run's own
    --fault goes the same way; a run asking for other timing is refused."""
    plan = REPO / "plans" / "namespace-restore.yaml"
    document = yaml.safe_load(world_yaml(derive(resolve_both_modes([plan]))))
    document["faults"] = [{"name": "job-fails", "at_step": "smoke-test"}]
    world = cli.tmp_path / "world.yaml"
    world.write_text(yaml.safe_dump(document))
    up = cli("sandbox", "up", "--world", str(world), "--time-scale", "0.2", "--ttl", "5m")
    assert up.returncode == 0, up.stderr
    state_file = cli.tmp_path / "sandbox" / "state.json"
    assert state_file.stat().st_mode & 0o077 == 0  # it holds the control token
    status = cli("sandbox", "status")
    assert f"  world: {world}" in status.stdout
    assert "  timing: profile fast, time scale 0.2" in status.stdout
    assert "  faults armed in every run: job-fails@smoke-test" in status.stdout
    sandbox_dir = {"DRILL_SANDBOX_DIR": str(cli.tmp_path / "sandbox")}
    commands = InProcess(cli.tmp_path, sandbox_dir, clock=BriefSleeps())

    def failed(result_stdout: str) -> list[str]:
        steps = json.loads(result_stdout)["steps"]
        return [s["id"] for s in steps if s["status"] == "failed"]

    first = commands.run("namespace-restore", sandbox=True, output="json")
    assert first.returncode == 3, first.stderr[-2000:]
    assert failed(first.stdout) == ["smoke-test"]
    second = commands.run(
        "namespace-restore",
        sandbox=True,
        output="json",
        faults=("restore-failed@restore-production",),
    )
    assert second.returncode == 3, second.stderr[-2000:]
    assert failed(second.stdout) == ["restore-production"]
    refused = commands.run("namespace-restore", sandbox=True, profile="realistic")
    assert refused.returncode == 2
    assert "keeps profile fast at time scale 0.2, not realistic at 0.2" in refused.stderr


@pytest.mark.parametrize("ttl", ["0s", "0m"])
def test_a_ttl_that_ends_the_sandbox_as_it_starts_is_refused(tmp_path: Path, ttl: str) -> None:
    commands = InProcess(tmp_path, {"DRILL_SANDBOX_DIR": str(tmp_path / "sandbox")})
    settings = commands.settings()
    refused = commands.call(lambda c: sandbox_up(settings, ("namespace-restore",), c, ttl))
    assert refused.returncode == 2
    assert f"--ttl: {ttl} would stop the sandbox as it starts" in refused.stderr
    assert not (tmp_path / "sandbox" / "state.json").exists()


def test_the_clouds_lines_name_each_emulator_the_sandbox_runs_and_no_other() -> None:
    everything = CloudSettings(
        gcs_endpoint="http://127.0.0.1:1",
        dns_endpoint="http://127.0.0.1:2",
        compute_endpoint="http://127.0.0.1:3/",
        aws_endpoint="http://127.0.0.1:4",
    )
    assert cloud_clients(everything) == [
        "gcloud: env CLOUDSDK_API_ENDPOINT_OVERRIDES_DNS=http://127.0.0.1:2/ "
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE=http://127.0.0.1:3/ "
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=http://127.0.0.1:1/ "
        "CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true gcloud ... --project PROJECT",
        "aws: env AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox "
        "aws --endpoint-url http://127.0.0.1:4 --region REGION ...",
    ]
    assert cloud_clients(CloudSettings(dns_endpoint="http://127.0.0.1:2")) == [
        "gcloud: env CLOUDSDK_API_ENDPOINT_OVERRIDES_DNS=http://127.0.0.1:2/ "
        "CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true gcloud ... --project PROJECT"
    ]
    assert cloud_clients(CloudSettings()) == []  # a sandbox of clusters only
