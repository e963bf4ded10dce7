"""Reports in and out of a ReportStore, under names that sort by time within each plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from pydantic import ValidationError

from drill.errors import NotFound
from drill.report import RunReport, render_json
from drill.run_ids import run_id_stamp, run_id_time
from providers.protocols import ReportStore

NAME_TIME = "%Y%m%dT%H%M%SZ"


def report_name(report: RunReport) -> str:
    """``<plan>/<started_at, UTC, to the second>-<run_id>.json``: names sort oldest first."""
    started = report.started_at.astimezone(UTC).strftime(NAME_TIME)
    return f"{report.plan}/{started}-{report.run_id}.json"


def store_report(report: RunReport, store: ReportStore) -> str:
    """Store the run's JSON report (as ``drill run --output json`` prints it); where it went."""
    return store.put(report_name(report), render_json(report).encode("utf-8"))


_VANISHED = "deleted while being read"
_OTHER_PLAN = "a report of plan"
_NO_REPORT = "no report beside this journal: the run is still going, or was killed (drill runs)"


@dataclass(frozen=True)
class Skipped:
    """A stored file that is not a readable report of this plan."""

    name: str
    reason: str

    @property
    def may_be_a_run(self) -> bool:
        """Could hold a run of the plan: it is there, and no readable report of another plan."""
        return not self.reason.startswith((_VANISHED, _OTHER_PLAN))


@dataclass(frozen=True)
class History:
    plan: str
    reports: tuple[RunReport, ...]  # oldest first
    skipped: tuple[Skipped, ...] = ()
    # Stored after the newest readable report, where a newer run of the plan would be: while
    # one is there, what the newest run was cannot be told.
    unread_newer: tuple[Skipped, ...] = ()


def load_history(store: ReportStore, plan: str, last: int) -> History:
    """The newest ``last`` readable reports of ``plan``, oldest first. Files that do not parse
    (or vanished since the listing) are skipped and listed, never fatal; reading stops once
    ``last`` reports were read, so a long history costs ``last`` reads, not one per run."""
    names = [name for name in store.names(f"{plan}/") if name.endswith(".json")]
    reports: list[RunReport] = []
    skipped: list[Skipped] = []
    unread_newer: list[Skipped] = []
    for name in reversed(names):
        if len(reports) >= last:
            break
        report = _read(store, name, plan)
        if isinstance(report, Skipped):
            skipped.append(report)
            if not reports and report.may_be_a_run:  # names sort as the runs' start times
                unread_newer.append(report)
        else:
            reports.append(report)
    reports.sort(key=lambda r: (r.started_at, r.run_id))
    return History(
        plan=plan,
        reports=tuple(reports),
        skipped=tuple(reversed(skipped)),
        unread_newer=tuple(reversed(unread_newer)) if reports else (),
    )


def stored_plans(store: ReportStore) -> list[str]:
    """The plans a history location holds reports of (its top-level folders)."""
    return sorted({name.split("/")[0] for name in store.names("") if name.count("/") == 1})


def load_run_directories(
    store: ReportStore, report_file: str, plan: str | None, last: int, journal_file: str = ""
) -> list[History]:
    """Histories read from a report directory as `drill run` leaves it (``<run_id>/<report_file>``
    per run), one per plan (only ``plan``'s when given), each of its newest ``last`` runs. A run
    directory holding ``journal_file`` but no report (a run still going, or killed) is listed
    as skipped, as an unreadable report is.

    Every run's report is read to learn its plan: a run id begins with the plan's name cut to
    40 characters, so the name alone cannot tell two long plan names apart."""
    by_plan: dict[str, list[RunReport]] = {}
    names = [name for name in store.names("") if name.count("/") == 1]
    skipped = _without_reports(names, report_file, journal_file)
    for name in names:
        if not name.endswith(f"/{report_file}"):
            continue
        read = _read(store, name, plan)
        if isinstance(read, RunReport):
            by_plan.setdefault(read.plan, []).append(read)
        elif not read.reason.startswith(_OTHER_PLAN):
            skipped.append(read)
    histories = []
    for name, reports in sorted(by_plan.items()):
        reports.sort(key=lambda r: (r.started_at, r.run_id))
        newer = _unread_runs_after(skipped, reports[-1], name)
        histories.append(History(name, tuple(reports[-last:]), tuple(skipped), newer))
    if not histories and plan is not None:
        histories.append(History(plan, (), tuple(skipped)))
    return histories


def _without_reports(names: list[str], report_file: str, journal_file: str) -> list[Skipped]:
    if not journal_file:
        return []
    reported = {name.split("/")[0] for name in names if name.endswith(f"/{report_file}")}
    return [
        Skipped(name, _NO_REPORT)
        for name in names
        if name.endswith(f"/{journal_file}") and name.split("/")[0] not in reported
    ]


def _unread_runs_after(skipped: list[Skipped], newest: RunReport, plan: str) -> tuple[Skipped, ...]:
    """The unreadable reports in run directories of ``plan`` that began no earlier than its
    newest readable run (a run directory is named by its run id)."""
    since = run_id_stamp(newest.run_id, plan) or run_id_time(newest.started_at.astimezone(UTC))
    return tuple(
        entry
        for entry in skipped
        if entry.may_be_a_run
        and (stamp := run_id_stamp(entry.name.split("/")[0], plan)) is not None
        and stamp >= since
    )


def _read(store: ReportStore, name: str, plan: str | None) -> RunReport | Skipped:
    try:
        report = RunReport.model_validate_json(store.get(name))
    except NotFound:
        return Skipped(name, _VANISHED)
    except ValidationError as exc:
        return Skipped(name, f"not a run report (schema version 1 or 2): {_first_problem(exc)}")
    if plan is not None and report.plan != plan:
        return Skipped(name, f"{_OTHER_PLAN} {report.plan!r}")
    return report


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
