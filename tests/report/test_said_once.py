"""Every output says each thing once and whole: where an overridden target came from, a
recovered marker only when recovery was measured, long texts kept entire."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from drill.report import (
    RunReport,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    render_text,
)

from .samples import at, mixed_report, ran, unstarted
from .test_html import parse

Render = Callable[[RunReport], str]

PLAN_RTO = "RTO target 30m00s (plan override; critical tier default 15m00s)"
CONFIG_RPO = "RPO target 2h00m (config file override; critical tier default 5m00s)"


def overridden_report() -> RunReport:
    """A critical-tier run whose plan set RTO 30m and whose config file set RPO 2h."""
    report = mixed_report()
    rto = report.rto.model_copy(
        update={"target_s": 1800.0, "target_source": "plan", "tier_default_s": 900}
    )
    rpo = report.rpo.model_copy(
        update={"target_s": 7200.0, "target_source": "config", "tier_default_s": 300}
    )
    return report.model_copy(update={"rto": rto, "rpo": rpo})


def flat(markup: str) -> str:
    """The words of any output, without tags, bold marks or line breaks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>|\*\*", "", markup))


@pytest.mark.parametrize("render", [render_text, render_markdown, render_html, render_junit])
def test_every_output_says_which_target_was_overridden_and_from_what(render: Render) -> None:
    words = flat(render(overridden_report()))
    for label, said in (("RTO", PLAN_RTO), ("RPO", CONFIG_RPO)):
        origin = said.removeprefix(f"{label} target ")
        assert origin in words, f"{origin!r} missing"
    # A target nobody overrode says nothing more than its value.
    plain = flat(render(mixed_report()))
    assert "override" not in plain
    assert "tier default " not in plain  # a property's value "tier default" says no more


def test_the_text_report_names_each_overridden_target_on_a_line_of_its_own() -> None:
    lines = [line.strip() for line in render_text(overridden_report()).splitlines()]
    assert PLAN_RTO in lines
    assert CONFIG_RPO in lines


def test_the_json_report_keeps_each_targets_source_and_the_default_it_replaced() -> None:
    document = json.loads(render_json(overridden_report()))
    assert {k: document["rto"][k] for k in ("target_s", "target_source", "tier_default_s")} == {
        "target_s": 1800.0,
        "target_source": "plan",
        "tier_default_s": 900,
    }
    assert RunReport.model_validate(document) == overridden_report()


def test_a_report_from_before_target_sources_reads_as_tier_defaults() -> None:
    document = json.loads(render_json(mixed_report()))
    for objective in ("rpo", "rto"):
        for field in ("target_source", "tier_default_s", "config_target_s"):
            del document[objective][field]
    old = RunReport.model_validate(document)
    assert (old.rto.target_source, old.rto.tier_default_s) == ("tier default", None)


def test_junit_properties_carry_each_targets_source() -> None:
    suite = ET.fromstring(render_junit(overridden_report())).findall("testsuite")[0]
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["rto_target_source"] == "plan"
    assert properties["rpo_target_source"] == "config"
    assert properties["rto_target_s"] == "1800.0"


# --- recovered only when RTO was measured -------------------------------------------------------


def failed_verify_report() -> RunReport:
    """One verify step passed, the next failed: RTO not measured, though a report from before
    drill stopped writing it could still carry the first step's end as ``recovered_at``."""
    steps = [
        ran("restore-ns", "restore", 0, 60, type="velero.restore"),
        ran("ready", "verify", 60, 10),
        ran("smoke", "verify", 70, 5, status="failed", error="503 from /healthz"),
    ]
    rto = mixed_report().rto.model_copy(
        update={
            "measured_s": None,
            "margin_s": None,
            "met": False,
            "source": "not measured: verify step smoke failed",
        }
    )
    return mixed_report(
        steps=steps, undo=[], rto=rto, recovered_at=at(70), outcome="failed", exit_code=3
    )


def meta_facts(markup: str) -> dict[str, str]:
    header = parse(markup).find("dl", "meta")[0]
    keys = [dt.all_text() for dt in header.find("dt")]
    return dict(zip(keys, [dd.all_text() for dd in header.find("dd")], strict=True))


def test_the_html_of_a_failed_run_marks_no_recovery() -> None:
    markup = render_html(failed_verify_report())
    document = parse(markup)
    assert [t.all_text() for t in document.find("text", "mark-text")] == ["t0"]
    assert meta_facts(markup)["recovered"] == "-"
    rto = next(d for d in document.find("div", "objective") if d.attrs["data-objective"] == "RTO")
    assert "RTO not measured (counts as missed): not measured: verify step smoke failed" in (
        rto.all_text()
    )


def test_the_html_of_a_recovered_run_marks_when() -> None:
    markup = render_html(mixed_report(recovered_at=at(70)))  # RTO measured: 20m
    marks = [t.all_text() for t in parse(markup).find("text", "mark-text")]
    assert marks == ["t0", "recovered"]
    assert meta_facts(markup)["recovered"] == "2026-11-01 02:01:10Z"


@pytest.mark.parametrize("render", [render_text, render_markdown])
def test_text_and_markdown_of_a_failed_run_never_say_recovered(render: Render) -> None:
    out = render(failed_verify_report())
    assert "recovered" not in out.lower()
    assert "not measured: verify step smoke failed" in out


def test_junit_of_a_failed_run_has_no_recovered_at() -> None:
    suite = ET.fromstring(render_junit(failed_verify_report())).findall("testsuite")[0]
    assert "recovered_at" not in {p.get("name") for p in suite.iter("property")}


# --- long texts are wrapped, never cut ----------------------------------------------------------

LONG_REASON = ("the drill backend is shared with another team's canary " * 10)[:480] + (
    "end-of-reason-" + "x" * 6
)


def long_texts_report() -> RunReport:
    steps = [
        ran("restore-ns", "restore", 0, 60, type="velero.restore"),
        unstarted("public-endpoint", "failover", "skipped", LONG_REASON),
        ran("smoke", "verify", 62, 5, status="failed", error="E" * 500),
    ]
    return mixed_report(steps=steps, undo=[])


def test_a_500_character_reason_appears_whole_in_the_html_and_wraps() -> None:
    assert len(LONG_REASON) == 500
    document = parse(render_html(long_texts_report()))
    cells = [td for td in document.find("td") if td.all_text() == LONG_REASON]
    assert cells
    assert all("prose" in td.classes() for td in cells)
    assert [p.all_text() for p in document.find("p", "skip")] == [LONG_REASON]
    assert any(td.all_text() == "E" * 500 for td in document.find("td", "prose"))
    style = document.find("style")[0].all_text()
    assert "td.prose, p, li { overflow-wrap: anywhere; }" in style
    assert "text-overflow" not in style


@pytest.mark.parametrize("render", [render_text, render_markdown])
def test_a_500_character_reason_appears_whole_in_text_and_markdown(render: Render) -> None:
    out = render(long_texts_report())
    assert LONG_REASON in out
    assert "E" * 500 in out
