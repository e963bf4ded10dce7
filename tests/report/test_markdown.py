"""Markdown for tickets: the title says it all, tables keep their columns whatever the text."""

from __future__ import annotations

import re

from drill.report import render_markdown

from .samples import PLAN, mixed_report, ran

COLUMN_BREAK = re.compile(r"(?<!\\)\|")


def section(markdown: str, title: str) -> list[str]:
    """The table lines under ``## title``."""
    lines = markdown.split(f"## {title}\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines), lines
    return lines


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in COLUMN_BREAK.split(line)[1:-1]]


def test_title_names_plan_mode_and_verdict() -> None:
    first = render_markdown(mixed_report()).splitlines()[0]
    assert first == f"# drill {PLAN} (drill mode): ROLLBACK INCOMPLETE - a human is needed"


def test_objectives_table() -> None:
    rows = section(render_markdown(mixed_report()), "Recovery objectives")
    assert cells(rows[0]) == ["objective", "target", "measured", "margin", "met", "source"]
    assert cells(rows[2]) == ["**RPO**", "1h00m", "10m00s", "50m00s", "met", "b1"]
    assert cells(rows[3]) == [
        "**RTO**",
        "15m00s",
        "20m00s",
        "-5m00s",
        "MISSED",
        "t0 to the last verify step passing",
    ]


def test_step_table_has_one_row_per_step_and_escapes_pipes() -> None:
    report = mixed_report()
    rows = section(render_markdown(report), "Steps")
    assert cells(rows[0]) == ["phase", "step", "status", "time", "tries", "detail"]
    body = [cells(row) for row in rows[2:]]
    assert all(len(row) == 6 for row in body)
    assert [row[1] for row in body] == [f"`{s.id}`" for s in report.steps]
    dns = body[2]
    assert dns[:5] == ["failover", "`switch-dns`", "**FAILED**", "8.0s", "1"]
    assert dns[5] == r"412 Precondition &lt;Failed> \| record changed &amp; moved"
    assert body[3][2:] == ["not run", "-", "-", "an earlier step failed"]
    assert body[0][5] == "backup b1 completed, 10m00s old"


def test_undo_table_notes_journal_and_rollback_command() -> None:
    markdown = render_markdown(mixed_report())
    rows = section(markdown, "Undo (newest first)")
    assert cells(rows[2]) == [
        "`switch-dns`",
        "dns.switch",
        "**FAILED**",
        "3.0s",
        "record changed since the switch: left alone",
    ]
    assert "## Notes\n\n- switch-dns \\| still points at the DR region" in markdown
    assert f"To roll back: `drill rollback {PLAN}-20261101-020000-abcd --report-dir reports`" in (
        markdown
    )
    assert f"Journal: `reports/{PLAN}-20261101-020000-abcd/journal.jsonl`" in markdown


def test_multiline_and_control_characters_stay_in_one_cell() -> None:
    error = "line one\nline | two\x1b[0m\x00"
    steps = [ran("odd`id", "verify", 0, 1, status="failed", error=error)]
    rows = section(render_markdown(mixed_report(steps=steps, undo=[])), "Steps")
    assert len(rows) == 3
    row = cells(rows[2])
    assert row[1] == "``odd`id``"
    assert row[5] == r"line one<br>line \| two[0m"


def test_clean_run_has_no_undo_section() -> None:
    markdown = render_markdown(mixed_report(undo=[], notes=[], rollback_command=None))
    assert "## Undo" not in markdown
    assert "## Notes" not in markdown
    assert "To roll back" not in markdown
