"""Whether this process is the real `drill` program (``drill.cli.main``) or a test calling the
commands: only the real one may leave without interpreter teardown.

Apart from ``_common`` so that `drill --help` marks its process without importing
``drill.commands``.
"""

from __future__ import annotations


class _Process:
    real = False


def mark_real_process() -> None:
    _Process.real = True


def is_real_process() -> bool:
    return _Process.real
