"""What several commands share: the global options object and plan lookup."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import click

from drill.clock import Clock
from drill.errors import UsageError
from drill.plan import Config, LoadedPlan, find_plan, load_config, load_plan
from providers.cloud import CloudSettings
from providers.live import LiveProviders


@dataclass
class GlobalOptions:
    plans_dir: Path
    config_file: str | None
    verbosity: int
    kubeconfig: str | None = None
    cloud: CloudSettings = field(default_factory=CloudSettings)

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_file)

    def providers(self, clock: Clock) -> LiveProviders:
        """The real clouds and clusters, as the global options point at them."""
        return LiveProviders(clock, self.kubeconfig, self.cloud)

    def load(self, name_or_path: str) -> LoadedPlan:
        return load_plan(find_plan(name_or_path, self.plans_dir), self.config.tiers)


pass_options = click.make_pass_decorator(GlobalOptions)

REPORT_DIR_HELP = "Where runs keep their journal and report (env DRILL_REPORT_DIR)."
REPORT_FILE = "report.json"
JOURNAL_FILE = "journal.jsonl"


def locate_run(run: str, report_dir: Path) -> tuple[Path, Path | None]:
    """Where RUN's report and journal should be. RUN is a run id (under ``report_dir``), a run
    directory, a journal (``*.jsonl``) or a report file; an id never escapes ``report_dir``."""
    given = Path(run)
    if given.is_file():
        if given.suffix == ".jsonl":
            return given.parent / REPORT_FILE, given
        return given, None
    bare = not any(sep in run for sep in ("/", "\\")) and ".." not in run
    if bare and (report_dir / run).is_dir():
        return report_dir / run / REPORT_FILE, report_dir / run / JOURNAL_FILE
    if given.is_dir():
        return given / REPORT_FILE, given / JOURNAL_FILE
    if bare:
        raise UsageError(
            f"no run {run!r} under {report_dir} (set --report-dir or DRILL_REPORT_DIR)"
        )
    raise UsageError(f"{run}: no such file or directory")


def write_atomically(path: Path, text: str) -> None:
    """Readers of ``path`` see the old file or the new one, never a part of it (OSError)."""
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
        mapping[role] = kubecontext
    return mapping
