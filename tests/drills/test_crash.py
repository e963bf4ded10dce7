"""A drill killed with SIGKILL mid-run: `drill runs` names it and how to undo it, a new run of
the plan refuses to build on its leftovers, `drill rollback` undoes it and gives back its lease,
and the next run passes with everything that existed before as it was."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.child import REPO, drill_env, popen_drill, run_drill
from tests.drills.conftest import Drill, snapshot, start_drill_sandbox
from tests.drills.test_namespace_restore import WATCHED, lease, wait_gone

pytestmark = pytest.mark.slow

PLAN = REPO / "plans" / "namespace-restore.yaml"
LEASE = ("coordination.k8s.io/v1", "Lease", "drill-namespace-restore", "default")


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([PLAN], tmp_path)


def kill_after_first_change(drill: Drill) -> str:
    """Start `drill run namespace-restore --sandbox` in a child and SIGKILL it once its journal
    holds a change; the id of the run it killed."""
    env = {"DRILL_SANDBOX_DIR": str(drill.state_dir)}
    child = popen_drill(drill.workdir, "run", "namespace-restore", "--sandbox", env=env)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            for journal in (drill.workdir / "reports").glob("*/journal.jsonl"):
                kinds = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
                if kinds.count("prior_state") >= 2:  # the namespace, then the restore
                    child.send_signal(signal.SIGKILL)
                    child.wait(timeout=10)
                    return journal.parent.name
            assert child.poll() is None, child.communicate()
            time.sleep(0.02)
        raise AssertionError("the run made no change in time")
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def test_a_killed_run_is_listed_refused_rolled_back_and_its_lease_given_back(
    drill: Drill,
) -> None:
    before = snapshot(drill.dr, WATCHED)
    run_id = kill_after_first_change(drill)
    assert drill.dr.get(*LEASE) is not None  # the dead run still holds it

    listed = drill.commands.runs()
    assert listed.returncode == 1
    assert f"{run_id}  plan namespace-restore, drill mode" in listed.stdout
    assert "unfinished (no finish in its journal: killed or crashed)" in listed.stdout
    assert "create-namespace (kube.namespace)" in listed.stdout
    command = f"drill rollback {run_id} --report-dir {drill.commands.reports} --sandbox"
    assert command in listed.stdout

    again = drill.run("namespace-restore")
    assert again.returncode == 2
    assert "drill runs --report-dir" in again.stderr  # the lease says what to do

    rollback = drill.rollback(run_id)
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert drill.dr.get(*LEASE) is None  # given back: no minute to wait
    wait_gone(drill, "dr-test")
    assert drill.commands.runs().returncode == 0

    _, result = drill.run_json("namespace-restore")
    assert result.returncode == 0, result.stderr[-3000:]
    wait_gone(drill, "dr-test")
    after = snapshot(drill.dr, WATCHED)
    assert {key: after.get(key) for key in before} == before


def test_a_rollback_process_writes_its_report_whole_and_leaves_no_file_behind(
    drill: Drill, tmp_path: Path
) -> None:
    """`drill rollback` as its own process skips interpreter teardown once done, as `drill run`
    does: its report and journal are whole by then, and the kubernetes client's certificate
    files are gone with the exit handlers that still run."""
    run_id = kill_after_first_change(drill)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {"DRILL_SANDBOX_DIR": str(drill.state_dir), "TMPDIR": str(temporary)}
    result = run_drill(drill.workdir, "rollback", run_id, "--sandbox", "--yes", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    run_dir = drill.commands.reports / run_id
    report = json.loads((run_dir / "rollback-report.json").read_text())
    assert report["run_id"] == run_id
    assert report["exit_code"] == 0
    assert (run_dir / "rollback-report.html").read_text().rstrip().endswith("</html>")
    journal = (run_dir / "journal.jsonl").read_text()
    assert journal.endswith("\n")
    assert '"event": "undo_finished"' in journal
    assert drill.dr.get(*LEASE) is None
    assert list(temporary.iterdir()) == []


def test_a_run_refuses_to_build_on_a_dead_runs_leftovers(drill: Drill) -> None:
    run_id = kill_after_first_change(drill)
    drill.dr.apply(lease(run_id, datetime.now(UTC) - timedelta(minutes=5)))  # expired
    refused = drill.run("namespace-restore")
    assert refused.returncode == 2
    assert f"run {run_id} of namespace-restore did not finish" in refused.stderr
    assert f"`drill rollback {run_id} --report-dir" in refused.stderr
    assert drill.dr.get("v1", "Namespace", "dr-test") is not None  # left for the rollback


def test_an_unwritable_report_directory_stops_the_run_before_its_lease(drill: Drill) -> None:
    before = snapshot(drill.dr, WATCHED)
    drill.commands.reports.write_text("a file where the report directory should be")
    refused = drill.run("namespace-restore")
    assert refused.returncode == 2
    assert "is not writable" in refused.stderr
    assert "--report-dir or DRILL_REPORT_DIR" in refused.stderr
    assert drill.dr.get(*LEASE) is None  # never taken
    assert snapshot(drill.dr, WATCHED) == before


def test_rollback_refuses_a_run_that_is_still_going(drill: Drill) -> None:
    env = {"DRILL_SANDBOX_DIR": str(drill.state_dir)}
    drill.dr.faults.hang_restore()  # keeps the run busy in its restore
    child = popen_drill(drill.workdir, "run", "namespace-restore", "--sandbox", env=env)
    try:
        deadline = time.monotonic() + 60
        journals: list[Path] = []
        while not journals and time.monotonic() < deadline:
            journals = [
                j
                for j in (drill.workdir / "reports").glob("*/journal.jsonl")
                if '"step_id": "restore-production"' in j.read_text()
            ]
            time.sleep(0.02)
        assert journals, "the run never reached its restore"
        refused = drill.rollback(journals[0].parent.name)
        assert refused.returncode == 2
        assert "still holds its lease" in refused.stderr
        assert "Stop it with SIGTERM" in refused.stderr
    finally:
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=60)
    assert child.returncode == 130


def remove_run_directory_once_it_changes_something(drill: Drill) -> threading.Thread:
    """A thread that deletes the run's directory (journal and all) once its first change is
    made (the step that made it finished), as a clean-up script or a person might while the
    run goes on."""

    def changed(journal: Path) -> bool:
        lines = journal.read_text().splitlines()
        events = [json.loads(line) for line in lines if line.endswith("}")]
        prior = {e.get("step_id") for e in events if e.get("event") == "prior_state"}
        return any(e.get("step_id") in prior for e in events if e.get("event") == "step_finished")

    def remove() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for journal in drill.commands.reports.glob("*/journal.jsonl"):
                if changed(journal):
                    shutil.rmtree(journal.parent)
                    return
            time.sleep(0.005)

    remover = threading.Thread(target=remove, daemon=True)
    remover.start()
    return remover


def test_a_report_that_cannot_be_written_is_still_printed_with_the_runs_own_verdict(
    drill: Drill,
) -> None:
    before = snapshot(drill.dr, WATCHED)
    remover = remove_run_directory_once_it_changes_something(drill)
    result = drill.run("namespace-restore", output="json")
    remover.join(timeout=10)
    assert "internal error" not in result.stderr
    assert result.stdout, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert result.returncode == report["exit_code"]
    assert report["rollback"]["verified"] is True
    assert not (drill.commands.reports / report["run_id"] / "report.json").exists()
    assert '"event": "report_not_written"' in result.stderr
    assert any(note.startswith("this report could not be kept at") for note in report["notes"])
    wait_gone(drill, "dr-test")
    after = snapshot(drill.dr, WATCHED)
    assert {key: after.get(key) for key in before} == before


def test_a_run_whose_journal_is_removed_stops_and_undoes_from_memory(drill: Drill) -> None:
    """A journal whose file is gone keeps nothing for `drill rollback`: the run must stop
    forward work and undo what it changed, as when the journal cannot be written."""
    before = snapshot(drill.dr, WATCHED)
    remover = remove_run_directory_once_it_changes_something(drill)
    result = drill.run("namespace-restore", output="json")
    remover.join(timeout=10)
    report = json.loads(result.stdout)
    assert (result.returncode, report["outcome"]) == (3, "failed"), result.stderr[-3000:]
    assert '"event": "journal_failed"' in result.stderr
    not_run = [s["skip_reason"] for s in report["steps"] if s["status"] == "not_run"]
    assert not_run
    assert all("the journal could not be written" in why for why in not_run), not_run
    assert all(u["status"] == "undone" for u in report["undo"]), report["undo"]
    assert report["rollback"]["verified"] is True
    wait_gone(drill, "dr-test")
    after = snapshot(drill.dr, WATCHED)
    assert {key: after.get(key) for key in before} == before


# Runs `python -m drill ARGS` with regular files limited to FILE_LIMIT bytes: a write past it
# fails with EFBIG, as one on a full disk fails with ENOSPC (SIGXFSZ ignored, as it is kept
# across exec).
SMALL_DISK = (
    "import os, resource, signal, sys\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
    "limit = int(os.environ['FILE_LIMIT'])\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'drill', *sys.argv[1:]])\n"
)


def test_a_run_whose_disk_fills_up_undoes_and_still_prints_its_report(drill: Drill) -> None:
    before = snapshot(drill.dr, WATCHED)
    env = drill_env(
        drill.workdir, {"DRILL_SANDBOX_DIR": str(drill.state_dir), "FILE_LIMIT": "5000"}
    )
    args = ["run", "namespace-restore", "--sandbox", "--output", "json"]
    result = subprocess.run(
        [sys.executable, "-c", SMALL_DISK, *args],
        cwd=drill.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "internal error" not in result.stderr, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert (result.returncode, report["outcome"]) == (3, "failed")
    assert '"event": "journal_failed"' in result.stderr
    assert report["undo"], "the disk filled up before the run changed anything"
    assert all(u["status"] == "undone" for u in report["undo"]), report["undo"]
    assert report["rollback"]["verified"] is True
    wait_gone(drill, "dr-test")
    after = snapshot(drill.dr, WATCHED)
    assert {key: after.get(key) for key in before} == before
