"""`drill run --sandbox` on a real terminal: what is left on the screen, read as a person would.

The child `drill` gets a pseudo-terminal of a chosen size as its stderr and a pipe as its
stdout, and runs the scale drill (restore, scale, wait, smoke Job, undo) against a sandbox
this process keeps up. What it wrote to the terminal is replayed into a screenshot
(``tests.terminal.Screen``): the view's last frame stays there, one line per step with the
state it ended in, under the RPO and RTO it measured against the plan's targets.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.child import REPO, drill_env
from tests.drills.conftest import Drill, start_drill_sandbox
from tests.terminal import Screen, TerminalRun, run_on_pty

pytestmark = pytest.mark.slow  # a child process each

PLAN = REPO / "tests" / "drills" / "plans" / "scale-drill.yaml"
# The steps of the plan in drill mode, drill's own preflight check first, as they end.
ENDED = {
    "contexts-reachable": "passed",
    "create-namespace": "undone",
    "restore": "undone",
    "scale-up": "undone",
    "ready": "passed",
    "primary-still-there": "passed",
    "smoke": "undone",
}
STEP_LINE = re.compile(r"  (\S) (\S+) +(passed|undone|failed|skipped|not run)\b")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([PLAN], tmp_path)


def run_on_terminal(sandbox: Drill, *flags: str, columns: int = 80) -> TerminalRun:
    env = drill_env(sandbox.workdir, {"DRILL_SANDBOX_DIR": str(sandbox.state_dir)})
    args = [*flags, "run", str(PLAN), "--sandbox"]
    return run_on_pty(args, cwd=sandbox.workdir, env=env, columns=columns, rows=24)


def view_of(screen: Screen) -> list[str]:
    """The last frame: from its title (the run id) to the end of the screen."""
    lines = screen.lines()
    [start] = [n for n, line in enumerate(lines) if line.startswith("scale-drill-")][-1:]
    return [line for line in lines[start:] if line]


def test_the_view_leaves_one_line_per_step_and_the_clocks_against_their_targets(
    sandbox: Drill,
) -> None:
    log_file = sandbox.workdir / "drill.log"
    run = run_on_terminal(sandbox, "--log-file", str(log_file))
    assert run.returncode == 0, run.terminal[-3000:]
    screen = Screen.of(run.terminal, 80)
    view = view_of(screen)
    assert re.fullmatch(r"scale-drill-\S+ · drill mode · sandbox +\S+", view[0])
    assert view[1] == "PASSED (exit 0)"
    assert re.fullmatch(r"RTO +\S+ of  4h00m  met, margin \S+", view[2])
    assert re.fullmatch(r"RPO +\S+ of  1h00m  met, margin \S+", view[3])
    assert re.match(r"ROLLBACK rolled back in \S+; verified: all 4 objects read back", view[4])
    ended = {m[2]: m[3] for line in view if (m := STEP_LINE.match(line))}
    assert ended == ENDED
    assert [line for line in view[5:] if not line.startswith("  ")] == [
        "preflight",
        "restore",
        "failover",
        "verify",
    ]
    assert screen.wrapped_lines() == []  # 80 columns: nothing ran past the edge
    assert all(len(line) <= 80 for line in screen.lines())
    # The logs went to the file, as JSON lines, and none to the terminal.
    logged = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert {"step_started", "step_finished", "run_finished"} <= {e["event"] for e in logged}
    assert all(e["run_id"] == view[0].split()[0] for e in logged)
    assert "step_started" not in screen.text()
    # The report, on stdout, says the same.
    assert "RESULT  PASSED (exit 0)" in run.stdout
    assert "\x1b" not in run.stdout


def test_quiet_keeps_the_view_in_a_narrow_pane(sandbox: Drill) -> None:
    run = run_on_terminal(sandbox, "-q", columns=50)
    assert run.returncode == 0, run.terminal[-3000:]
    screen = Screen.of(run.terminal, 50)
    view = view_of(screen)
    assert view[1] == "PASSED (exit 0)"
    ended = {m[2]: m[3] for line in view if (m := STEP_LINE.match(line))}
    assert set(ended.values()) == {"passed", "undone"}
    assert len(ended) == len(ENDED)  # ids cut short with "…", still one line each
    assert screen.wrapped_lines() == []
    assert screen.lines()[0].startswith("scale-drill-")  # nothing above the view: no logs


def test_verbose_prints_the_logs_above_the_view(sandbox: Drill) -> None:
    run = run_on_terminal(sandbox, "-v")
    assert run.returncode == 0, run.terminal[-3000:]
    screen = Screen.of(run.terminal, 80)
    text = screen.text()
    view_starts = text.rindex("\nscale-drill-")
    logs = text[:view_starts]
    for event in ("lease_taken", "step_started", "step_finished", "undo_verified"):
        assert event in logs
    assert "run_id=" not in logs  # the view's title names the run
    assert "error=None" not in logs
    ended = {m[2]: m[3] for line in view_of(screen) if (m := STEP_LINE.match(line))}
    assert ended == ENDED


def test_ctrl_c_mid_run_undoes_in_view_and_gives_the_terminal_back(sandbox: Drill) -> None:
    env = drill_env(sandbox.workdir, {"DRILL_SANDBOX_DIR": str(sandbox.state_dir)})
    # The restore never completes: Ctrl-C lands while it runs, however slow the machine.
    run = run_on_pty(
        ["run", str(PLAN), "--sandbox", "--fault", "restore-stuck@restore"],
        cwd=sandbox.workdir,
        env=env,
        signal_on=("running restore", signal.SIGINT),
    )
    assert run.returncode == 130, run.terminal[-3000:]
    assert "stopped by a signal: undoing what this run changed" in run.terminal  # a frame said it
    screen = Screen.of(run.terminal, 80)
    assert "[warning  ] stopping " in screen.lines()[0]  # the warning, above the view
    view = view_of(screen)
    assert view[1] == "INTERRUPTED (exit 130)"
    ended = {m[2]: m[3] for line in view if (m := STEP_LINE.match(line))}
    assert ended["create-namespace"] == ended["restore"] == "undone"
    assert ended["ready"] == "not run"
    assert run.terminal.endswith("\x1b[?25h")  # the cursor, hidden while the view ran, is back
    assert "RESULT  INTERRUPTED (exit 130)" in run.stdout
