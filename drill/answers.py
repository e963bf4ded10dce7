"""Answers `drill list`, `show` and `validate` gave, kept so that asking again is answered
without loading pydantic, the plan models or the step modules.

An answer (what went to stdout and stderr, in order, and the exit code) is stored under a key
that covers everything it depends on: the command and every flag, the working directory, the
bytes of every file the command could read (each plan a name could resolve to, every plan file
in the plans directory, the config file, or that it is absent), the environment variables drill
reads, whether stdout and stderr are terminals, drill's version and the size and modification
time of each of its source files, the Python version and the library directories on
``sys.path``. Change any of them and the key changes: a stale answer is never printed.

The cache only ever saves time: an input that cannot be read, an entry that cannot be read or
parsed, a directory that cannot be written, all end in ``CacheUnusable`` (said at debug level)
and the command computes its answer as it would without a cache.

Where: ``$DRILL_CACHE_DIR``, else ``$XDG_CACHE_HOME/drill/answers`` (``~/.cache/...``); off
with ``DRILL_NO_CACHE=1`` or ``drill --no-cache``. At most ``MAX_ENTRIES`` entries, newest kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from drill import __version__
from drill.locations import default_answers_dir

FORMAT = 1  # of the entries and keys; bump when either changes
MAX_ENTRIES = 500
# Larger inputs are not fingerprinted (drill refuses plan and config files over 1 MiB anyway).
MAX_INPUT_BYTES = 4 * 1024 * 1024
PLAN_SUFFIXES = (".yaml", ".yml")
# What the commands read from the environment, or what changes how their text is written.
ENVIRONMENT = ("HOME", "XDG_CONFIG_HOME", "PYTHONIOENCODING", "PYTHONUTF8", "LANG", "LC_ALL")
ENVIRONMENT_PREFIXES = ("DRILL_",)

Stream = Literal["out", "err"]


class CacheUnusable(Exception):
    """Why the cache cannot be used this time; the command computes its answer instead."""


@dataclass(frozen=True)
class Question:
    """A command with all its flags, and every file and directory its answer may read."""

    command: str
    options: Mapping[str, object]  # JSON-able: every flag, the command's and the global ones
    files: tuple[Path, ...] = ()  # their bytes, or that they are absent
    directories: tuple[Path, ...] = ()  # their entries' names and every plan file's bytes


@dataclass
class Answer:
    exit_code: int
    writes: list[tuple[Stream, str]] = field(default_factory=list)  # in the order written


def cache_dir(environ: Mapping[str, str]) -> Path | None:
    """Where answers are kept, or None when the cache is turned off."""
    if environ.get("DRILL_NO_CACHE", "") not in ("", "0"):
        return None
    named = environ.get("DRILL_CACHE_DIR")
    return Path(named) if named else default_answers_dir(environ)


def answer_key(
    question: Question,
    environ: Mapping[str, str],
    terminals: tuple[bool, bool],
    code_roots: Iterable[Path],
) -> str:
    """The key the answer to ``question`` is stored under (CacheUnusable: an input unreadable)."""
    inputs = {
        "format": FORMAT,
        "drill": __version__,
        "python": [sys.version, sys.executable],
        "libraries": [_mtime(Path(entry)) for entry in sys.path if entry],
        "code": [_tree_state(root) for root in code_roots],
        "cwd": _cwd(),
        "command": question.command,
        "options": question.options,
        "environment": {
            name: value
            for name, value in environ.items()
            if name in ENVIRONMENT or name.startswith(ENVIRONMENT_PREFIXES)
        },
        "terminals": terminals,
        "files": {str(path): _file_state(path) for path in question.files},
        "directories": {str(path): _directory_state(path) for path in question.directories},
    }
    try:
        text = json.dumps(inputs, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise CacheUnusable(f"options are not plain data: {exc}") from None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AnswerCache:
    """One JSON file per answer, named by its key; written whole or not at all."""

    def __init__(self, directory: Path, max_entries: int = MAX_ENTRIES) -> None:
        self.directory = directory
        self.max_entries = max_entries

    def get(self, key: str) -> Answer | None:
        """The stored answer, None if there is none (CacheUnusable: one there is unusable)."""
        path = self.directory / f"{key}.json"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise CacheUnusable(f"cannot read {path}: {exc}") from None
        try:
            answer = _parse_entry(json.loads(text), key)
        except ValueError as exc:
            raise CacheUnusable(f"{path}: {exc}") from None
        with contextlib.suppress(OSError):  # newest-used survive pruning; read-only is fine
            os.utime(path)
        return answer

    def put(self, key: str, answer: Answer) -> None:
        """Store ``answer`` (CacheUnusable: the directory cannot be written)."""
        entry = {"key": key, "exit_code": answer.exit_code, "writes": answer.writes}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(entry, out)
                os.replace(temp, self.directory / f"{key}.json")
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
            self._prune()
        except OSError as exc:
            raise CacheUnusable(f"cannot write to {self.directory}: {exc}") from None

    def _prune(self) -> None:
        """Keep the newest ``max_entries`` entries (OSError)."""
        entries = []
        for entry in os.scandir(self.directory):
            if entry.name.endswith(".json"):
                with contextlib.suppress(FileNotFoundError):  # another drill pruned it
                    entries.append((entry.stat().st_mtime_ns, entry.path))
        entries.sort(reverse=True)
        for _, path in entries[self.max_entries :]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _parse_entry(data: object, key: str) -> Answer:
    """A stored entry, checked field by field (ValueError: it is not one, or not ``key``'s)."""
    if not isinstance(data, dict) or data.get("key") != key:
        raise ValueError("not an entry for this key")
    exit_code, writes = data.get("exit_code"), data.get("writes")
    if not isinstance(exit_code, int) or not isinstance(writes, list):
        raise ValueError("no exit code or writes")
    answer = Answer(exit_code)
    for write in writes:
        if not (
            isinstance(write, list)
            and len(write) == 2
            and write[0] in ("out", "err")
            and isinstance(write[1], str)
        ):
            raise ValueError(f"not a write: {write!r}")
        answer.writes.append((write[0], write[1]))
    return answer


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError as exc:  # the working directory was removed
        raise CacheUnusable(f"no working directory: {exc}") from None


def _mtime(path: Path) -> list[object]:
    try:
        return [str(path), os.stat(path).st_mtime_ns]
    except OSError:
        return [str(path), None]


def _file_state(path: Path) -> str:
    """A digest of the file's bytes, "absent" or "directory" (CacheUnusable otherwise)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        return "absent"
    except IsADirectoryError:
        return "directory"
    except OSError as exc:
        raise CacheUnusable(f"cannot read {path}: {exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise CacheUnusable(f"{path} is larger than {MAX_INPUT_BYTES} bytes")
    return hashlib.sha256(data).hexdigest()


def _directory_state(path: Path) -> dict[str, str] | str:
    """Each entry's name; a plan file's bytes digest. "absent" when there is no directory."""
    try:
        names = sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return "absent"
    except OSError as exc:
        raise CacheUnusable(f"cannot list {path}: {exc}") from None
    return {
        name: _file_state(path / name) if name.endswith(PLAN_SUFFIXES) else "entry"
        for name in names
    }


def _tree_state(root: Path) -> list[list[object]]:
    """Size and modification time of every Python file under ``root``: an edited source file
    of an editable install changes the key (a stat each, under a millisecond in all)."""
    found: list[list[object]] = []
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError as exc:
        raise CacheUnusable(f"cannot list {root}: {exc}") from None
    for entry in entries:
        if entry.is_dir() and entry.name != "__pycache__":
            found += _tree_state(Path(entry.path))
        elif entry.name.endswith(".py"):
            stat = entry.stat()
            found.append([entry.path, stat.st_size, stat.st_mtime_ns])
    return found
