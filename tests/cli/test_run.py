"""`drill run` as the CLI calls it: a real local HTTP server, the exit-code contract.

The same through the real entry point, with signals: tests/cli/test_entry_point.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from drill.clock import FakeClock
from tests.httpserver import Answer, Script, serve
from tests.inprocess import InProcess

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


def test_passing_http_plan_prints_report_and_exits_0(
    commands: InProcess, write_plan: Callable[[str, str], Path]
) -> None:
    with serve(Script([Answer(200, b"ok")])) as url:
        result = commands.run(str(http_plan(write_plan, url)))
    assert result.returncode == 0, result.stderr
    assert "RESULT  PASSED (exit 0)" in result.stdout
    assert "healthy" in result.stdout
    assert "Traceback" not in result.stderr


def test_server_answering_500_exits_3(
    commands: InProcess, write_plan: Callable[[str, str], Path]
) -> None:
    commands.clock = FakeClock()  # the retries within 300ms take no real time
    with serve(Script([Answer(500, b"down")])) as url:
        result = commands.run(str(http_plan(write_plan, url, within="300ms")))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "FAILED" in result.stdout
    assert "answered 500" in result.stdout


def test_json_output_is_the_only_thing_on_stdout(
    commands: InProcess, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    with serve(Script()) as url:
        result = commands.run(str(http_plan(write_plan, url)), output="json")
    report = json.loads(result.stdout)
    assert report["schema_version"] == 2
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


def test_quiet_drops_info_logs(commands: InProcess, write_plan: Callable[[str, str], Path]) -> None:
    with serve(Script()) as url:
        result = commands.run(
            str(http_plan(write_plan, url)), settings=commands.settings(verbosity=-1)
        )
    assert result.returncode == 0
    assert result.stderr == ""


def test_disaster_at_sets_t0(commands: InProcess, write_plan: Callable[[str, str], Path]) -> None:
    with serve(Script()) as url:
        result = commands.run(
            str(http_plan(write_plan, url)), output="json", disaster_at="2026-01-01T00:00:00Z"
        )
    report = json.loads(result.stdout)
    assert report["disaster_at"].startswith("2026-01-01T00:00:00")
    assert report["disaster_at_source"] == "--disaster-at"
    # RTO is measured from the disaster, months ago, so the 4h target is missed: exit 1
    assert report["rto"]["met"] is False
    assert result.returncode == 1


def test_secrets_never_reach_output_report_or_journal(
    commands: InProcess,
    write_plan: Callable[[str, str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
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
        monkeypatch.setenv("API_TOKEN", secret)  # what ${env:...} reads
        result = commands.run(str(plan), settings=commands.settings(verbosity=1))
    assert result.returncode == 0, result.stderr
    assert any(secret in str(headers) for _, _, headers in script.requests)
    everything = result.stdout + result.stderr
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            everything += path.read_text()
    assert secret not in everything


def test_an_unset_header_variable_stops_the_run_before_anything_runs(
    commands: InProcess, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """It was read only when the request was sent: a verify step failed after the restore
    and the failover (exit 3), which a live run does not undo."""
    script = Script()
    with serve(script) as url:
        plan = write_plan(
            "unset-token",
            HTTP_PLAN.format(url=url, within="1s").replace(
                "        body_contains: ok\n",
                "        body_contains: ok\n        headers:\n"
                "          Authorization: Bearer ${env:DRILL_TEST_UNSET_TOKEN}\n",
            ),
        )
        result = commands.run(str(plan), live=True, yes=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "drill: environment variable not set, used in request headers as ${env:NAME}: "
        "DRILL_TEST_UNSET_TOKEN (step healthy); set it before the run\n"
    )
    assert script.requests == []
    assert not (tmp_path / "reports").exists()


def test_live_needs_yes_without_a_terminal(
    commands: InProcess, write_plan: Callable[[str, str], Path]
) -> None:
    with serve(Script()) as url:
        result = commands.run(str(http_plan(write_plan, url)), live=True)
    assert result.returncode == 2
    assert "--yes" in result.stderr


def test_live_with_yes_runs_and_prints_rollback_command(
    commands: InProcess, write_plan: Callable[[str, str], Path]
) -> None:
    with serve(Script()) as url:
        result = commands.run(str(http_plan(write_plan, url)), live=True, yes=True, output="json")
    report = json.loads(result.stdout)
    assert report["mode"] == "live"
    assert report["rollback_command"].startswith(f"drill rollback {report['run_id']}")
    rollback = commands.rollback(report["run_id"])
    assert rollback.returncode == 0
    assert "nothing left to undo" in rollback.stdout


def test_dry_run_touches_nothing_and_shows_steps(commands: InProcess, tmp_path: Path) -> None:
    result = commands.run("region-failure", dry_run=True, output="json")
    assert result.returncode == 0, result.stderr
    outline = json.loads(result.stdout)
    steps = {s["id"]: s for s in outline["steps"]}
    assert steps["public-endpoint"]["skip_reason"].startswith("the public endpoint serves users")
    assert outline["contexts"] == {
        "primary": "gke_prod_us-central1_primary",
        "dr": "gke_prod_us-east1_dr",
    }
    assert not (tmp_path / "reports").exists()


def test_context_flag_maps_roles_and_rejects_unknown_ones(commands: InProcess) -> None:
    ok = commands.run("region-failure", dry_run=True, output="json", contexts=("dr=kind-dr",))
    assert json.loads(ok.stdout)["contexts"]["dr"] == "kind-dr"
    bad = commands.run("region-failure", dry_run=True, contexts=("backup=kind-dr",))
    assert bad.returncode == 2
    assert "no role 'backup'" in bad.stderr
    malformed = commands.run("region-failure", dry_run=True, contexts=("dr",))
    assert malformed.returncode == 2


def test_a_role_mapped_twice_to_different_contexts_is_refused(commands: InProcess) -> None:
    """Which of two kube contexts a role acts on is never left to the order of the flags."""
    twice = commands.run("region-failure", dry_run=True, contexts=("dr=kind-dr", "dr=prod"))
    assert twice.returncode == 2
    assert twice.stderr == (
        "drill: --context 'dr=prod': role 'dr' is already mapped to 'kind-dr'; "
        "give each role one kube context\n"
    )
    shown = commands.show("region-failure", contexts=("dr=kind-dr", "dr=prod"))
    assert shown.returncode == 2
    assert "role 'dr' is already mapped to 'kind-dr'" in shown.stderr
    same = commands.run(
        "region-failure", dry_run=True, output="json", contexts=("dr=kind-dr", "dr=kind-dr")
    )
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["contexts"]["dr"] == "kind-dr"


def test_bad_disaster_at_is_a_usage_error(commands: InProcess) -> None:
    result = commands.run("region-failure", dry_run=True, disaster_at="yesterday")
    assert result.returncode == 2
    assert "ISO 8601" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_disaster_at_before_the_year_1_in_utc_is_a_usage_error(commands: InProcess) -> None:
    result = commands.run("region-failure", dry_run=True, disaster_at="0001-01-01T00:00:00+01:00")
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "drill: --disaster-at '0001-01-01T00:00:00+01:00' is before the year 1 in UTC\n"
    )
