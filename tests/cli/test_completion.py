"""`drill completion SHELL`, and the completion protocol the scripts speak.

Both are click's own, so they are parsed by the real command tree through click's CliRunner
under the program name ``drill`` (click reads ``_DRILL_COMPLETE`` only under that name); one
test runs the installed `drill` console script (next to this Python), as a shell would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.child import REPO, drill_env
from tests.cli.test_parsing import invoke

DRILL = Path(sys.executable).parent / "drill"


def protocol(words: str) -> dict[str, str]:
    """What a bash completion script sets when it asks `drill` for candidates."""
    return {
        "_DRILL_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }


def complete(workdir: Path, words: str, env: dict[str, str] | None = None) -> list[str]:
    """The candidates `drill` offers for the last of ``words``, in bash's protocol.

    Asked of the command tree in this process, from ``workdir``.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        result = invoke(env={**protocol(words), **(env or {})})
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.slow  # a child process
def test_the_installed_script_answers_the_protocol(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(DRILL)],
        cwd=tmp_path,
        env=drill_env(tmp_path, protocol("drill show region")),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["plain,region-failure-aws", "plain,region-failure"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o nosort -F"), ("zsh", "#compdef drill"), ("fish", "complete --no-files")],
)
def test_prints_each_shells_script(shell: str, marker: str) -> None:
    result = invoke("completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_DRILL_COMPLETE" in result.stdout
    assert marker in result.stdout
    assert f"{shell}_complete" in result.stdout


def test_help_says_how_to_install_it() -> None:
    result = invoke("completion", "--help")
    assert result.returncode == 0
    assert 'eval "$(drill completion bash)"' in result.stdout
    assert "drill completion fish" in result.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = invoke("completion", "tcsh")
    assert result.returncode == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr


def test_commands_complete(tmp_path: Path) -> None:
    assert complete(tmp_path, "drill ro") == ["plain,rollback"]
    assert complete(tmp_path, "drill ru") == ["plain,run", "plain,runs"]
    assert "plain,completion" in complete(tmp_path, "drill ")


def test_plan_names_complete_from_the_plans_directory(tmp_path: Path) -> None:
    assert complete(tmp_path, "drill show region") == [
        "plain,region-failure-aws",
        "plain,region-failure",
    ]
    assert complete(tmp_path, "drill validate namespace-restore n") == ["plain,namespace-restore"]


def test_plan_names_follow_plans_dir(tmp_path: Path) -> None:
    plans = tmp_path / "mine"
    plans.mkdir()
    (plans / "nightly-check.yaml").write_text("version: 1\n")
    assert complete(tmp_path, "drill --plans-dir mine show n") == ["plain,nightly-check"]
    assert complete(tmp_path, "drill show n", {"DRILL_PLANS_DIR": str(plans)}) == [
        "plain,nightly-check"
    ]


def test_paths_are_left_to_file_completion(tmp_path: Path) -> None:
    assert complete(tmp_path, f"drill show {REPO}/pl") == [f"file,{REPO}/pl"]
    assert complete(tmp_path, "drill show zzz") == ["file,zzz"]
