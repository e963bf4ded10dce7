"""The terminal view of `drill run`, driven by the real executor with fake step types.

Each frame is rendered as rich renders it for a terminal of a given size and read back as
plain text (rich's recording console: a screenshot of the frame), so these tests see what a
person would: one line per step with its state, how long it took and what it waits for, the
clocks against their targets, and never a line wider than the terminal. The fake clock makes
every time on the screen exact.
"""

from __future__ import annotations

import io
import re
import signal
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

from drill.commands._board import Board, Snapshot, StepLine
from drill.commands._view import TerminalView
from drill.executor import Cancellation
from drill.plan import ExecutionPlan, PhaseName, ResolvedStep
from drill.report import RunReport
from drill.steps import StepEnv, StepResult
from drill.tiers import Targets
from tests.executor.fakes import START, AdvanceParams, Kit, RecordingLogger, _Fake, build_plan
from tests.inprocess import InProcess, Terminal
from tests.terminal import Screen

WIDE, NARROW = 80, 40
RUN_ID = "fake-plan-20260101-000000-abcd"


def screenshot(board: Board, width: int = WIDE, height: int = 40) -> list[str]:
    """The frame as a terminal ``width`` x ``height`` shows it, line by line."""
    console = Console(record=True, width=width, height=height, file=io.StringIO())
    console.print(TerminalView(board, console).frame())
    return console.export_text().rstrip("\n").split("\n")


def line_of(lines: list[str], step_id: str) -> str:
    [line] = [line for line in lines if re.match(rf"  \S {re.escape(step_id)}( |$)", line)]
    return line


class Peek(_Fake):
    """Waits through ``env.wait`` as real steps do, and takes a screenshot while it waits."""

    name = "fake.peek"
    params_model = AdvanceParams
    summary = "looks at the view while it runs"

    def __init__(self, kit: Kit) -> None:
        super().__init__(kit.calls)
        self.seen: list[list[str]] = []
        self.board: Board | None = None

    def run(self, params: AdvanceParams, env: StepEnv) -> StepResult:
        env.wait(params.seconds, "3/8 items restored (InProgress)")
        if self.board is not None:
            self.seen.append(screenshot(self.board))
        return StepResult(summary="peeked")


def peeking() -> tuple[Kit, Peek]:
    kit = Kit()
    peek = Peek(kit)
    kit.registry[peek.name] = peek
    return kit, peek


def a_plan(kit: Kit, *, verify: str = "fake.advance", read_back: str = "equal") -> ExecutionPlan:
    """Five steps: a check, a restore that finds a recovery point 10 minutes before t0, a
    step that waits 12.3 s, a change (undone after verify) and a 2 s verify step."""
    point = START - timedelta(minutes=10)
    return build_plan(
        [
            ("preflight", kit.step("check", "fake.advance", seconds=1)),
            ("restore", kit.step("restore", "fake.restore", at=point, source="backup b1")),
            ("restore", kit.step("watch-restore", "fake.peek", seconds=12.3)),
            ("failover", kit.step("switch", "fake.mutate", read_back=read_back)),
            ("verify", kit.step("smoke", verify, seconds=2)),
        ]
    )


def a_run(verify: str = "fake.advance", read_back: str = "equal") -> tuple[Board, Peek, RunReport]:
    kit, peek = peeking()
    plan = a_plan(kit, verify=verify, read_back=read_back)
    board = peek.board = Board(plan, kit.clock, RUN_ID)
    report = kit.executor(progress=board).run(plan)
    return board, peek, report


def test_a_running_step_shows_its_state_elapsed_time_and_what_it_waits_for() -> None:
    _, peek, _ = a_run()
    [mid_run] = peek.seen
    assert mid_run[0].startswith(f"{RUN_ID} · drill mode")
    assert mid_run[1] == "running restore"
    assert re.fullmatch(r"RTO +13\.3s of 15m00s  running", mid_run[2])
    assert re.fullmatch(r"RPO +10m00s of  2h00m  recovery point found", mid_run[3])
    running = line_of(mid_run, "watch-restore")
    assert re.search(r"running +12\.3s  3/8 items restored \(InProgress\)$", running)
    assert re.search(r"✓ check +passed +1\.0s$", line_of(mid_run, "check"))
    assert re.search(r"· switch +waiting *$", line_of(mid_run, "switch"))
    assert all(len(line) <= WIDE for line in mid_run)


