"""The HTML report: one offline page, every text escaped, a timeline a browser really draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from drill.report import UndoReport, render_html

from .conftest import Chromium
from .samples import T0, mixed_report, ran, unstarted

VOID = {"meta", "br", "img", "link", "input", "hr", "source"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> list[Node]:
        return [self, *(node for child in self.children for node in child.walk())]

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)

    def find(self, tag: str, css: str | None = None) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and (css is None or css in n.classes())]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data


def parse(markup: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


def step_rows(document: Node) -> dict[str, Node]:
    gantt = document.find("svg", "gantt")
    assert len(gantt) == 1
    rows = list(gantt[0].find("g", "step"))
    by_id = {g.attrs["data-step"]: g for g in rows}
    assert len(by_id) == len(rows), "two rows for one step"
    return by_id


# --- the page as written ----------------------------------------------------------------------


def test_report_text_is_escaped_everywhere() -> None:
    attack = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    quote_attack = 'x" onmouseover="alert(3)'
    steps = [
        ran(quote_attack, "verify", 0, 1, status="failed", error=attack, facts={attack: attack}),
        unstarted("later", "verify", "not_run", attack),
    ]
    page = render_html(mixed_report(steps=steps, notes=[attack], service=attack))
    assert "<script" not in page
    assert "<img" not in page
    assert 'onmouseover="' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    document = parse(page)
    tags = {node.tag for node in document.walk()} - {"#document"}
    assert tags <= {
        *("html", "head", "meta", "title", "style", "body", "header", "footer", "section"),
        *("article", "h1", "h2", "h3", "p", "dl", "dt", "dd", "span", "i", "div", "ul", "li"),
        *("table", "thead", "tbody", "tr", "th", "td", "code"),
        *("svg", "defs", "pattern", "rect", "line", "text", "g", "title"),
    }
    details = document.find("article", "step-detail")
    assert details[0].attrs["data-step"] == quote_attack
    assert attack in details[0].all_text()


def test_page_is_self_contained() -> None:
    page = render_html(mixed_report())
    lowered = page.lower()
    for fetching in ("<script", "<link", " src=", " href=", "@import", "url(http", "@font-face"):
        assert fetching not in lowered, fetching
    assert page.startswith("<!DOCTYPE html>")


def test_header_objectives_and_tables() -> None:
    report = mixed_report()
    document = parse(render_html(report))
    verdict = document.find("p", "verdict")[0]
    assert verdict.all_text() == "ROLLBACK INCOMPLETE - a human is needed (exit 4)"
    assert "o-rollback_incomplete" in verdict.classes()
    objectives = {d.attrs["data-objective"]: d for d in document.find("div", "objective")}
    assert objectives["RPO"].attrs["data-met"] == "met"
    assert objectives["RTO"].attrs["data-met"] == "MISSED"
    assert "RTO 20m00s missed target 15m00s, margin -5m00s" in objectives["RTO"].all_text()
    rto_bar = objectives["RTO"].find("rect", "obj-bar")[0]
    assert "missed" in rto_bar.classes()
    target = objectives["RTO"].find("line", "target")[0]
    # Measured 20m against 15m: the bar runs past the target marker.
    assert float(rto_bar.attrs["width"]) + 10 > float(target.attrs["x1"])
    tables = document.find("table")
    assert len(tables) == 2  # steps, undo
    assert len(tables[0].find("tr")) == 1 + len(report.steps)


def test_timeline_bars_follow_the_clock() -> None:
    report = mixed_report()
    rows = step_rows(parse(render_html(report)))
    assert list(rows) == [s.id for s in report.steps]
    restore = rows["restore-ns"].find("rect", "bar")[0]
    backup = rows["backup-fresh"].find("rect", "bar")[0]
    # restore ran 60s right after backup's 2s: 30 times as wide, starting where backup ended.
    assert float(restore.attrs["width"]) / float(backup.attrs["width"]) == _approx(30)
    backup_end = float(backup.attrs["x"]) + float(backup.attrs["width"])
    assert float(restore.attrs["x"]) == _approx(backup_end)
    assert rows["scale-up"].find("rect", "marker")
    assert rows["switch-dns"].attrs["data-status"] == "failed"


def row_name(row: Node) -> str:
    kind = next(key for key in ("data-step", "data-undo", "data-phase") if key in row.attrs)
    return f"{kind.removeprefix('data-')}:{row.attrs[kind]}"


def test_undo_rows_come_after_the_forward_phases_and_before_cleanup() -> None:
    gantt = parse(render_html(mixed_report())).find("svg", "gantt")[0]
    assert [row_name(g) for g in gantt.find("g", "row")] == [
        "phase:preflight",
        "step:backup-fresh",
        "phase:restore",
        "step:restore-ns",
        "phase:failover",
        "step:switch-dns",
        "step:scale-up",
        "phase:verify",
        "step:public-endpoint",
        "step:smoke",
        "phase:undo",
        "undo:switch-dns",
        "undo:restore-ns",
        "phase:cleanup",
        "step:drop-namespace",
    ]
    assert [g.attrs["data-status"] for g in gantt.find("g", "undo")] == ["failed", "undone"]


def test_a_step_still_running_when_the_record_ends_is_drawn_to_the_end() -> None:
    cut_off = ran("cut-off", "restore", 0, 1, status="interrupted")
    steps = [cut_off.model_copy(update={"finished_at": None, "duration_s": None})]
    report = mixed_report(steps=steps, undo=[], finished_at=T0 + timedelta(seconds=10))
    rows = step_rows(parse(render_html(report)))
    bar = rows["cut-off"].find("rect", "bar")[0]
    assert "open" in bar.classes()
    assert float(bar.attrs["x"]) + float(bar.attrs["width"]) == _approx(1000 - 130)


def _approx(value: float) -> object:
    return pytest.approx(value, abs=0.2)


# --- the page as a browser draws it -----------------------------------------------------------


def write_page(tmp_path: Path) -> tuple[Path, list[str]]:
    report = mixed_report(
        undo=[
            UndoReport(
                step_id="switch-dns",
                type="dns.switch",
                status="failed",
                detail="<b>left</b> alone",
                started_at=T0 + timedelta(seconds=70),
                duration_s=3,
            )
        ]
    )
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page, [s.id for s in report.steps]


def test_chromium_draws_one_labelled_bar_per_step(chromium: Chromium, tmp_path: Path) -> None:
    page, step_ids = write_page(tmp_path)
    document = parse(chromium.dump_dom(page))
    rows = step_rows(document)
    assert list(rows) == step_ids
    for step_id, row in rows.items():
        assert len(row.find("rect", "bar")) == 1, step_id
        assert [t.all_text() for t in row.find("text", "label")] == [step_id]
    assert rows["restore-ns"].find("text", "note")[0].all_text() == "1m00s"
    undo = document.find("g", "undo")
    assert [g.attrs["data-undo"] for g in undo] == ["switch-dns"]
    assert not document.find("b")  # the undo detail's markup stayed text
    assert "<b>left</b> alone" in document.find("table")[1].all_text()


def test_chromium_screenshots_the_page(chromium: Chromium, tmp_path: Path) -> None:
    page, _ = write_page(tmp_path)
    png = tmp_path / "report.png"
    chromium.screenshot(page, png)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000
