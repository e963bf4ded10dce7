"""`drill run` sends its result on: JUnit file, history, Slack, webhook, Pushgateway.

The run called as the CLI calls it, and real local HTTP receivers. Deliveries never change
the exit code, and a webhook URL (a secret) appears nowhere drill writes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from drill.clock import FakeClock
from drill.commands._outputs import OutputFlags
from tests.cli.test_run import http_plan
from tests.httpserver import Answer, Script, serve
from tests.inprocess import InProcess

SECRET = "T0SECRET/B0SECRET/XXXXsecretXXXX"


def everything_written(tmp_path: Path, *outputs: str) -> str:
    text = "".join(outputs)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".xml", ".txt"):
            text += path.read_text(encoding="utf-8", errors="replace")
    return text


def test_a_run_goes_to_every_destination(
    commands: InProcess, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    receiver = Script([Answer(200, b"ok")])
    with serve(Script([Answer(200, b"ok")])) as service, serve(receiver) as hooks:
        (tmp_path / "slack-url").write_text(f"{hooks}/services/{SECRET}\n")
        env = {"DRILL_WEBHOOK_URL": f"{hooks}/hook/{SECRET}"}
        result = commands.run(
            str(http_plan(write_plan, service)),
            settings=commands.settings(env=env),
            outputs=OutputFlags(
                junit=tmp_path / "junit.xml",
                history=str(tmp_path / "history"),
                slack_webhook_file=str(tmp_path / "slack-url"),
                pushgateway=f"{hooks}/gateway",
            ),
        )
    assert result.returncode == 0, result.stderr
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    names = [case.get("name") for case in suite.iter("testcase")]
    assert {"reachable", "healthy", "RPO", "RTO"} <= set(names)
    stored = list((tmp_path / "history" / "web-check").glob("*.json"))
    assert len(stored) == 1
    assert json.loads(stored[0].read_text())["outcome"] == "passed"
    paths = sorted(path for _, path, _ in receiver.requests)
    assert paths == ["/gateway/metrics/job/drill/plan/web-check/mode/drill",
                     f"/hook/{SECRET}", f"/services/{SECRET}"]  # fmt: skip
    bodies = {
        path: body for (_, path, _), body in zip(receiver.requests, receiver.bodies, strict=True)
    }
    webhook = json.loads(bodies[f"/hook/{SECRET}"])
    assert (webhook["plan"], webhook["outcome"]) == ("web-check", "passed")
    assert webhook["report_location"].endswith(".json")
    assert b"drill_success" in bodies["/gateway/metrics/job/drill/plan/web-check/mode/drill"]
    assert SECRET not in everything_written(tmp_path, result.stdout, result.stderr)


def test_failed_deliveries_are_reported_and_do_not_change_the_exit_code(
    commands: InProcess, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    commands.clock = FakeClock()  # the deliveries' retries wait on it, not in real time
    with serve(Script([Answer(200, b"ok")])) as service:
        result = commands.run(
            str(http_plan(write_plan, service)),
            settings=commands.settings(
                env={"DRILL_WEBHOOK_URL": f"http://127.0.0.1:9/hook/{SECRET}"}
            ),
            outputs=OutputFlags(pushgateway="http://127.0.0.1:9/"),
        )
    assert result.returncode == 0
    assert "notification failed" in result.stderr or "notification_failed" in result.stderr
    assert "metrics" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_bad_destinations_stop_the_run_before_it_starts(
    commands: InProcess, write_plan: Callable[[str, str], Path], tmp_path: Path
) -> None:
    plan = str(http_plan(write_plan, "http://127.0.0.1:9"))
    earlier = tmp_path / "kept" / "demo-20260101-000000-0000"  # another run's directory
    earlier.mkdir(parents=True)
    journal = earlier / "journal.jsonl"
    journal.write_text('{"event": "run_started"}\n', encoding="utf-8")
    cases = [
        (OutputFlags(slack_webhook_file=str(tmp_path / "missing")), "missing"),
        (OutputFlags(junit=journal), "that is the journal.jsonl of run demo-20260101"),
        (OutputFlags(junit=Path(plan)), "that is the plan file this run uses"),
        (OutputFlags(pushgateway="not a url"), "--pushgateway"),
        (OutputFlags(junit=tmp_path / "no-such-dir" / "j.xml"), "no-such-dir"),
        (OutputFlags(history="gs://"), "gs://"),
    ]
    for flags, named in cases:
        result = commands.run(plan, outputs=flags)
        assert result.returncode == 2, (flags, result.stderr)
        assert named in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "reports").exists()
    assert journal.read_text(encoding="utf-8") == '{"event": "run_started"}\n'