def test_the_last_frame_says_what_the_report_says() -> None:
    board, _, report = a_run()
    board.finish(report)
    last = screenshot(board)
    assert last[1] == "PASSED (exit 0)"
    assert re.fullmatch(r"RTO +15\.3s of 15m00s  met, margin 14m45s", last[2])
    assert re.fullmatch(r"RPO +10m00s of  2h00m  met, margin 1h50m", last[3])
    assert re.fullmatch(r"ROLLBACK rolled back in 0ms; verified: the one object .*", last[4])
    # One line per step, each with the state it ended in, under its phase.
    assert [line for line in last[5:] if not line.startswith("  ")] == [
        "preflight",
        "restore",
        "failover",
        "verify",
    ]
    assert len([line for line in last if line.startswith("  ")]) == 5
    assert re.search(r"✓ check +passed +1\.0s  waited 1\.0s$", line_of(last, "check"))
    assert re.search(r"✓ watch-restore +passed +12\.3s  peeked$", line_of(last, "watch-restore"))
    assert re.search(r"↺ switch +undone +0ms  changed thing$", line_of(last, "switch"))
    assert re.search(r"✓ smoke +passed +2\.0s", line_of(last, "smoke"))


def test_a_failed_verify_and_a_read_back_that_differs_are_shown_as_such() -> None:
    board, _, report = a_run(verify="fake.fail", read_back="differs")
    during = screenshot(board)  # the executor is done; the report is not in yet
    assert re.search(r"✗ smoke +failed +2\.0s  fake condition not met$", line_of(during, "smoke"))
    assert re.fullmatch(r"RTO +- of 15m00s  not measured: a verify step did not pass", during[2])
    switch = line_of(during, "switch")
    assert re.search(r"≠ switch +differs .* read back differs: thing: someone's", switch)
    board.finish(report)
    last = screenshot(board)
    assert last[1] == "ROLLBACK INCOMPLETE - a human is needed (exit 4)"
    assert re.fullmatch(r"RTO +- of 15m00s  not measured \(counts as missed\)", last[2])
    assert "differs" in line_of(last, "switch")
    assert "NOT verified" in last[4]


def test_a_narrow_pane_cuts_details_and_never_wraps() -> None:
    board, _, report = a_run()
    board.finish(report)
    for width in (NARROW, 30, 24):
        lines = screenshot(board, width=width)
        assert max(len(line) for line in lines) <= width
        assert len([line for line in lines if line.startswith("  ")]) == 5  # one per step
    narrow = screenshot(board, width=NARROW)
    assert re.fullmatch(r"  ↺ switch +undone +0ms", line_of(narrow, "switch"))
    assert narrow[0] == "fake-plan-20260101-000000-abcd · … 15.3s"  # the time stays


def test_a_short_pane_folds_what_is_over_and_keeps_the_running_step() -> None:
    kit = Kit()
    done: list[tuple[PhaseName, ResolvedStep]] = [
        ("preflight", kit.step(f"check-{n}", "fake.advance")) for n in range(6)
    ]
    later: list[tuple[PhaseName, ResolvedStep]] = [
        ("verify", kit.step(f"later-{n}", "fake.advance")) for n in range(6)
    ]
    plan = build_plan([*done, ("restore", kit.step("restore", "fake.advance")), *later])
    board = Board(plan, kit.clock)
    board.run_started(START)
    for step_id, _ in ((s.id, s) for _, s in done):
        board.started(step_id, "preflight")
        board.finished(step_id, "passed")
    board.started("restore", "restore")
    assert len(screenshot(board, height=40)) == 4 + 3 + 13  # it fits: every step shown
    short = screenshot(board, height=10)
    assert len(short) <= 9  # one line left for the cursor
    assert short[4] == "preflight  6 passed"
    assert short[5] == "restore"
    assert re.search(r"restore +running", short[6])
    assert short[7] == "verify  6 waiting"


