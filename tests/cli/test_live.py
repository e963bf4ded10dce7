"""The live status line: what it shows, and that log lines never land inside it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drill.clock import FakeClock
from drill.commands._live import LiveDisplay
from tests.inprocess import InProcess, Terminal


def test_shows_phase_step_elapsed_and_what_it_waits_for() -> None:
    clock = FakeClock()
    display = LiveDisplay(Terminal(), clock)
    assert display.status_line() == ""
    display.started("switch-dns", "failover")
    clock.advance(12.3)
    display.waiting("switch-dns", "DNS change 7 to be done (still pending)")
    display.started("scale", "failover")
    line = display.status_line()
    assert "failover switch-dns 12.3s - waiting for DNS change 7 to be done (still pending)" in line
    assert "failover scale 0ms" in line
    display.finished("switch-dns")
    assert "switch-dns" not in display.status_line()


def test_log_lines_clear_the_status_line_first() -> None:
    terminal = Terminal()
    display = LiveDisplay(terminal, FakeClock())
    display.started("restore", "restore")
    with display:
        time.sleep(0.5)  # a few redraws
        display.guard().write("a log line\n")
        time.sleep(0.5)  # redrawn below the log line
    written = terminal.getvalue()
    assert "restore restore" in written
    assert "\r\x1b[Ka log line\n" in written
    assert written.endswith("\r\x1b[K")  # nothing left on screen when the run ends


@pytest.mark.slow  # two runs that each wait a second for a refused endpoint
def test_a_terminal_run_shows_it_and_a_piped_run_does_not(
    commands: InProcess, tmp_path: Path
) -> None:
    plan = tmp_path / "wait.yaml"
    plan.write_text(
        "version: 1\nname: wait\nservice: s\ntier: low\nphases:\n  verify:\n"
        "    - id: slow\n      type: http.check\n"
        "      with: {url: 'http://127.0.0.1:9/', within: 1s, interval: 250ms}\n"
    )
    piped = commands.run(str(plan))
    assert "\x1b[K" not in piped.stderr
    assert piped.returncode == 3
    terminal = Terminal()
    on_terminal = commands.run(str(plan), stderr=terminal)
    assert on_terminal.returncode == 3
    seen = terminal.getvalue()
    assert "verify slow" in seen
    assert "waiting for" in seen
