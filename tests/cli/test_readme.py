"""The README's command and flag tables say what click accepts: no more, no less.

A flag added to a command without a README row, a row for a flag that is gone, or a choice
list that drifted (`--output text|json` when five formats exist) fails here.
"""

from __future__ import annotations

import re

import click
import pytest

from drill.cli import COMMANDS, cli
from tests.child import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b")


def command(name: str) -> click.Command:
    found = cli.get_command(click.Context(cli), name)
    assert found is not None, name
    return found


def long_flags(of: click.Command) -> set[str]:
    flags = {opt for p in of.params if isinstance(p, click.Option) for opt in p.opts}
    return {flag for flag in flags if flag.startswith("--")} - {"--help"}


def all_flags(of: click.Command) -> set[str]:
    """A command's flags, and its subcommands' (`drill sandbox up --ttl`)."""
    flags = long_flags(of)
    if isinstance(of, click.Group):
        for sub in of.commands.values():
            flags |= all_flags(sub)
    return flags


def table_after(marker: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``marker``, cells stripped, header dropped."""
    rest = README[README.index(marker) :].splitlines()
    start = next(i for i, line in enumerate(rest) if line.startswith("|"))
    rows = []
    for line in rest[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        rows.append([cell.strip().replace("\\|", "|") for cell in cells])
    return rows


COMMAND_ROWS = table_after("## Commands")
RUN_ROWS = table_after("`drill run` flags:")


def test_the_command_table_lists_every_command_and_nothing_else() -> None:
    listed = {row[0].split()[1].strip("`") for row in COMMAND_ROWS}
    assert listed == set(COMMANDS)


@pytest.mark.parametrize("row", COMMAND_ROWS, ids=lambda row: row[0])
def test_each_flag_a_command_row_shows_exists(row: list[str]) -> None:
    name = row[0].split()[1].strip("`")
    shown = {flag for flag in FLAG.findall(row[0]) if flag.startswith("--")}
    assert shown <= all_flags(command(name))


def test_the_run_flag_table_is_every_run_flag() -> None:
    shown = {flag for row in RUN_ROWS for flag in FLAG.findall(row[0]) if flag.startswith("--")}
    assert shown == long_flags(command("run"))


@pytest.mark.parametrize("row", RUN_ROWS, ids=lambda row: row[0])
def test_run_flag_choices_are_clicks(row: list[str]) -> None:
    shown = re.fullmatch(r"`(--[a-z-]+) ([a-z]+(?:\|[a-z]+)+)`", row[0])
    if shown is None:
        return  # a flag that takes a value, not one of a list
    flag, choices = shown.groups()
    [option] = [p for p in command("run").params if flag in getattr(p, "opts", ())]
    assert isinstance(option.type, click.Choice)
    assert choices.split("|") == list(option.type.choices)


def test_the_global_flags_paragraph_is_every_global_flag() -> None:
    paragraph = README[README.index("Global flags (before the command)") :].split("\n\n")[0]
    shown = set(FLAG.findall(paragraph))
    options = [p for p in cli.params if isinstance(p, click.Option)]
    # Each option is shown by one of its spellings (`-v` for --verbose), and nothing else is.
    missing = [o.opts for o in options if not shown & {*o.opts} and "--version" not in o.opts]
    assert missing == []
    assert shown <= {opt for o in options for opt in o.opts}
