"""Every renderer carries both RPO figures and each source's recovery point, named."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

from drill.report import (
    RecoveryPointReport,
    Rpo,
    RunReport,
    render_html,
    render_junit,
    render_markdown,
    render_text,
)
from tests.report.samples import PLAN, T0, mixed_report

HEARTBEAT = "heartbeat configmap dr-test/drill-heartbeat key <timestamp> | x"


def measured() -> RunReport:
    points = [
        RecoveryPointReport(
            step_id="heartbeat", at=T0 - timedelta(seconds=163), kind="data", source=HEARTBEAT
        ),
        RecoveryPointReport(
            step_id="backup-fresh",
            at=T0 - timedelta(seconds=152),
            kind="backup metadata",
            source="velero backup b1 startTimestamp",
        ),
    ]
    rpo = Rpo(
        target_s=300,
        measured_s=163,
        margin_s=137,
        met=True,
        source=HEARTBEAT,
        from_data_s=163,
        from_backup_s=152,
        points=points,
    )
    return mixed_report(rpo=rpo, recovery_point=T0 - timedelta(seconds=163))


def later_than_t0() -> RunReport:
    point = RecoveryPointReport(
        step_id="restore-ns",
        at=T0 + timedelta(minutes=7),
        kind="backup metadata",
        source="velero backup b9 startTimestamp",
    )
    source = "not measured: step restore-ns says the recovered data is from after t0"
    rpo = Rpo(
        target_s=300, measured_s=None, margin_s=None, met=False, source=source, points=[point]
    )
    return mixed_report(rpo=rpo, recovery_point=None)


def test_text_names_both_figures_and_every_point() -> None:
    text = render_text(measured())
    lines = text.splitlines()
    rpo_line = next(i for i, line in enumerate(lines) if line.startswith("  RPO"))
    assert "2m43s" in lines[rpo_line]
    assert lines[rpo_line + 1].strip() == "from data 2m43s; from backup metadata 2m32s"
    assert "  RECOVERY POINTS (before t0)" in lines
    heartbeat = next(line for line in lines if line.startswith("    2m43s"))
    assert "from data" in heartbeat
    assert HEARTBEAT in heartbeat
    assert "2026-11-01 01:57:17Z" in heartbeat
    assert any("2m32s  from backup metadata  backup-fresh" in line for line in lines)


def test_a_point_after_t0_shows_a_negative_age() -> None:
    text = render_text(later_than_t0())
    assert "-7m00s  from backup metadata  restore-ns" in text
    assert "MISSED" in next(line for line in text.splitlines() if line.startswith("  RPO"))


def test_markdown_tables_the_points_with_their_text_escaped() -> None:
    markdown = render_markdown(measured())
    assert "RPO from data 2m43s; from backup metadata 2m32s" in markdown
    assert "### Recovery points" in markdown
    row = next(line for line in markdown.splitlines() if "`heartbeat`" in line)
    assert row.startswith("| 2m43s | from data | `heartbeat` | 2026-11-01 01:57:17Z |")
    assert "&lt;timestamp> \\| x" in row


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_cell = tag == "td"

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells.append(data)


def test_html_lists_the_points_escaped() -> None:
    page = render_html(measured())
    assert '<h3 id="recovery-points">Recovery points</h3>' in page
    assert "from data 2m43s; from backup metadata 2m32s" in page
    assert "<timestamp>" not in page
    parser = _Cells()
    parser.feed(page)
    assert HEARTBEAT in parser.cells
    assert "velero backup b1 startTimestamp" in parser.cells


def test_junit_carries_both_figures_and_fails_a_point_after_t0() -> None:
    suite = ET.fromstring(render_junit(measured())).find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (properties["rpo_from_data_s"], properties["rpo_from_backup_s"]) == ("163.0", "152.0")
    rpo = next(c for c in suite.iter("testcase") if c.get("name") == "RPO")
    out = rpo.find("system-out")
    assert out is not None
    assert out.text is not None
    assert "from data 2m43s; from backup metadata 2m32s" in out.text
    assert f"data: {(T0 - timedelta(seconds=163)).isoformat()} from step heartbeat" in out.text

    later = ET.fromstring(render_junit(later_than_t0())).find("testsuite")
    assert later is not None
    case = next(c for c in later.iter("testcase") if c.get("name") == "RPO")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "not_measured"
    assert case.get("classname") == f"{PLAN}.objectives"
