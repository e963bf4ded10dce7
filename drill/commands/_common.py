"""What several commands share: the global settings, plan lookup and run locations."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from drill.errors import PermanentError, UsageError
from providers.cloud import CloudSettings

if TYPE_CHECKING:
    from drill.clock import Clock
    from drill.plan import Config, LoadedPlan
    from providers.live import LiveProviders
    from providers.protocols import KubeApi

REPORT_FILE = "report.json"
JOURNAL_FILE = "journal.jsonl"
ROLLBACK_REPORT = "rollback-report"  # .json and .html, beside the run's own report
# What a run directory keeps as its record: `drill rollback`, `runs`, `report` and `history`
# read them, so no output flag may write over one.
RUN_RECORDS = (JOURNAL_FILE, REPORT_FILE, f"{ROLLBACK_REPORT}.json")


@dataclass(frozen=True)
class Settings:
    """What the global flags and the environment say, for every command.

    ``environ`` is the environment the command sees (the process's, or a test's): config and
    sandbox locations and webhook URLs are read from it, never from ``os.environ``.
    """

    environ: Mapping[str, str]
    plans_dir: Path = Path("plans")
    config_file: str | None = None
    verbosity: int = 0
    kubeconfig: str | None = None
    cloud: CloudSettings = field(default_factory=CloudSettings)
    log_file: Path | None = None  # --log-file: JSON lines there, none on stderr
    # False with --no-cache: list, show and validate compute every answer (drill.answers).
    remember_answers: bool = True

    @cached_property
    def config(self) -> Config:
        from drill.plan import load_config

        return load_config(self.config_file, self.environ)

    def providers(self, clock: Clock) -> LiveProviders:
        """The real clouds and clusters, as the settings point at them."""
        from providers.live import LiveProviders

        return LiveProviders(clock, self.kubeconfig, self.cloud)

    def load(self, name_or_path: str) -> LoadedPlan:
        from drill.plan import find_plan, load_plan

        return load_plan(find_plan(name_or_path, self.plans_dir), self.config.tiers)


@contextlib.contextmanager
def command_logger(
    settings: Settings, stderr: TextIO, *, beside_view: bool = False
) -> Iterator[Any]:
    """A command's structlog logger, and where its lines go.

    With ``--log-file``: JSON lines appended to that file, none on the terminal. Beside the
    terminal view (``stderr`` prints above it): warnings and errors for people, everything
    with -v, nothing with -q, without the run id the view's title shows. Otherwise stderr:
    JSON lines unless it is a terminal.
    """
    from drill.logs import build_logger, level_beside_view  # structlog: not for --help

    if settings.log_file is not None:
        with open_log_file(settings.log_file) as out:
            yield build_logger(settings.verbosity, stream=out, json_lines=True)
        return
    if beside_view:
        level = level_beside_view(settings.verbosity)
        yield build_logger(
            settings.verbosity, stream=stderr, json_lines=False, level=level, hide=("run_id",)
        )
        return
    yield build_logger(settings.verbosity, stream=stderr)


def require_log_file(settings: Settings) -> None:
    """A --log-file that cannot be written is refused before a run starts anything (exit 2)."""
    if settings.log_file is not None:
        with open_log_file(settings.log_file) as out:
            out.flush()


@contextlib.contextmanager
def open_log_file(path: Path) -> Iterator[TextIO]:
    """``path`` opened to append lines (a usage error, exit 2, when it cannot be, or when it
    is a run's journal or report: log lines there would mangle it)."""
    refuse_run_record("--log-file", path)
    try:
        out = path.open("a", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise UsageError(f"--log-file {path}: cannot write to it ({exc.strerror or exc})") from None
    with out:
        yield out


def rollback_command(run_id: str, journal: Path, *, sandbox: bool) -> str:
    """The command that undoes what run ``run_id`` (its journal at ``journal``) left changed.
    A sandbox run's says ``--sandbox``: as printed, it acts on the sandbox and on nothing else
    (its journal says so too, and rollback goes by the journal)."""
    run_dir = journal.parent
    if journal.name == JOURNAL_FILE and run_dir.name == run_id:
        where = f"{run_id} --report-dir {shlex.quote(str(run_dir.parent))}"
    else:
        where = shlex.quote(str(journal))
    return f"drill rollback {where}" + (" --sandbox" if sandbox else "")


def usable_kube(providers: LiveProviders, context: str, consequence: str = "") -> KubeApi:
    """The context's client. One that cannot be used as the kubeconfig says (a context it
    lacks, no kubeconfig that can be read, in-cluster outside a pod) is bad input, as to
    `drill run`: one line, exit 2, ``consequence`` added to it. Reachability is not asked."""
    try:
        return providers.kube(context)
    except PermanentError as exc:
        raise UsageError(f"{exc}{consequence}") from None


def locate_run(run: str, report_dir: Path) -> tuple[Path, Path | None]:
    """Where RUN's report and journal should be. RUN is a run id (under ``report_dir``), a run
    directory, a journal (``*.jsonl``) or a report file; an id never escapes ``report_dir``."""
    if not run.strip():
        # Path("") is the current directory, and report_dir / "" the report directory.
        raise UsageError(
            "RUN is empty: give a run id (`drill runs --all` lists them), a run directory, "
            "a journal or a report file"
        )
    given = Path(run)
    if given.is_file():
        if given.suffix == ".jsonl":
            return given.parent / REPORT_FILE, given
        return given, None
    # "." is the current directory, never the report directory itself.
    bare = not any(sep in run for sep in ("/", "\\")) and ".." not in run and run != "."
    if bare and (report_dir / run).is_dir():
        return report_dir / run / REPORT_FILE, report_dir / run / JOURNAL_FILE
    if given.is_dir():
        return given / REPORT_FILE, given / JOURNAL_FILE
    if bare:
        raise UsageError(
            f"no run {run!r} under {report_dir} (set --report-dir or DRILL_REPORT_DIR)"
        )
    raise UsageError(f"{run}: no such file or directory")


def refuse_run_record(flag: str, path: Path) -> None:
    """UsageError when ``path`` is a run's journal or report: an output written there would
    replace the record a rollback of that run, or its report, is made from."""
    target = path.resolve()
    if target.name in RUN_RECORDS and (target.parent / JOURNAL_FILE).is_file():
        raise UsageError(
            f"{flag} {path}: that is the {target.name} of run {target.parent.name}, which "
            "drill reads to report and roll back that run; write the output elsewhere"
        )


def refuse_plan_file(flag: str, path: Path | None, plan: str) -> None:
    """UsageError when ``path`` is the plan file ``plan`` itself: what the flag writes would
    replace it, or append to it, and the run's rollback checks the plan is as it ran."""
    with contextlib.suppress(OSError):  # a path that does not exist yet is no plan
        if path is not None and path.samefile(plan):
            raise UsageError(
                f"{flag} {path}: that is the plan file this run uses; write it elsewhere"
            )


def write_atomically(path: Path, text: str) -> None:
    """Readers of ``path`` see the old file or the new one, never a part of it (OSError)."""
    import tempfile  # here: `drill --help` imports this module, and tempfile imports shutil

    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide a CI artefact from its readers
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def parse_context_flags(values: tuple[str, ...], roles: set[str]) -> dict[str, str]:
    """``--context dr=gke_x`` pairs, each naming a role the plan declares."""
    mapping: dict[str, str] = {}
    for value in values:
        role, sep, kubecontext = value.partition("=")
        if not sep or not role or not kubecontext:
            raise UsageError(f"--context {value!r}: write it as ROLE=KUBECONTEXT, e.g. dr=gke_dr")
        if role not in roles:
            known = ", ".join(sorted(roles)) or "none"
            raise UsageError(f"--context {value!r}: the plan has no role {role!r} (roles: {known})")
        if mapping.get(role, kubecontext) != kubecontext:
            raise UsageError(
                f"--context {value!r}: role {role!r} is already mapped to {mapping[role]!r}; "
                "give each role one kube context"
            )
        mapping[role] = kubecontext
    return mapping