def test_probe_results_have_a_line_once_a_probe_reports() -> None:
    board, _, _ = a_run()
    assert not any(line.startswith("probes") for line in screenshot(board))
    board.probe("users", True, 12.4)
    board.probe("users", False, None)
    board.probe("api", True, 30.0)
    [probes] = [line for line in screenshot(board) if line.startswith("probes")]
    assert probes == "probes  users ✗ 1/2  api ✓ 30ms 1/1"


def test_a_signal_is_said_at_the_top_while_the_run_undoes() -> None:
    kit, _ = peeking()
    cancellation = Cancellation()
    board = Board(a_plan(kit), kit.clock, cancellation=cancellation)
    board.run_started(START)
    board.started("switch", "failover")
    cancellation.stop_work.set()
    assert screenshot(board)[1] == "stopped by a signal: undoing what this run changed"
    assert re.fullmatch(
        r"RTO +- of 15m00s  not measured: recovery was not shown", screenshot(board)[2]
    )
    cancellation.fail("lost the run lease: taken over")
    assert screenshot(board)[1] == "stopping: lost the run lease: taken over"


def test_frames_fit_the_width_all_through_a_run() -> None:
    kit, peek = peeking()
    plan = a_plan(kit)
    frames: list[list[str]] = []

    class Watched(Board):
        def finished(self, step_id: str, status: str, detail: str = "") -> None:
            super().finished(step_id, status, detail)
            frames.extend(screenshot(self, width=width) for width in (WIDE, NARROW))

    peek.board = board = Watched(plan, kit.clock, "a-run-id-long-enough-to-be-cut-in-narrow-panes")
    kit.executor(progress=board).run(plan)
    assert len(frames) == 2 * (5 + 2)  # each step's end, then the undo and the read-back
    assert all(len(line) <= NARROW for frame in frames[1::2] for line in frame)
    assert all(len(line) <= WIDE for frame in frames[::2] for line in frame)


# --- the view must never stop or break a run ------------------------------------------------


class BrokenBoard(Board):
    def snapshot(self) -> Snapshot:
        raise ZeroDivisionError("a bug in the view")


def test_a_frame_that_cannot_render_is_one_line_and_is_logged_once() -> None:
    kit, _ = peeking()
    log = RecordingLogger()
    console = Console(record=True, width=WIDE, file=Terminal(), force_terminal=True)
    view = TerminalView(BrokenBoard(a_plan(kit), kit.clock), console, refresh_s=3600)
    view.attach_log(log)
    with view:
        for _ in range(3):
            view.refresh()
    assert "(the view failed: ZeroDivisionError; the run goes on)" in console.export_text()
    assert log.events() == ["terminal_view_failed"]
    assert "a bug in the view" in log.records[0][2]["error"]


def test_a_bug_in_what_the_run_tells_the_view_never_reaches_the_run() -> None:
    kit, _ = peeking()
    plan = a_plan(kit)
    log = RecordingLogger()

    class Buggy(Board):
        def _step_ended(self, line: StepLine, status: str) -> None:
            raise KeyError(status)

    screen = Terminal()
    console = Console(width=WIDE, file=screen, force_terminal=True)
    view = TerminalView(Buggy(plan, kit.clock), console, refresh_s=3600)
    view.attach_log(log)
    with view:
        report = kit.executor(progress=view.board).run(plan)
        view.finish(report)
    assert report.outcome == "passed"
    assert log.events() == ["terminal_view_failed"]
    assert log.records[0][2]["error"] == "KeyError: 'passed'"
    assert "PASSED (exit 0)" in screen.getvalue()  # the report's word still shown


class GoneTerminal(Terminal):
    """A terminal closed under the run (its window went away): every write fails."""

    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")


