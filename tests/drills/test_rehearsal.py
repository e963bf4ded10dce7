"""Rehearsing failure and keeping a sandbox run inside the sandbox.

`--fault NAME[@STEP]` arms a fault of the catalogue through the running sandbox's control
endpoint, when its step starts, and the report says so; a fault that cannot be armed is
refused before anything runs. A sandbox run keeps its gs:// history in the sandbox's own
Cloud Storage, and posts nowhere the environment names. A running sandbox that lacks a plan's
world says so, with the command that restarts it with everything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.commands._outputs import OutputFlags
from drill.commands.sandbox import SandboxOptions, sandbox_up
from drill.errors import UsageError
from drill.sandbox.state import read_state
from tests.child import REPO
from tests.drills.conftest import Drill, fast_private_sandbox, start_drill_sandbox
from tests.httpserver import Answer, Script, serve
from tests.inprocess import BriefSleeps, InProcess

pytestmark = pytest.mark.slow

NAMESPACE_RESTORE = REPO / "plans" / "namespace-restore.yaml"
REGION_FAILURE = REPO / "plans" / "region-failure.yaml"


@pytest.fixture
def gcp(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([REGION_FAILURE], tmp_path)


def test_a_fault_at_a_step_is_armed_when_the_step_starts_and_the_report_says_so(
    namespace_restore: Drill,
) -> None:
    result = namespace_restore.commands.run(
        "namespace-restore",
        sandbox=True,
        output="json",
        faults=("restore-partially-failed@restore-production",),
    )
    assert result.returncode == 3, result.stderr[-2000:]
    report = json.loads(result.stdout)
    failed = [s["id"] for s in report["steps"] if s["status"] == "failed"]
    assert failed == ["restore-production"]
    assert report["sandbox"] is True
    assert (
        "sandbox fault restore-partially-failed@restore-production: armed when step "
        "restore-production started" in report["notes"]
    )
    # Armed at the step, not before: the backup check before it passed, the restore it
    # targeted is the run's own.
    assert [s["status"] for s in report["steps"] if s["id"] == "backup-fresh"] == ["passed"]


def test_a_fault_that_cannot_be_armed_is_refused_before_anything_runs(
    namespace_restore: Drill,
) -> None:
    commands = namespace_restore.commands
    cases = {
        "no-such-fault": "no fault 'no-such-fault'; `drill sandbox faults` lists them",
        "restore-stuck@nowhere": "no step 'nowhere' runs in drill mode",
        "backend-conflict": "nothing to inject: the plan has no backend.switch step of gcp",
        "pods-never-ready@smoke-test": "step smoke-test is not a kube.wait_ready step",
    }
    for flag, message in cases.items():
        result = commands.run("namespace-restore", sandbox=True, faults=(flag,))
        assert result.returncode == 2, (flag, result.stderr)
        assert message in result.stderr, (flag, result.stderr)
    refused = commands.run("namespace-restore", faults=("restore-stuck",))
    assert refused.returncode == 2
    assert "act on the sandbox: add --sandbox" in refused.stderr
    assert not commands.reports.exists()  # nothing ran


def test_a_sandbox_runs_history_stays_in_the_sandbox_and_reads_back(gcp: Drill) -> None:
    location = "gs://drill-history/reports"
    result = gcp.commands.run(
        str(REGION_FAILURE),
        sandbox=True,
        output="json",
        outputs=OutputFlags(history=location),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run_id = json.loads(result.stdout)["run_id"]
    gcs = gcp.sandbox.cloud.gcs
    assert gcs is not None
    stored = [name for name in gcs.objects("drill-history") if run_id in name]
    assert len(stored) == 1
    assert stored[0].startswith("reports/region-failure/")
    read = gcp.commands.history("region-failure", location, sandbox=True, output="json")
    assert read.returncode == 0, read.stderr
    assert [r["run_id"] for r in json.loads(read.stdout)["runs"]] == [run_id]


def test_a_gs_history_with_no_storage_emulator_is_refused(namespace_restore: Drill) -> None:
    result = namespace_restore.commands.run(
        "namespace-restore", sandbox=True, outputs=OutputFlags(history="gs://drill-history")
    )
    assert result.returncode == 2
    assert "the running sandbox has no Cloud Storage emulator" in result.stderr


def test_a_sandbox_run_posts_only_where_its_flags_say_and_says_it_is_one(
    namespace_restore: Drill, tmp_path: Path
) -> None:
    receiver = Script([Answer(200, b"ok")])
    with serve(receiver) as hooks:
        env = {"DRILL_WEBHOOK_URL": f"{hooks}/team-channel", "DRILL_PUSHGATEWAY": hooks}
        settings = namespace_restore.commands.settings(env=env)
        quiet = namespace_restore.commands.run("namespace-restore", sandbox=True, settings=settings)
        assert quiet.returncode == 0, quiet.stderr[-2000:]
        assert receiver.requests == []
        assert "$DRILL_WEBHOOK_URL is not used by a sandbox run" in quiet.stderr
        assert "$DRILL_PUSHGATEWAY is not used by a sandbox run" in quiet.stderr
        (tmp_path / "hook").write_text(f"{hooks}/my-hook\n")
        asked = namespace_restore.commands.run(
            "namespace-restore",
            sandbox=True,
            settings=settings,
            outputs=OutputFlags(webhook_file=str(tmp_path / "hook"), pushgateway=hooks),
        )
    assert asked.returncode == 0, asked.stderr[-2000:]
    paths = sorted(path for _, path, _ in receiver.requests)
    assert paths == [
        "/metrics/job/drill/plan/namespace-restore/mode/drill/sandbox/true",
        "/my-hook",
    ]
    hook = json.loads(receiver.bodies[[p for _, p, _ in receiver.requests].index("/my-hook")])
    assert hook["sandbox"] is True
    assert hook["summary"].startswith("drill namespace-restore in the sandbox (drill mode)")


def test_up_with_a_plan_the_running_sandbox_lacks_says_how_to_restart_it(
    namespace_restore: Drill,
) -> None:
    commands = namespace_restore.commands
    settings = commands.settings()

    def up(*plans: str, options: SandboxOptions | None = None) -> tuple[int, str, str]:
        result = commands.call(lambda c: sandbox_up(settings, plans, c, "8h", options=options))
        return result.returncode, result.stdout, result.stderr

    code, out, _ = up("namespace-restore")
    assert code == 0
    assert out.startswith("sandbox up (pid ")
    code, _, err = up("region-failure")
    assert code == 2
    assert "lacks what region-failure needs (" in err
    assert "cluster primary" in err
    assert "bucket prod-backups" in err
    assert (
        f"run `drill sandbox down`, then `drill sandbox up {NAMESPACE_RESTORE} "
        f"{REGION_FAILURE}`" in err
    )
    code, _, err = up(options=SandboxOptions(profile="realistic"))
    assert code == 2
    assert "keeps profile fast at time scale 1, not realistic at 1" in err
    run = commands.run("region-failure", sandbox=True)
    assert run.returncode == 2  # said before anything runs, not a raw 404 mid-drill
    assert "the running sandbox has no cluster for role(s) primary" in run.stderr


def test_the_control_endpoint_takes_only_its_token_and_the_emulators_hooks(
    namespace_restore: Drill,
) -> None:
    state = read_state(namespace_restore.state_dir)
    assert state is not None
    forged = type(state)(**{**state.__dict__, "token": "guessed"})
    with pytest.raises(UsageError, match="not this sandbox's token"):
        forged.send([])
    with pytest.raises(UsageError, match=r"the sandbox does not take kube\.stop"):
        state.send([{"target": "kube", "call": "stop", "role": "dr", "args": {}}])
    with pytest.raises(UsageError, match="the sandbox runs no Compute emulator"):
        state.send([{"target": "compute", "call": "stuck_operations", "role": None, "args": {}}])
    # Nothing was done: the emulator still serves, its faults untouched.
    assert namespace_restore.dr.faults.watch_faults_left() == 0


def test_a_run_of_its_own_sandbox_gets_a_storage_emulator_for_its_gs_history(
    tmp_path: Path,
) -> None:
    """namespace-restore uses no cloud; with `--history gs://...`, the sandbox the run starts
    has a Cloud Storage emulator holding the bucket, and the report is kept there."""
    commands = InProcess(
        tmp_path,
        {"DRILL_SANDBOX_DIR": str(tmp_path / "sandbox")},
        clock=BriefSleeps(),
        start_sandbox=fast_private_sandbox,
    )
    result = commands.run(
        "namespace-restore",
        sandbox=True,
        output="json",
        outputs=OutputFlags(history="gs://drill-history/reports"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run_id = json.loads(result.stdout)["run_id"]
    events = [json.loads(line) for line in result.stderr.splitlines() if '"history_' in line]
    assert [e["event"] for e in events] == ["history_stored"]
    assert events[0]["location"].startswith("gs://drill-history/reports/namespace-restore/")
    assert events[0]["location"].endswith(f"{run_id}.json")


def test_each_cluster_of_a_sandbox_hands_out_uids_of_its_own(gcp: Drill) -> None:
    # Emulators seeded alike would give the primary's and the DR cluster's objects the same
    # uids (and every sandbox started later the same again): a uid precondition a rollback
    # journaled could then name an object it never saw.
    uids = {
        role: {ns["metadata"]["uid"] for ns in cluster.list("v1", "Namespace")}
        for role, cluster in gcp.sandbox.clusters.items()
    }
    assert set(uids) == {"primary", "dr"}
    assert uids["primary"].isdisjoint(uids["dr"])
