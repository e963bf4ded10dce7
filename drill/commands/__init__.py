"""What each `drill` command does, as plain functions a test can call without a terminal.

One module per command (``validate``, ``show``, ``list_plans``, ``tiers``, ``run``,
``rollback``, ``report``, ``history``, ``sandbox``). Each takes typed arguments (the global
``Settings``, a small frozen options object), its dependencies (a ``Console`` for streams, a
``Clock``) and returns the process's exit code; the errors it raises on purpose are
``DrillError``s, which ``exit_code_of`` turns into one message and the documented code.

Only ``_common`` and ``_console`` are imported here, so `drill --help` and `drill validate`
do not pay for the runner, reports or any SDK: a command's module is imported when it runs.

Must not: import ``drill.cli`` or click (``drill.cli`` parses flags and calls these), read
``sys.stdout``/``os.environ`` directly, or exit the process.
"""

from __future__ import annotations

from drill.commands._common import Settings
from drill.commands._console import Console, exit_code_of

__all__ = ["Console", "Settings", "exit_code_of"]
