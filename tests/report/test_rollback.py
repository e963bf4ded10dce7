"""The rollback in every format: its time, each object read back, the verdict; and the report
of a `drill rollback`, which has a failback time instead of RPO and RTO."""

from __future__ import annotations

import json

import pytest

from drill.report import (
    RENDERERS,
    RunReport,
    render_html,
    render_junit,
    render_markdown,
    render_text,
)

from .samples import DNS_ERROR, PLAN, at, mixed_report, ran, read_back
from .test_html import parse
from .test_junit import cases, message_of, outcome, suite_of


def rollback_of_a_live_run(verified: bool | None) -> RunReport:
    return mixed_report(
        kind="rollback",
        mode="live",
        outcome="passed" if verified else "rollback_incomplete",
        exit_code=0 if verified else 4,
        started_at=at(70),
        finished_at=at(76),
        steps=[ran("primary-serving", "rollback", 70.5, 4)],
        rollback=read_back(verified),
        notes=[],
    )


def test_text_gives_the_time_and_names_every_difference() -> None:
    text = render_text(mixed_report(rollback=read_back(None)))
    assert (
        "ROLLBACK rolled back in 5.0s; NOT verified: 1 of 3 objects differ from how drill "
        "found them, 1 of 3 could not be verified"
    ) in text
    lines = text.splitlines()
    start = lines.index(
        "READ BACK after undo (each object against the state drill journaled before changing it)"
    )
    assert lines[start + 1].split()[:2] == ["restore-ns", "equal"]
    assert lines[start + 2].split()[:2] == ["switch-dns", "DIFFERS"]
    assert lines[start + 3].split()[:3] == ["scale-up", "not", "verified"]
    assert "192.0.2.9 ttl 30" in lines[start + 2]


def test_a_verified_rollback_says_so_in_one_line() -> None:
    text = render_text(mixed_report(rollback=read_back(True)))
    assert "rolled back in 5.0s; verified: all 2 objects read back as drill found them" in text


def test_markdown_has_a_rollback_table_that_keeps_its_cells() -> None:
    markdown = render_markdown(mixed_report(rollback=read_back(False)))
    assert "## Rollback: DIFFERS" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| `switch-dns` | A")]
    assert len(rows) == 1
    row = rows[0]
    assert "| **DIFFERS** |" in row
    assert "&lt;412 Precondition &lt;Failed> \\| record changed &amp; moved>" in row


def test_html_has_a_rollback_section_with_every_check_escaped() -> None:
    page = render_html(mixed_report(rollback=read_back(None)))
    assert "<Failed>" not in page
    document = parse(page)
    [section] = document.find("section", "rollback")
    assert section.attrs["data-verified"] == "not verified"
    cells = [
        [td.all_text() for td in row.find("td")] for row in section.find("tbody")[0].find("tr")
    ]
    assert [(row[0], row[2]) for row in cells] == [
        ("restore-ns", "equal"),
        ("switch-dns", "differs"),
        ("scale-up", "not verified"),
    ]
    assert DNS_ERROR in cells[1][3]


def test_junit_has_a_case_per_check_failing_unless_equal() -> None:
    suite = suite_of(render_junit(mixed_report(rollback=read_back(None))))
    found = cases(suite)
    rollback = {name: outcome(case) for (classname, name), case in found.items()
                if classname == f"{PLAN}.rollback"}  # fmt: skip
    assert rollback == {
        "rollback duration": "passed",  # spaces: no step id can take its name
        "read back restore-ns: namespace dr-test": "passed",
        "read back switch-dns: A record shop.example.com.": "failure",
        "read back scale-up: Deployment dr-test/shop": "failure",
    }
    assert found[(f"{PLAN}.rollback", "rollback duration")].get("time") == "5.000"
    differs = found[(f"{PLAN}.rollback", "read back switch-dns: A record shop.example.com.")]
    assert message_of(differs, "failure").startswith("rollback differs: A record shop")
    unread = found[(f"{PLAN}.rollback", "read back scale-up: Deployment dr-test/shop")]
    failure = unread.find("failure")
    assert failure is not None
    assert failure.get("type") == "not_verified"


@pytest.mark.parametrize("verified", [True, False])
def test_a_drill_rollback_report_has_no_rpo_or_rto(verified: bool) -> None:
    report = rollback_of_a_live_run(verified)
    text = render_text(report)
    assert text.startswith(f"drill rollback of {PLAN} run {report.run_id} - live mode\n")
    assert "RPO" not in text
    assert "RTO" not in text
    assert f"ROLLBACK of run {report.run_id}, from 2026-11-01 02:01:10Z" in text
    markdown = render_markdown(report)
    assert markdown.startswith(f"# drill rollback of {PLAN} run")
    assert "Recovery objectives" not in markdown
    document = parse(render_html(report))
    assert document.find("section", "objectives") == []
    assert document.find("h1")[0].all_text() == f"drill rollback of {PLAN} run {report.run_id}"
    suite = suite_of(render_junit(report))
    assert suite.get("name") == f"drill.{PLAN}.rollback"
    assert not any(classname.endswith(".objectives") for classname, _ in cases(suite))
    assert json.loads(RENDERERS["json"](report))["kind"] == "rollback"


def test_the_timeline_of_a_rollback_starts_at_the_rollback() -> None:
    document = parse(render_html(rollback_of_a_live_run(True)))
    [hint] = document.find("p", "hint")
    assert hint.all_text().startswith("From rollback start (2026-11-01 02:01:10Z)")


def test_a_version_1_report_reads_as_a_run_without_a_rollback() -> None:
    data = json.loads(mixed_report().model_dump_json())
    for field in ("kind", "rollback", "probes", "client_cutover", "restores"):
        data.pop(field)
    data["schema_version"] = 1
    old = RunReport.model_validate(data)
    assert (old.kind, old.rollback) == ("run", None)
    assert "READ BACK" not in render_text(old)
