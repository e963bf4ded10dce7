"""`drill report RUN`: a past run's report in any format (text, json, junit, markdown, html).

RUN is a run id under the report directory, a run directory, a journal file (``*.jsonl``; the
report.json beside it is used when there is one) or a report.json file. A run that never wrote
its report (killed, or its machine died) is rebuilt from its journal, and its notes say so.

Must not: change anything but the ``--output`` file, or exit with the run's exit code: it
exits 0 when it rendered the report, 2 when RUN cannot be read.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from drill.cli._common import (
    JOURNAL_FILE,
    REPORT_DIR_HELP,
    REPORT_FILE,
    GlobalOptions,
    locate_run,
    pass_options,
    write_atomically,
)
from drill.errors import PlanError, UsageError
from drill.executor import RunRecord, read_events, report_from_journal, run_record
from drill.plan import ExecutionPlan, load_plan, resolve
from drill.report import RENDERERS, SCHEMA_VERSION, RunReport
from drill.steps import Mode


@click.command("report")
@click.argument("run")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(RENDERERS)),
    default="text",
    show_default=True,
    help="text and markdown for people, json for tools, junit for CI, html: one offline page "
    "with a timeline.",
)
@click.option(
    "--output",
    "output_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (replaced whole, never half-written) instead of stdout.",
)
@click.option(
    "--report-dir",
    envvar="DRILL_REPORT_DIR",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=REPORT_DIR_HELP,
)
@pass_options
def report_command(
    options: GlobalOptions,
    run: str,
    output_format: str,
    output_file: Path | None,
    report_dir: Path,
) -> None:
    """Show the report of RUN: a run id, a run directory, its journal or its report.json.

    A run that did not write its report (killed, crashed) is rebuilt from its journal.
    Exit 0 when the report was written, 2 when RUN cannot be found or read.
    """
    report = load_run_report(run, report_dir, options)
    text = RENDERERS[output_format](report)
    if output_file is None:
        sys.stdout.write(text)
    else:
        write_output(output_file, text)


def load_run_report(run: str, report_dir: Path, options: GlobalOptions) -> RunReport:
    report_file, journal_file = locate_run(run, report_dir)
    if report_file.exists():
        return read_report(report_file)
    if journal_file is not None and journal_file.is_file():
        return _rebuild(journal_file, options)
    raise UsageError(f"{report_file.parent}: no {REPORT_FILE} and no {JOURNAL_FILE}: not a run")


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
    if type(version) is not int or version != SCHEMA_VERSION:
        raise UsageError(
            f"{path}: schema_version {version!r}: this drill reads version {SCHEMA_VERSION}"
        )
    try:
        return RunReport.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise UsageError(f"{path}: not a valid report: {field}: {error['msg']}") from None


def _rebuild(journal_file: Path, options: GlobalOptions) -> RunReport:
    events = read_events(journal_file)
    try:
        record = run_record(events)
        plan, plan_note = _plan_of(record, options)
        report = report_from_journal(
            events,
            plan=plan,
            journal_path=str(journal_file),
            rollback_command=_rollback_command(journal_file, record.run_id),
        )
    except UsageError as exc:
        raise UsageError(f"{journal_file}: {exc}") from None
    return report.model_copy(update={"notes": [*report.notes, plan_note]})


def _plan_of(record: RunRecord, options: GlobalOptions) -> tuple[ExecutionPlan | None, str]:
    """The run's plan as it is now, for step descriptions and the steps never reached."""
    mode: Mode = "live" if record.mode == "live" else "drill"
    try:
        tiers = options.config.tiers
        loaded = load_plan(Path(record.plan_file), tiers)
    except (PlanError, UsageError) as exc:
        reason = str(exc).splitlines()[0]
        return None, f"plan not read ({reason}): steps the journal never reached are not listed"
    plan = resolve(loaded.plan, loaded.source, mode, tiers, record.contexts)
    note = f"step descriptions and steps the journal never reached are from {loaded.source} now"
    return plan, note


def _rollback_command(journal_file: Path, run_id: str) -> str:
    run_dir = journal_file.parent
    if journal_file.name == JOURNAL_FILE and run_dir.name == run_id:
        return f"drill rollback {run_id} --report-dir {shlex.quote(str(run_dir.parent))}"
    return f"drill rollback {shlex.quote(str(journal_file))}"


def write_output(path: Path, text: str) -> None:
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise UsageError(f"--output {path}: cannot write: {exc.strerror or exc}") from None
