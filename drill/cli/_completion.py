"""`drill completion bash|zsh|fish`: the shell completion script, and plan-name completion.

The scripts are click's own (``click.shell_completion``): they call ``drill`` back with
``_DRILL_COMPLETE`` set, and click answers from the command tree, so new commands and flags
complete without touching this module. ``complete_plan_names`` is the ``shell_complete`` of
PLAN arguments: the names in the plans directory, or file paths.

Must not: load plans (completion runs on every key press), or import anything heavy.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem, get_completion_class

PROG_NAME = "drill"
# What the scripts set when they ask drill for candidates; click derives the same name
# from the program name, so the installed `drill` answers it.
COMPLETE_VAR = "_DRILL_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    For the current shell:
      bash:  eval "$(drill completion bash)"
      zsh:   eval "$(drill completion zsh)"     (after compinit)
      fish:  drill completion fish | source
    \b
    For every new shell, add the eval line to ~/.bashrc or ~/.zshrc, or for fish:
      drill completion fish > ~/.config/fish/completions/drill.fish
    """
    click.echo(completion_script(ctx.find_root().command, shell), nl=False)


def completion_script(cli: click.Command, shell: str) -> str:
    completion_class = get_completion_class(shell)
    if completion_class is None:  # click.Choice has already refused it; a guard for callers
        raise click.BadParameter(f"no completion for {shell!r}", param_hint="SHELL")
    return completion_class(cli, {}, PROG_NAME, COMPLETE_VAR).source()


def complete_plan_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Plan names in the plans directory that start with ``incomplete``.

    Something that looks like a path, or matches no name, is left to the shell's own file
    completion: PLAN may also be a file.
    """
    if "/" in incomplete or incomplete.startswith("."):
        return [CompletionItem(incomplete, type="file")]
    from drill.plan import list_plan_files

    stems = (p.stem for p in list_plan_files(_plans_dir(ctx)))
    names = dict.fromkeys(s for s in stems if s.startswith(incomplete))  # .yaml and .yml: once
    return [CompletionItem(name) for name in names] or [CompletionItem(incomplete, type="file")]


def _plans_dir(ctx: click.Context) -> Path:
    # The group's callback does not run while completing, but its parsed flags (and their
    # env var and default) are there.
    value = ctx.find_root().params.get("plans_dir")
    return value if isinstance(value, Path) else Path("plans")
