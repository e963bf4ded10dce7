"""`drill list`, `show` and `validate` answer a question asked before from the answer cache
(``drill.answers``), before their command modules (and pydantic, the plan models, the step
modules) are imported; otherwise they compute it, and store it for next time.

Must not: import a command module at import time; let the cache change an answer or fail one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn, TextIO, cast

import drill
import providers
from drill.answers import Answer, AnswerCache, CacheUnusable, Question, Stream, answer_key
from drill.answers import cache_dir as answers_dir
from drill.commands import Console, Settings, exit_code_of
from drill.errors import ExitCode
from drill.locations import config_path

# drill's own code: an edited source file makes every stored answer stale.
CODE_ROOTS = (Path(drill.__file__).parent, Path(providers.__file__).parent)
# Answers worth keeping: a verdict on the inputs. An internal error (4) is computed again.
STORABLE = (ExitCode.PASSED, ExitCode.INVALID)


def finish_remembered(
    settings: Settings, question: Question, command: Callable[[Console], int]
) -> NoReturn:
    """Print the answer to ``question`` and exit with its code (as ``finish`` does)."""
    raise SystemExit(answer(settings, question, Console.of_process(), command))


def question(
    settings: Settings, command: str, options: dict[str, object], plans: Iterable[str] = ()
) -> Question:
    """``command``'s question: its flags, the global ones, and what its answer may read (the
    config file, every file a PLAN name could be, the plans directory)."""
    names = tuple(plans)
    config, _ = config_path(settings.config_file, settings.environ)
    candidates = [
        path
        for name in names
        for path in (
            Path(name),
            settings.plans_dir / name,
            settings.plans_dir / f"{name}.yaml",
            settings.plans_dir / f"{name}.yml",
        )
    ]
    flags = {
        **options,
        "plans": list(names),
        "plans_dir": str(settings.plans_dir),
        "config": settings.config_file,
        "verbosity": settings.verbosity,
        "kubeconfig": settings.kubeconfig,
        "cloud": repr(settings.cloud),
        "log_file": None if settings.log_file is None else str(settings.log_file),
    }
    return Question(command, flags, (config, *candidates), (settings.plans_dir,))


def answer(
    settings: Settings, asked: Question, console: Console, command: Callable[[Console], int]
) -> int:
    """``command``'s exit code and output on ``console``: the stored answer when nothing it
    depends on changed since, else computed (and stored when it is a verdict)."""
    directory = answers_dir(settings.environ) if settings.remember_answers else None
    if directory is None:
        return _compute(settings, console, command)
    cache = AnswerCache(directory)
    terminals = (console.stdout.isatty(), console.stderr.isatty())
    try:
        key = answer_key(asked, settings.environ, terminals, CODE_ROOTS)
    except CacheUnusable as exc:
        _say_why(settings, console, exc)
        return _compute(settings, console, command)
    try:
        stored = cache.get(key)
    except CacheUnusable as exc:  # computed again, and stored in its place
        _say_why(settings, console, exc)
        stored = None
    if stored is not None:
        return _replay(stored, console)
    recorded = Answer(0)
    recording = Console(
        _recorder(console.stdout, "out", recorded),
        _recorder(console.stderr, "err", recorded),
        console.stdin,
    )
    recorded.exit_code = _compute(settings, recording, command)
    if recorded.exit_code in STORABLE:
        try:
            # An input edited while the command read it: its answer is not this key's.
            if answer_key(asked, settings.environ, terminals, CODE_ROOTS) != key:
                raise CacheUnusable("an input changed while the answer was computed")
            cache.put(key, recorded)
        except CacheUnusable as exc:
            _say_why(settings, console, exc)
    return recorded.exit_code


def _compute(settings: Settings, console: Console, command: Callable[[Console], int]) -> int:
    return exit_code_of(lambda: command(console), console, settings.verbosity > 0)


def _replay(stored: Answer, console: Console) -> int:
    for stream, text in stored.writes:
        (console.stdout if stream == "out" else console.stderr).write(text)
    return stored.exit_code


def _say_why(settings: Settings, console: Console, reason: CacheUnusable) -> None:
    """At debug level only (-v): the answer is the same either way."""
    if settings.verbosity > 0:
        from drill.logs import build_logger

        build_logger(settings.verbosity, stream=console.stderr).debug(
            "answer cache not used", reason=str(reason)
        )


class _Recorder:
    """A stream that writes through to ``stream`` and keeps each write in ``answer``."""

    def __init__(self, stream: TextIO, name: Stream, answer: Answer) -> None:
        self._stream = stream
        self._name: Stream = name
        self._answer = answer

    def write(self, text: str) -> int:
        self._answer.writes.append((self._name, text))
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _recorder(stream: TextIO, name: Stream, answer: Answer) -> TextIO:
    return cast(TextIO, _Recorder(stream, name, answer))
