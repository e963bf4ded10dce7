"""Users served, probes and client cut-over, as every format shows them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from drill.report import Rto, render_html, render_junit, render_markdown, render_text

from .samples import T0, probed_report
from .test_html import parse


def unmeasured_rto() -> Rto:
    return Rto(
        target_s=900,
        measured_s=10,
        margin_s=890,
        met=True,
        source="t0 to the last verify step passing",
        service_restored_s=10,
        users_served_source="not measured: the plan has no probes",
    )


def test_text_shows_both_clocks_the_probes_and_the_cutover() -> None:
    text = render_text(probed_report())
    assert "RTO as users see it: 5.0s (t0 to the first of 3" in text
    assert "users  5/10 ok (50%), down 5.0s, served from t0+5.0s" in text
    assert "failover: 0/5 ok (0%)" in text
    assert "verify: 5/5 ok (100%), latency p50 12ms p95 12ms" in text
    assert "visible after 1.5s + old TTL 5m00s = worst case 5m02s" in text
    assert "worst case not measured: no verify nameservers" in text


def test_text_says_why_users_served_was_not_measured() -> None:
    text = render_text(probed_report(rto=unmeasured_rto(), probes=[], client_cutover=[]))
    assert "RTO as users see it: not measured: the plan has no probes" in text
    assert "PROBES" not in text
    assert "CLIENT CUT-OVER" not in text


def test_markdown_rows_and_sections() -> None:
    markdown = render_markdown(probed_report())
    assert "| RTO as users see it | - | 5.0s | - | - |" in markdown
    assert "## Probes" in markdown
    assert "| `users` | https://drill-api.example.com/healthz?token=*** | 5/10 (50%) | 5.0s |" in (
        markdown
    )
    assert "## Client cut-over (DNS)" in markdown
    assert "not measured: no verify nameservers" in markdown


def test_junit_gives_users_served_a_case_that_never_fails_the_suite() -> None:
    measured = ET.fromstring(render_junit(probed_report()))
    case = measured.find(".//testcase[@name='RTO as users see it']")
    assert case is not None
    assert case.find("failure") is None
    out = case.findtext("system-out") or ""
    assert out.startswith("RTO as users see it 5.0s")
    assert "probe users: 5/10 ok" in out
    properties = {p.get("name"): p.get("value") for p in measured.iter("property")}
    assert properties["rto_users_served_s"] == "5.0"
    unmeasured = ET.fromstring(render_junit(probed_report(rto=unmeasured_rto(), probes=[])))
    skipped = unmeasured.find(".//testcase[@name='RTO as users see it']/skipped")
    assert skipped is not None
    assert skipped.get("message") == "RTO as users see it not measured: the plan has no probes"


def test_html_draws_a_cell_per_attempt_under_the_steps() -> None:
    report = probed_report()
    document = parse(render_html(report))
    (gantt,) = document.find("svg", "gantt")
    strips = list(gantt.find("g", "probe"))
    assert [g.attrs["data-probe"] for g in strips] == ["users"]
    cells = strips[0].find("rect", "cell")
    assert len(cells) == len(report.probes[0].timeline) == 10
    assert ["ok" in c.classes() for c in cells] == [False] * 5 + [True] * 5
    # cells follow the clock, and the strip lies below every step row
    xs = [float(c.attrs["x"]) for c in cells]
    assert xs == sorted(xs)
    step_ys = [float(r.attrs["y"]) for g in gantt.find("g", "step") for r in g.find("rect")]
    assert min(float(c.attrs["y"]) for c in cells) > max(step_ys)
    hovers = [c.find("title")[0].all_text() for c in cells]
    assert hovers[0] == "+0s (failover) no answer: connection <refused> & reset"
    assert hovers[2] == "+2s (failover) 503 in 3ms: connection <refused> & reset"
    assert hovers[5] == "+5s (verify) 200 in 12ms"
    served = strips[0].find("line", "served")
    assert len(served) == 1
    assert float(served[0].attrs["x1"]) == xs[5]


def test_html_lists_probes_and_cutovers_and_escapes_them() -> None:
    markup = render_html(probed_report())
    document = parse(markup)
    (probes,) = document.find("section", "probes")
    assert "t0+5s" in probes.all_text()
    (cutover,) = document.find("section", "cutover")
    assert "worst case 5m02s" in cutover.all_text()
    assert "<refused>" not in markup  # error text from the endpoint is escaped
    users = document.find("p", "users-served")
    assert users[0].attrs["data-users-served"] == "5.0"
    assert T0.isoformat()[:10] in markup


def test_a_probe_asked_through_an_api_server_says_so_in_every_format() -> None:
    report = probed_report()
    through = report.model_copy(
        update={"probes": [p.model_copy(update={"through": "dr"}) for p in report.probes]}
    )
    said = "(through the API server of context role dr)"
    assert said in render_text(through)
    assert said in render_markdown(through)
    assert said in render_html(through)
    assert said not in render_text(report)
