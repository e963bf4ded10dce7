"""Where notifications go: webhook URLs read from the environment or from a file, held masked.

A webhook URL is a credential (Slack's carries its token in the path), so it is never taken
from a plain command-line value, which would land in shell history and ``ps``. Errors name
the variable or the file, never what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from drill.errors import UsageError

NotifyKind = Literal["slack", "webhook"]

SLACK_URL_ENV = "DRILL_SLACK_WEBHOOK_URL"
WEBHOOK_URL_ENV = "DRILL_WEBHOOK_URL"
_ENV_OF: dict[NotifyKind, str] = {"slack": SLACK_URL_ENV, "webhook": WEBHOOK_URL_ENV}
_FLAG_OF: dict[NotifyKind, str] = {"slack": "--slack-webhook-file", "webhook": "--webhook-file"}


class Secret:
    """A string that prints as ``***``: safe to pass through logs, reprs and f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one place that must use it (the request)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class NotifyTarget:
    kind: NotifyKind
    url: Secret


def notify_targets(
    environ: Mapping[str, str],
    slack_file: str | Path | None = None,
    webhook_file: str | Path | None = None,
) -> list[NotifyTarget]:
    """Slack first, then the JSON webhook; a file given by flag wins over the variable.

    Raises UsageError naming the flag and file (or the variable) when a URL cannot be read or
    is not an http(s) URL.
    """
    files: dict[NotifyKind, str | Path | None] = {"slack": slack_file, "webhook": webhook_file}
    targets = []
    for kind, file in files.items():
        url = _url_from_file(kind, Path(file)) if file else _url_from_env(kind, environ)
        if url is not None:
            targets.append(NotifyTarget(kind, url))
    return targets


def _url_from_env(kind: NotifyKind, environ: Mapping[str, str]) -> Secret | None:
    name = _ENV_OF[kind]
    value = environ.get(name, "").strip()
    if not value:
        return None
    return _checked(value, f"${name}")


def _url_from_file(kind: NotifyKind, path: Path) -> Secret:
    where = f"{_FLAG_OF[kind]} {path}"
    lines = _read_text(path, where).splitlines()
    first = lines[0].strip() if lines else ""
    if not first:
        raise UsageError(f"{where}: the first line is empty; it must hold the webhook URL")
    return _checked(first, where)


def _read_text(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        # The decode error quotes bytes of the file; say only what is wrong.
        raise UsageError(f"{where}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(
            f"{where}: cannot read it ({exc.strerror or type(exc).__name__})"
        ) from None


def _checked(url: str, where: str) -> Secret:
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise UsageError(f"{where}: not an http(s) URL (its value is not shown: it is a secret)")
    return Secret(url)
