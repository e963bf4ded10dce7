"""`drill explain [TOPIC[.FIELD...]]`."""

from __future__ import annotations

import click

from drill.cli._common import finish, pass_settings
from drill.commands import Settings


@click.command("explain")
@click.argument("topic", required=False, metavar="[TYPE[.FIELD...]|plan|step]")
@pass_settings
def explain_command(settings: Settings, topic: str | None) -> None:
    """Explain a step type's parameters (or one: TYPE.FIELD), a plan's or a step's fields.

    Each field with its type, default, unit, what it does and an example:
    `drill explain velero.restore`, `drill explain dns.switch.verify.nameservers`,
    `drill explain plan` (the default), `drill explain step`.
    """
    from drill.commands.explain import explain

    finish(settings, lambda console: explain(topic, console))
