"""`drill run` end to end: a real process, a real local HTTP server, the exit-code contract."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.cli.conftest import Drill
from tests.httpserver import Answer, Script, serve

HTTP_PLAN = """\
version: 1
name: web-check
service: web
tier: high
phases:
  preflight:
    - id: reachable
      type: http.check
      with:
        url: {url}/ping
  verify:
    - id: healthy
      type: http.check
      with:
        url: {url}/healthz
        body_contains: ok
        within: {within}
        interval: 100ms
"""


def http_plan(write_plan: Callable[[str, str], Path], url: str, within: str = "1s") -> Path:
    return write_plan("web-check", HTTP_PLAN.format(url=url, within=within))


def test_passing_http_plan_prints_report_and_exits_0(drill: Drill, write_plan) -> None:
    with serve(Script([Answer(200, b"ok")])) as url:
        result = drill("run", str(http_plan(write_plan, url)))
    assert result.returncode == 0, result.stderr
    assert "RESULT  PASSED (exit 0)" in result.stdout
    assert "healthy" in result.stdout
    assert "Traceback" not in result.stderr


def test_server_answering_500_exits_3(drill: Drill, write_plan) -> None:
    with serve(Script([Answer(500, b"down")])) as url:
        result = drill("run", str(http_plan(write_plan, url, within="300ms")))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "FAILED" in result.stdout
    assert "answered 500" in result.stdout


def test_json_output_is_the_only_thing_on_stdout(drill: Drill, write_plan, tmp_path: Path) -> None:
    with serve(Script()) as url:
        result = drill("run", str(http_plan(write_plan, url)), "--output", "json")
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert report["outcome"] == "passed"
    assert [s["id"] for s in report["steps"]] == ["reachable", "healthy"]
    # logs went to stderr as JSON lines carrying the run id
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert {e["event"] for e in events} >= {"run_started", "step_finished", "run_finished"}
    assert all(e["run_id"] == report["run_id"] for e in events)
    assert all("step" in e for e in events if e["event"] == "step_finished")
    run_dir = tmp_path / "reports" / report["run_id"]
    assert json.loads((run_dir / "report.json").read_text()) == report
    journal = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]
    assert journal[0]["event"] == "run_started"
    assert journal[-1]["event"] == "run_finished"


def test_quiet_drops_info_logs(drill: Drill, write_plan) -> None:
    with serve(Script()) as url:
        result = drill("-q", "run", str(http_plan(write_plan, url)))
    assert result.returncode == 0
    assert result.stderr == ""


def test_sigterm_mid_step_rolls_back_writes_report_and_exits_130(
    drill: Drill, write_plan, tmp_path: Path
) -> None:
    with serve(Script([Answer(200, b"ok"), Answer(503)])) as url:
        process = drill.popen(
            "run", str(http_plan(write_plan, url, within="30s")), "--output", "json"
        )
        _wait_for_event(tmp_path / "reports", "step_started", count=2)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    report = json.loads(stdout)
    assert report["outcome"] == "interrupted"
    statuses = {s["id"]: s["status"] for s in report["steps"]}
    assert statuses == {"reachable": "passed", "healthy": "interrupted"}
    assert (tmp_path / "reports" / report["run_id"] / "report.json").is_file()
    assert "Traceback" not in stderr


def _wait_for_event(report_dir: Path, event: str, count: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for journal in report_dir.glob("*/journal.jsonl"):
            if journal.read_text().count(f'"event": "{event}"') >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"no {count} {event} events in time")


def test_disaster_at_sets_t0(drill: Drill, write_plan) -> None:
    with serve(Script()) as url:
        result = drill(
            "run",
            str(http_plan(write_plan, url)),
            "--output",
            "json",
            "--disaster-at",
            "2026-01-01T00:00:00Z",
        )
    report = json.loads(result.stdout)
    assert report["disaster_at"].startswith("2026-01-01T00:00:00")
    assert report["disaster_at_source"] == "--disaster-at"
    # RTO is measured from the disaster, months ago, so the 4h target is missed: exit 1
    assert report["rto"]["met"] is False
    assert result.returncode == 1


def test_secrets_never_reach_output_report_or_journal(
    drill: Drill, write_plan, tmp_path: Path
) -> None:
    secret = "hunter2-very-secret"
    script = Script()
    with serve(script) as url:
        base = url.replace("http://", f"http://admin:{secret}@")
        plan = write_plan(
            "secretive",
            HTTP_PLAN.format(url=base, within="1s").replace(
                "        body_contains: ok\n",
                "        body_contains: ok\n        headers:\n"
                "          Authorization: Bearer ${env:API_TOKEN}\n",
            ),
        )
        result = drill("-v", "run", str(plan), env={"API_TOKEN": secret})
    assert result.returncode == 0, result.stderr
    assert any(secret in str(headers) for _, _, headers in script.requests)
    everything = result.stdout + result.stderr
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            everything += path.read_text()
    assert secret not in everything


def test_live_needs_yes_without_a_terminal(drill: Drill, write_plan) -> None:
    with serve(Script()) as url:
        result = drill("run", str(http_plan(write_plan, url)), "--live")
    assert result.returncode == 2
    assert "--yes" in result.stderr


def test_live_with_yes_runs_and_prints_rollback_command(drill: Drill, write_plan) -> None:
    with serve(Script()) as url:
        result = drill(
            "run", str(http_plan(write_plan, url)), "--live", "--yes", "--output", "json"
        )
    report = json.loads(result.stdout)
    assert report["mode"] == "live"
    assert report["rollback_command"].startswith(f"drill rollback {report['run_id']}")
    rollback = drill("rollback", report["run_id"])
    assert rollback.returncode == 0
    assert "nothing left to undo" in rollback.stdout


def test_dry_run_touches_nothing_and_shows_steps(drill: Drill, tmp_path: Path) -> None:
    result = drill("run", "region-failure", "--dry-run", "--output", "json")
    assert result.returncode == 0, result.stderr
    outline = json.loads(result.stdout)
    steps = {s["id"]: s for s in outline["steps"]}
    assert steps["public-endpoint"]["skip_reason"].startswith("the public endpoint serves users")
    assert outline["contexts"] == {
        "primary": "gke_prod_us-central1_primary",
        "dr": "gke_prod_us-east1_dr",
    }
    assert not (tmp_path / "reports").exists()


def test_context_flag_maps_roles_and_rejects_unknown_ones(drill: Drill) -> None:
    ok = drill("run", "region-failure", "--dry-run", "--output", "json", "--context", "dr=kind-dr")
    assert json.loads(ok.stdout)["contexts"]["dr"] == "kind-dr"
    bad = drill("run", "region-failure", "--dry-run", "--context", "backup=kind-dr")
    assert bad.returncode == 2
    assert "no role 'backup'" in bad.stderr
    malformed = drill("run", "region-failure", "--dry-run", "--context", "dr")
    assert malformed.returncode == 2


def test_bad_disaster_at_is_a_usage_error(drill: Drill) -> None:
    result = drill("run", "region-failure", "--dry-run", "--disaster-at", "yesterday")
    assert result.returncode == 2
    assert "ISO 8601" in result.stderr
    assert "Traceback" not in result.stderr