def test_a_terminal_that_went_away_leaves_the_run_alone() -> None:
    kit, _ = peeking()
    log = RecordingLogger()
    plan = a_plan(kit)
    console = Console(width=WIDE, file=GoneTerminal(), force_terminal=True)
    view = TerminalView(Board(plan, kit.clock), console, refresh_s=3600)
    view.attach_log(log)
    with view:
        view.log_stream().write("a log line with nowhere to go\n")
        view.refresh()
        report = kit.executor(progress=view.board).run(plan)
        view.finish(report)
    assert report.outcome == "passed"
    assert log.events() == ["terminal_view_failed"]
    assert "Input/output error" in log.records[0][2]["error"]


def test_log_lines_go_above_the_view_and_the_last_frame_stays() -> None:
    kit, _ = peeking()
    plan = a_plan(kit)
    terminal = Terminal()
    console = Console(width=WIDE, height=30, file=terminal, force_terminal=True)
    view = TerminalView(Board(plan, kit.clock), console, refresh_s=3600)
    with view:
        view.log_stream().write("a warning  step=check\n")
        report = kit.executor(progress=view.board).run(plan)
        view.finish(report)
    written = terminal.getvalue()
    assert "a warning  step=check" in written
    assert written.index("a warning") < written.rindex("PASSED (exit 0)")
    assert written.endswith("\x1b[?25h")  # the cursor is given back


@pytest.mark.skipif(
    signal.getsignal(signal.SIGTERM) != signal.SIG_DFL, reason="SIGTERM already handled"
)
def test_sigterm_outside_the_run_shows_the_cursor_first_and_is_handed_back() -> None:
    kit, _ = peeking()
    view = TerminalView(Board(a_plan(kit), kit.clock), Console(file=Terminal(), width=WIDE))
    with view:
        assert signal.getsignal(signal.SIGTERM) == view._terminated
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


# --- who gets the view ----------------------------------------------------------------------


@pytest.mark.slow  # three runs that each wait a second for a refused endpoint
def test_only_a_terminal_with_a_text_report_gets_the_view(
    commands: InProcess, tmp_path: Path
) -> None:
    plan = tmp_path / "wait.yaml"
    plan.write_text(
        "version: 1\nname: wait\nservice: s\ntier: low\nphases:\n  verify:\n"
        "    - id: slow\n      type: http.check\n"
        "      with: {url: 'http://127.0.0.1:9/', within: 1s, interval: 250ms}\n"
    )
    piped = commands.run(str(plan))
    assert piped.returncode == 3
    assert "\x1b" not in piped.stderr
    assert '"event": "step_finished"' in piped.stderr  # JSON lines, as before
    as_json = commands.run(str(plan), output="json", stderr=Terminal())
    assert "\x1b[?25l" not in as_json.stderr  # no view: rich never hid the cursor
    on_terminal = commands.run(str(plan), stderr=Terminal())
    assert on_terminal.returncode == 3
    screen = Screen.of(on_terminal.stderr, 80, through_tty=False).lines()
    assert "FAILED (exit 3)" in screen
    assert re.search(r"  ✗ slow +failed +\S+  GET http://127\.0\.0\.1:9/", "\n".join(screen))


def test_a_clock_whose_target_the_plan_set_says_so_under_it() -> None:
    kit, peek = peeking()
    critical = Targets(rpo_s=2 * 3600, rto_s=15 * 60)
    plan = replace(a_plan(kit), targets=critical.with_plan_targets(None, 30 * 60))
    board = peek.board = Board(plan, kit.clock, RUN_ID)
    report = kit.executor(progress=board).run(plan)
    said = "    RTO target 30m00s (plan override; critical tier default 15m00s)"
    [mid_run] = peek.seen
    assert re.fullmatch(r"RTO +13\.3s of 30m00s  running", mid_run[2])
    assert mid_run[3] == said
    assert re.fullmatch(r"RPO +10m00s of  2h00m  recovery point found", mid_run[4])
    board.finish(report)
    last = screenshot(board)
    assert re.fullmatch(r"RTO +15\.3s of 30m00s  met, margin 29m45s", last[2])
    assert last[3] == said
