"""Flag parsing: what click itself does, through click's CliRunner in this process.

Everything past parsing is tested by calling drill.commands directly (tests/inprocess.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from drill.cli import COMMANDS, cli
from drill.cli._common import REPORT_FORMATS
from drill.report import RENDERERS
from tests.child import REPO
from tests.inprocess import Result


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """`drill ARGS` parsed by the real command tree, with the user's DRILL_* settings removed."""
    cleared: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith(("DRILL_", "KUBECONFIG"))
    }
    environment = {**cleared, "DRILL_PLANS_DIR": str(REPO / "plans"), **(env or {})}
    result = CliRunner().invoke(cli, list(args), env=environment, prog_name="drill")
    return Result(result.exit_code, result.stdout, result.stderr)


def test_report_formats_are_the_renderers() -> None:
    assert tuple(RENDERERS) == REPORT_FORMATS


def test_help_lists_every_command_with_its_own_summary() -> None:
    ctx = click.Context(cli)
    for name, (_, _, summary) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert click.Command(name, help=summary).get_short_help_str(200) == (
            command.get_short_help_str(200)
        ), name
    listing = invoke("--help").stdout
    assert all(f"  {name}  " in listing for name in COMMANDS)


def test_the_config_file_comes_from_the_flag_or_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "drill.yaml"
    config.write_text("tiers:\n  gold: {rpo: 30s, rto: 2m}\n")
    by_env = invoke("tiers", env={"DRILL_CONFIG": str(config)})
    assert by_env.returncode == 0, by_env.stderr
    assert str(config) in by_env.stdout
    by_flag = invoke("--config", str(config), "tiers")
    assert by_flag.stdout == by_env.stdout


def test_plans_dir_comes_from_the_flag_or_the_environment(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    assert (
        invoke("--plans-dir", str(tmp_path / "mine"), "validate", "region-failure").returncode == 2
    )
    assert "region-failure.yaml: ok" in invoke("validate", "region-failure").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "region-failure", "--output", "yaml"), "Invalid value for '--output'"),
        (("report", "x", "--format", "pdf"), "Invalid value for '--format'"),
        (("run", "region-failure", "--notify-on", "never"), "Invalid value for '--notify-on'"),
        (("frobnicate",), "No such command 'frobnicate'"),
    ],
)
def test_bad_flags_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize("command", [("sandbox", "up"), ("run", "--sandbox")])
def test_a_time_scale_that_is_no_number_starts_no_sandbox(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """click's range lets NaN through (it compares false with both bounds): `drill sandbox up`
    started a sandbox whose every duration was NaN."""
    state = tmp_path / "sandbox"
    args = (*command, str(REPO / "plans" / "namespace-restore.yaml"), "--time-scale", "nan")
    result = invoke(*args, env={"DRILL_SANDBOX_DIR": str(state)})
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "drill: --time-scale nan: give a factor above 0 and at most 10 (0.1: ten times faster "
        "than the profile)\n"
    )
    assert not state.exists()


def test_a_command_error_is_one_message_and_its_exit_code() -> None:
    result = invoke("show", "no-such-plan")
    assert result.returncode == 2
    assert result.stderr.startswith("drill: no plan named 'no-such-plan'")
    assert len(result.stderr.splitlines()) == 1
