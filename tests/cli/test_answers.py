"""The answer cache of `drill list`, `show` and `validate`: a stored answer is the computed one
byte for byte, any change to what it depends on computes it again, and a cache that cannot be
used changes nothing. Through click's CliRunner in this process, as `drill` parses the flags.

A stored answer is told from a computed one by doctoring the entry: an answer that says
"doctored" came from the cache.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from drill.answers import AnswerCache
from drill.cli import _answers as cli_answers
from drill.cli import cli
from tests.child import REPO

HELD_BACK = REPO / "tests" / "plan" / "plans" / "held-back-payments.yaml"
BROKEN = "version: 1\nname: broken\nservice: s\ntier: high\nphases:\n  verify:\n    - id: a\n"
CONFIG = "tiers:\n  critical:\n    rpo: 1m\n    rto: 10m\n"


@dataclass(frozen=True)
class Said:
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Workspace:
    root: Path

    @property
    def plans(self) -> Path:
        return self.root / "plans"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def config(self) -> Path:
        return self.root / "xdg" / "drill" / "config.yaml"

    def drill(self, *args: str, **env: str | None) -> Said:
        environment: dict[str, str | None] = {
            "DRILL_PLANS_DIR": str(self.plans),
            "DRILL_CACHE_DIR": str(self.cache),
            "XDG_CONFIG_HOME": str(self.root / "xdg"),
            "DRILL_CONFIG": None,
            "DRILL_NO_CACHE": None,
            **env,
        }
        result = CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)
        return Said(result.exit_code, result.stdout, result.stderr)

    def entries(self) -> list[Path]:
        return sorted(self.cache.glob("*.json")) if self.cache.is_dir() else []

    def doctor(self) -> None:
        """Every stored answer now says "doctored" on stdout (so a reply from it shows)."""
        for path in self.entries():
            entry = json.loads(path.read_text(encoding="utf-8"))
            entry["writes"] = [["out", "doctored\n"]]
            path.write_text(json.dumps(entry), encoding="utf-8")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.chdir(tmp_path)
    workspace = Workspace(tmp_path)
    shutil.copytree(REPO / "plans", workspace.plans)
    shutil.copy(HELD_BACK, workspace.plans / "held-back.yaml")
    (workspace.plans / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    workspace.config.parent.mkdir(parents=True)
    workspace.config.write_text(CONFIG, encoding="utf-8")
    return workspace


QUESTIONS = [
    pytest.param(("list",), id="list"),
    pytest.param(("list", "--types"), id="list-types"),
    pytest.param(("show", "region-failure"), id="show"),
    pytest.param(("show", "region-failure", "--live", "--context", "dr=other"), id="show-live"),
    pytest.param(("show", "region-failure", "--context", "nope=x"), id="show-bad-context"),
    pytest.param(("show", "no-such-plan"), id="show-unknown-plan"),
    pytest.param(("validate", "plans/region-failure.yaml", "namespace-restore"), id="valid"),
    pytest.param(("validate", "broken", "region-failure"), id="invalid"),
    pytest.param(("validate", "held-back"), id="warnings"),
    pytest.param(("validate", "--strict", "held-back"), id="strict"),
]


@pytest.mark.parametrize("args", QUESTIONS)
def test_a_stored_answer_is_the_computed_one_byte_for_byte(
    work: Workspace, args: tuple[str, ...]
) -> None:
    computed = work.drill(*args, DRILL_NO_CACHE="1")
    assert work.entries() == []
    first = work.drill(*args)
    assert len(work.entries()) == 1
    again = work.drill(*args)
    assert computed == first == again
    assert computed.stdout + computed.stderr  # every one of these says something


def test_a_repeated_question_is_answered_from_the_cache(work: Workspace) -> None:
    work.drill("validate", "broken")
    work.doctor()
    said = work.drill("validate", "broken")
    assert (said.exit_code, said.stdout, said.stderr) == (2, "doctored\n", "")


def test_an_answer_is_stored_with_its_interleaving_and_exit_code(work: Workspace) -> None:
    said = work.drill("validate", "broken", "region-failure")
    [entry] = work.entries()
    stored = json.loads(entry.read_text(encoding="utf-8"))
    assert stored["exit_code"] == said.exit_code == 2
    assert [stream for stream, _ in stored["writes"]][-1] == "out"  # the "ok" came last
    assert "".join(text for stream, text in stored["writes"] if stream == "out") == said.stdout
    assert "".join(text for stream, text in stored["writes"] if stream == "err") == said.stderr


CHANGES: dict[str, Callable[[Workspace], object]] = {
    "a plan's byte": lambda w: _append(w.plans / "region-failure.yaml", " "),
    "a new plan file": lambda w: shutil.copy(w.plans / "broken.yaml", w.plans / "extra.yml"),
    "a removed plan file": lambda w: (w.plans / "namespace-restore.yaml").unlink(),
    "the config edited": lambda w: _append(w.config, "# edited\n"),
    "the config removed": lambda w: w.config.unlink(),
}


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize(
    "args", [("list",), ("show", "region-failure"), ("validate", "region-failure")]
)
def test_a_changed_input_computes_the_answer_again(
    work: Workspace, args: tuple[str, ...], change: str
) -> None:
    work.drill(*args)
    work.doctor()
    CHANGES[change](work)
    said = work.drill(*args)
    assert "doctored" not in (said.stdout + said.stderr)
    assert said == work.drill(*args, DRILL_NO_CACHE="1")


def test_the_config_file_matters_for_every_command_that_reads_tiers(work: Workspace) -> None:
    before = work.drill("show", "namespace-restore")
    work.config.write_text("tiers:\n  high:\n    rpo: 2m\n    rto: 3m\n", encoding="utf-8")
    after = work.drill("show", "namespace-restore")
    assert "RPO 2m00s (config file override" in after.stdout
    assert before.stdout != after.stdout


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({}, {"DRILL_CONFIG": "elsewhere.yaml"}),
        ({}, {"XDG_CONFIG_HOME": "other-xdg"}),
        ({}, {"DRILL_SOMETHING_NEW": "1"}),
    ],
)
def test_a_changed_environment_computes_the_answer_again(
    work: Workspace, first: dict[str, str], then: dict[str, str]
) -> None:
    work.drill("validate", "region-failure", **first)
    work.doctor()
    said = work.drill("validate", "region-failure", **then)
    assert "doctored" not in (said.stdout + said.stderr)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (
            ("show", "region-failure", "--context", "dr=a"),
            ("show", "region-failure", "--context", "dr=b"),
        ),
        (("show", "region-failure"), ("show", "region-failure", "--live")),
        (("validate", "held-back"), ("validate", "--strict", "held-back")),
        (("list",), ("--plans-dir", "plans", "list")),
        (("list",), ("--config", "xdg/drill/config.yaml", "list")),
        (("list",), ("-v", "list")),
    ],
)
def test_a_changed_flag_computes_the_answer_again(
    work: Workspace, first: tuple[str, ...], then: tuple[str, ...]
) -> None:
    work.drill(*first)
    work.doctor()
    assert "doctored" not in work.drill(*then).stdout


def test_a_plan_name_resolving_elsewhere_computes_the_answer_again(work: Workspace) -> None:
    work.drill("validate", "region-failure.yaml")
    work.doctor()
    # The same name now finds a file in the working directory before the plans directory.
    shutil.copy(work.plans / "broken.yaml", work.root / "region-failure.yaml")
    said = work.drill("validate", "region-failure.yaml")
    assert said.exit_code == 2
    assert "doctored" not in (said.stdout + said.stderr)


def test_an_edited_drill_source_file_computes_the_answer_again(
    work: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The key reads drill's source tree; here a copy of one of its files stands for it, so
    # editing it disturbs no other test running at the same time.
    tree = tmp_path / "code"
    tree.mkdir()
    source = tree / "locations.py"
    source.write_bytes((REPO / "drill" / "locations.py").read_bytes())
    monkeypatch.setattr(cli_answers, "CODE_ROOTS", (tree,))
    work.drill("list")
    work.doctor()
    assert work.drill("list").stdout == "doctored\n"
    before = source.stat()
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    said = work.drill("list")
    assert "doctored" not in (said.stdout + said.stderr)
    assert "region-failure" in said.stdout


@pytest.mark.parametrize("garbage", ["{not json", '{"key": "another"}', "[]", ""])
def test_a_corrupt_entry_is_computed_again_and_replaced(work: Workspace, garbage: str) -> None:
    computed = work.drill("validate", "broken", "region-failure")
    [entry] = work.entries()
    entry.write_text(garbage, encoding="utf-8")
    assert work.drill("validate", "broken", "region-failure") == computed
    assert json.loads(entry.read_text(encoding="utf-8"))["exit_code"] == 2


def test_an_unwritable_cache_directory_changes_nothing(work: Workspace) -> None:
    computed = work.drill("show", "region-failure", DRILL_NO_CACHE="1")
    (work.root / "a-file").write_text("", encoding="utf-8")
    unusable = str(work.root / "a-file" / "answers")
    assert work.drill("show", "region-failure", DRILL_CACHE_DIR=unusable) == computed
    said = work.drill("-v", "show", "region-failure", DRILL_CACHE_DIR=unusable)
    assert said.stdout == computed.stdout
    assert "answer cache not used" in said.stderr  # said at debug level only


def test_an_unreadable_plan_is_not_fingerprinted_and_still_reported(work: Workspace) -> None:
    # A directory named like a plan: drill reports it; the key says "directory" for it.
    (work.plans / "odd.yaml").mkdir()
    computed = work.drill("validate", "plans/odd.yaml", DRILL_NO_CACHE="1")
    assert work.drill("validate", "plans/odd.yaml") == computed
    assert work.drill("validate", "plans/odd.yaml") == computed


@pytest.mark.parametrize("off", [{"DRILL_NO_CACHE": "1"}, {"DRILL_NO_CACHE": "yes"}])
def test_drill_no_cache_turns_it_off(work: Workspace, off: dict[str, str]) -> None:
    work.drill("list", **off)
    assert work.entries() == []


def test_the_no_cache_flag_turns_it_off(work: Workspace) -> None:
    work.drill("list")
    work.doctor()
    said = work.drill("--no-cache", "list")
    assert "doctored" not in (said.stdout + said.stderr)
    assert len(work.entries()) == 1


def test_commands_that_touch_clusters_store_nothing(work: Workspace) -> None:
    work.drill("--kubeconfig", "missing", "run", "region-failure")
    work.drill("tiers")
    assert work.entries() == []


def test_the_cache_keeps_the_newest_entries(tmp_path: Path) -> None:
    from drill.answers import Answer

    cache = AnswerCache(tmp_path, max_entries=3)
    for number in range(5):
        cache.put(f"k{number}", Answer(0, [("out", f"{number}\n")]))
        entry = tmp_path / f"k{number}.json"
        os.utime(entry, ns=(number * 10**9, number * 10**9))
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == ["k2", "k3", "k4"]
    assert cache.get("k1") is None
    stored = cache.get("k4")
    assert stored is not None
    assert stored.writes == [("out", "4\n")]
