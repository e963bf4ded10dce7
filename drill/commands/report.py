"""`drill report RUN`: a past run's report in any format (text, json, junit, markdown, html).

RUN is a run id under the report directory, a run directory, a journal file (``*.jsonl``; the
report.json beside it is used when there is one) or a report.json file. A run that never wrote
its report (killed, or its machine died) is rebuilt from its journal, and its notes say so.

Must not: change anything but the output file, or exit with the run's exit code: it returns 0
when it rendered the report and raises a UsageError (2) when RUN cannot be read.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from drill.commands._common import (
    JOURNAL_FILE,
    REPORT_FILE,
    Settings,
    locate_run,
    refuse_plan_file,
    refuse_run_record,
    rollback_command,
    write_atomically,
)
from drill.commands._console import Console
from drill.errors import ExitCode, PlanError, UsageError
from drill.executor import RunRecord, read_events, report_from_journal, run_record
from drill.plan import ExecutionPlan, find_plan, load_plan, resolve
from drill.report import READABLE_SCHEMA_VERSIONS, RENDERERS, RunReport
from drill.steps import Mode


@dataclass(frozen=True)
class ReportOptions:
    run: str  # a run id, a run directory, its journal or its report.json
    report_dir: Path = Path("reports")
    output_format: str = "text"  # a key of drill.report.RENDERERS
    output_file: Path | None = None  # replaced whole; None: stdout


def report(settings: Settings, options: ReportOptions, console: Console) -> int:
    """Render the run's report to stdout or the output file."""
    if options.output_file is not None:
        refuse_run_record("--output", options.output_file)
    found = load_run_report(options.run, options.report_dir, settings)
    text = RENDERERS[options.output_format](found)
    if options.output_file is None:
        console.out(text)
    else:
        for plan_file in _plan_files_of(options.run, options.report_dir, found, settings):
            refuse_plan_file("--output", options.output_file, str(plan_file))
        write_output(options.output_file, text)
    return ExitCode.PASSED


def _plan_files_of(run: str, report_dir: Path, found: RunReport, settings: Settings) -> list[Path]:
    """Where the run's plan may be: the file its journal names, and the plan of its name in
    the plans directory (a rollback of the run checks the plan is as it ran)."""
    files = []
    with contextlib.suppress(UsageError):
        files.append(find_plan(found.plan, settings.plans_dir))
    _, journal_file = locate_run(run, report_dir)
    if journal_file is not None and journal_file.is_file():
        with contextlib.suppress(UsageError):
            files.append(Path(run_record(read_events(journal_file)).plan_file))
    return files


def load_run_report(run: str, report_dir: Path, settings: Settings) -> RunReport:
    report_file, journal_file = locate_run(run, report_dir)
    has_journal = journal_file is not None and journal_file.is_file()
    if report_file.exists():
        try:
            return read_report(report_file)
        except UsageError as damaged:
            if journal_file is None or not has_journal:
                raise
            return _rebuild_instead(report_file, journal_file, damaged, settings)
    if journal_file is not None and has_journal:
        return _rebuild(journal_file, settings)
    raise UsageError(f"{report_file.parent}: no {REPORT_FILE} and no {JOURNAL_FILE}: not a run")


def _rebuild_instead(
    report_file: Path, journal_file: Path, damaged: UsageError, settings: Settings
) -> RunReport:
    """The journal is the run's record as it happened: a report.json that cannot be read
    (damaged, or written by another drill) does not hide it. When the journal cannot be read
    either, the report's own error is the one to fix."""
    try:
        return _rebuild(journal_file, settings, str(damaged))
    except UsageError:
        raise damaged from None


def read_report(path: Path) -> RunReport:
    """A report.json, checked against the schema this drill writes."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a report: not UTF-8 text") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not a report: invalid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{path}: not a report: expected a JSON object")
    version = document.get("schema_version")
    if type(version) is not int or version not in READABLE_SCHEMA_VERSIONS:
        readable = " and ".join(str(v) for v in READABLE_SCHEMA_VERSIONS)
        raise UsageError(
            f"{path}: schema_version {version!r}: this drill reads versions {readable}"
        )
    try:
        return RunReport.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise UsageError(f"{path}: not a valid report: {field}: {error['msg']}") from None


def _rebuild(
    journal_file: Path, settings: Settings, report_unreadable: str | None = None
) -> RunReport:
    events = read_events(journal_file)
    try:
        record = run_record(events)
        plan, plan_note = _plan_of(record, settings)
        rebuilt = report_from_journal(
            events,
            plan=plan,
            journal_path=str(journal_file),
            rollback_command=rollback_command(
                record.run_id, journal_file, sandbox=bool(record.sandbox)
            ),
            report_unreadable=report_unreadable,
        )
    except UsageError as exc:
        raise UsageError(f"{journal_file}: {exc}") from None
    return rebuilt.model_copy(update={"notes": [*rebuilt.notes, plan_note]})


def _plan_of(record: RunRecord, settings: Settings) -> tuple[ExecutionPlan | None, str]:
    """The run's plan as it is now, for step descriptions and the steps never reached."""
    mode: Mode = "live" if record.mode == "live" else "drill"
    try:
        tiers = settings.config.tiers
        loaded = load_plan(Path(record.plan_file), tiers)
    except (PlanError, UsageError) as exc:
        reason = str(exc).splitlines()[0]
        return None, f"plan not read ({reason}): steps the journal never reached are not listed"
    plan = resolve(loaded.plan, loaded.source, mode, tiers, record.contexts)
    note = f"step descriptions and steps the journal never reached are from {loaded.source} now"
    return plan, note


def write_output(path: Path, text: str) -> None:
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise UsageError(f"--output {path}: cannot write: {exc.strerror or exc}") from None
