"""validate, show, list, tiers and plan lookup, called as the CLI calls them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.child import REPO
from tests.inprocess import InProcess


def test_shipped_plans_validate(commands: InProcess) -> None:
    plans = sorted(str(p) for p in (REPO / "plans").glob("*.yaml"))
    result = commands.validate(*plans)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok") == len(plans) >= 2


def test_broken_plan_prints_located_problems_and_exits_2(
    commands: InProcess, write_plan: Callable[[str, str], Path]
) -> None:
    path = write_plan(
        "broken",
        "version: 1\nname: broken\nservice: s\ntier: high\n"
        "phases:\n  verify:\n    - id: a\n      type: http.chek\n      timeout: 5\n",
    )
    result = commands.validate(str(path))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert f"{path}:8:13: phases.verify[0].type: unknown step type 'http.chek'" in lines[0]
    assert lines[1].startswith(f"{path}:9:16: phases.verify[0].timeout:")
    assert "Traceback" not in result.stderr


def test_validate_reports_every_file(
    commands: InProcess, write_plan: Callable[[str, str], Path]
) -> None:
    bad = write_plan("bad", "name: [\n")
    result = commands.validate("region-failure", str(bad), "no-such-plan")
    assert result.returncode == 2
    assert "region-failure.yaml: ok" in result.stdout
    assert f"{bad}:2:1: not valid YAML" in result.stderr
    assert "no plan named 'no-such-plan'" in result.stderr


def test_path_like_names_never_escape_the_plans_dir(commands: InProcess) -> None:
    result = commands.run("../plans/region-failure", dry_run=True)
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_show_differs_per_mode(commands: InProcess) -> None:
    drill_mode = commands.show("region-failure").stdout
    live_mode = commands.show("region-failure", live=True).stdout
    assert "point A drill-api.example.com. at 34.56.78.90" in drill_mode
    assert "public-endpoint (http.check): SKIPPED - the public endpoint serves users" in drill_mode
    undone = "then undone, newest first: smoke-test, scale-up-standby, switch-backend, switch-dns"
    assert undone in drill_mode
    assert "point A api.example.com. at 34.56.78.90" in live_mode
    assert "never rolls back by itself" in live_mode


def test_list_shows_plans_and_types(commands: InProcess) -> None:
    plans = commands.list_plans().stdout
    assert "region-failure" in plans
    assert "namespace-restore" in plans
    types = commands.list_step_types().stdout
    assert "http.check" in types
    assert "velero.restore" in types


def test_tiers_use_config_file_overrides(commands: InProcess, tmp_path: Path) -> None:
    config = tmp_path / "drill.yaml"
    config.write_text("tiers:\n  critical: {rpo: 1m, rto: 10m}\n  gold: {rpo: 30s, rto: 2m}\n")
    result = commands.tiers(settings=commands.settings(config_file=str(config)))
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:] if line.strip()
    }
    assert rows["critical"] == ["1m00s", "10m00s"]
    assert rows["gold"] == ["30.0s", "2m00s"]
    assert rows["high"] == ["1h00m", "4h00m"]
    assert str(config) in result.stdout


def test_bad_config_file_is_located(commands: InProcess, tmp_path: Path) -> None:
    config = tmp_path / "drill.yaml"
    config.write_text("tiers:\n  critical: {rpo: soon, rto: 10m}\n")
    result = commands.tiers(settings=commands.settings(config_file=str(config)))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{config}:2:19: tiers.critical.rpo:")


HELD_BACK = REPO / "tests" / "plan" / "plans" / "held-back-payments.yaml"


def test_warnings_print_and_pass_without_strict(commands: InProcess) -> None:
    result = commands.validate(str(HELD_BACK))
    assert result.returncode == 0
    assert result.stdout == f"{HELD_BACK}: ok (4 warnings; --strict refuses them)\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 4
    assert all(f"{HELD_BACK}:" in line and ": warning: phases.failover[" in line for line in lines)
    assert {line.split(" mode step ")[0].rsplit(" ", 1)[1] for line in lines} == {"drill", "live"}


def test_strict_makes_warnings_errors(commands: InProcess) -> None:
    result = commands.validate(str(HELD_BACK), "region-failure", strict=True)
    assert result.returncode == 2
    assert "region-failure.yaml: ok" in result.stdout
    assert f"{HELD_BACK}: ok" not in result.stdout
    assert result.stderr.count("no later step checks it") == 4
    assert "warning:" not in result.stderr


def test_run_says_its_modes_warnings_first_and_strict_refuses(commands: InProcess) -> None:
    dry = commands.run(str(HELD_BACK), dry_run=True)
    assert dry.returncode == 0
    assert dry.stderr.count(": warning: ") == 2
    assert "in drill mode step scale-api" in dry.stderr
    assert "live mode" not in dry.stderr
    refused = commands.run(str(HELD_BACK), live=True, yes=True, strict=True)
    assert refused.returncode == 2
    assert refused.stderr.count("in live mode step scale-") == 2
    assert not commands.reports.exists()  # nothing ran
