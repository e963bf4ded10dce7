"""`drill schema`."""

from __future__ import annotations

import click

from drill.cli._common import finish, pass_settings
from drill.commands import Settings


@click.command("schema")
@pass_settings
def schema_command(settings: Settings) -> None:
    """Print the JSON Schema of plan files, for editors to complete and check them.

    schemas/plan.schema.json is its published copy; a plan's first line
    `# yaml-language-server: $schema=PATH` makes VS Code (YAML extension) and Neovim
    (yaml-language-server) use it.
    """
    from drill.commands.schema import schema

    finish(settings, schema)
