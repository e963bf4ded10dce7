"""JUnit XML: one case per step, RPO, RTO and failed undo; parses whatever the text holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from drill.report import Rpo, Rto, render_junit

from .samples import DNS_ERROR, PLAN, T0, mixed_report, not_measured, ran


def suite_of(xml: str) -> ET.Element:
    suites = ET.fromstring(xml).findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def cases(suite: ET.Element) -> dict[tuple[str, str], ET.Element]:
    found = {(c.get("classname", ""), c.get("name", "")): c for c in suite.iter("testcase")}
    assert len(found) == len(suite.findall("testcase")), "duplicate test cases"
    return found


def outcome(case: ET.Element) -> str:
    children = [child.tag for child in case if child.tag in ("failure", "skipped", "error")]
    assert len(children) <= 1
    return children[0] if children else "passed"


def message_of(case: ET.Element, tag: str) -> str:
    element = case.find(tag)
    assert element is not None, f"{case.get('name')} has no <{tag}>"
    return element.get("message", "")


def test_every_step_objective_and_failed_undo_is_a_case() -> None:
    suite = suite_of(render_junit(mixed_report()))
    assert suite.get("name") == f"drill.{PLAN}"
    assert {key: outcome(case) for key, case in cases(suite).items()} == {
        (f"{PLAN}.preflight", "backup-fresh"): "passed",
        (f"{PLAN}.restore", "restore-ns"): "passed",
        (f"{PLAN}.failover", "switch-dns"): "failure",
        (f"{PLAN}.failover", "scale-up"): "skipped",
        (f"{PLAN}.verify", "public-endpoint"): "skipped",
        (f"{PLAN}.verify", "smoke"): "skipped",
        (f"{PLAN}.cleanup", "drop-namespace"): "passed",
        (f"{PLAN}.objectives", "RPO"): "passed",
        (f"{PLAN}.objectives", "RTO"): "failure",
        (f"{PLAN}.objectives", "RTO as users see it"): "skipped",
        (f"{PLAN}.undo", "undo switch-dns"): "failure",
    }


def test_suite_totals_match_its_cases() -> None:
    suite = suite_of(render_junit(mixed_report()))
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "11",
        "failures": "3",
        "errors": "0",
        "skipped": "4",
    }
    assert suite.get("time") == "76.000"
    assert suite.get("timestamp") == T0.strftime("%Y-%m-%dT%H:%M:%S")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["outcome"] == "rollback_incomplete"
    assert properties["exit_code"] == "4"


def test_failure_carries_the_step_error_and_times_come_from_durations() -> None:
    found = cases(suite_of(render_junit(mixed_report())))
    dns = found[(f"{PLAN}.failover", "switch-dns")]
    failure = dns.find("failure")
    assert failure is not None
    assert failure.get("message") == DNS_ERROR
    assert failure.get("type") == "failed"
    assert DNS_ERROR in (failure.text or "")
    assert dns.get("time") == "8.000"
    assert found[(f"{PLAN}.restore", "restore-ns")].get("time") == "60.000"


def test_skipped_and_not_run_say_why() -> None:
    found = cases(suite_of(render_junit(mixed_report())))
    skipped = found[(f"{PLAN}.verify", "public-endpoint")].find("skipped")
    not_run = found[(f"{PLAN}.failover", "scale-up")].find("skipped")
    assert skipped is not None
    assert not_run is not None
    assert skipped.get("message") == "the public endpoint serves users"
    assert not_run.get("message") == "not run: an earlier step failed"


def test_missed_rto_states_measured_target_and_margin() -> None:
    found = cases(suite_of(render_junit(mixed_report())))
    failure = found[(f"{PLAN}.objectives", "RTO")].find("failure")
    assert failure is not None
    message = failure.get("message", "")
    assert "RTO 20m00s missed target 15m00s" in message
    assert "margin -5m00s" in message
    rpo_out = found[(f"{PLAN}.objectives", "RPO")].find("system-out")
    assert rpo_out is not None
    assert "RPO 10m00s within target 1h00m" in (rpo_out.text or "")


def test_unmeasured_rpo_is_skipped_but_unmeasured_rto_fails() -> None:
    report = mixed_report(
        rpo=Rpo.model_validate(
            not_measured(3600, None, "no step set a recovery point").model_dump()
        ),
        rto=Rto.model_validate(
            not_measured(900, None, "not measured: no verify step ran in this mode").model_dump()
        ),
    )
    found = cases(suite_of(render_junit(report)))
    rpo, rto = found[(f"{PLAN}.objectives", "RPO")], found[(f"{PLAN}.objectives", "RTO")]
    assert outcome(rpo) == "skipped"
    assert "no step set a recovery point" in message_of(rpo, "skipped")
    assert outcome(rto) == "failure"
    assert "RTO not measured" in message_of(rto, "failure")


def test_timed_out_and_interrupted_steps_fail_and_a_clean_run_has_no_undo_cases() -> None:
    steps = [
        ran("slow", "verify", 0, 5, status="timed_out", error="still InProgress after 5s"),
        ran("cut", "verify", 5, 1, status="interrupted", error=None),
    ]
    found = cases(suite_of(render_junit(mixed_report(steps=steps, undo=[]))))
    assert outcome(found[(f"{PLAN}.verify", "slow")]) == "failure"
    cut = found[(f"{PLAN}.verify", "cut")].find("failure")
    assert cut is not None
    assert cut.get("message") == "interrupted"
    assert not [key for key in found if key[0] == f"{PLAN}.undo"]


def test_any_text_gives_well_formed_xml() -> None:
    nasty = 'bad \x1b[31mred\x1b[0m \x00nul\x0b "quoted" <tag> & ]]> \ud800 \ufffe end'
    steps = [ran("nasty", "verify", 0, 1, status="failed", error=nasty, summary=nasty)]
    report = mixed_report(steps=steps, notes=[nasty], service=nasty)
    suite = suite_of(render_junit(report))
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == 'bad [31mred[0m nul "quoted" <tag> & ]]>   end'
    system_out = suite.find("system-out")
    assert system_out is not None
    assert "<tag> & ]]>" in (system_out.text or "")
