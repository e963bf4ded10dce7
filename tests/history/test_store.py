"""Reports into a store and back: object names, newest-last order, unreadable files skipped."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest

from drill.history import load_history, load_run_directories, report_name, store_report
from drill.report import render_json
from providers.report_store import DirectoryReportStore
from tests.history.builders import PLAN, report, run_id, steady
from tests.test_layering import ROOT, imports_of


@pytest.fixture
def store(tmp_path: Path) -> DirectoryReportStore:
    return DirectoryReportStore(tmp_path / "history")


def test_names_sort_by_start_time_in_utc() -> None:
    assert report_name(report(0)) == f"{PLAN}/20261101T020000Z-{run_id(0)}.json"
    eastern = report(0).model_copy(
        update={"started_at": report(0).started_at.astimezone(timezone(timedelta(hours=-5)))}
    )
    assert report_name(eastern) == report_name(report(0))


def test_a_stored_report_is_the_json_report(store: DirectoryReportStore) -> None:
    where = store_report(report(0), store)
    assert where == str(store.root / report_name(report(0)))
    assert Path(where).read_text(encoding="utf-8") == render_json(report(0))


def test_history_reads_back_the_newest_runs_oldest_first(store: DirectoryReportStore) -> None:
    for stored in reversed(steady(6)):  # stored out of order on purpose
        store_report(stored, store)
    history = load_history(store, PLAN, last=4)
    assert [r.run_id for r in history.reports] == [run_id(i) for i in range(2, 6)]
    assert history.reports[-1] == steady(6)[-1]
    assert history.skipped == ()


def test_unreadable_files_are_skipped_and_listed_not_fatal(store: DirectoryReportStore) -> None:
    for stored in steady(3):
        store_report(stored, store)
    store.put(f"{PLAN}/20261101T030000Z-garbage.json", b"{not json")
    store.put(f"{PLAN}/20261101T040000Z-old-schema.json", b'{"schema_version": 0}')
    store.put(f"{PLAN}/20261101T050000Z-stray.json", render_json(report(9, plan="other")).encode())
    store.put(f"{PLAN}/notes.txt", b"not a report")
    history = load_history(store, PLAN, last=20)
    assert [r.run_id for r in history.reports] == [run_id(i) for i in range(3)]
    reasons = {s.name.rsplit("Z-", 1)[1]: s.reason for s in history.skipped}
    assert set(reasons) == {"garbage.json", "old-schema.json", "stray.json"}
    assert reasons["old-schema.json"].startswith("not a run report (schema version 1 or 2): ")
    assert reasons["stray.json"] == "a report of plan 'other'"


def test_last_counts_readable_reports_only(store: DirectoryReportStore) -> None:
    for stored in steady(4):
        store_report(stored, store)
    store.put(f"{PLAN}/20991231T000000Z-newest-but-broken.json", b"")
    history = load_history(store, PLAN, last=2)
    assert [r.run_id for r in history.reports] == [run_id(2), run_id(3)]
    assert len(history.skipped) == 1


def test_other_plans_are_not_read(store: DirectoryReportStore) -> None:
    store_report(report(0), store)
    store_report(report(1, plan="region-failure-aws"), store)
    assert [r.plan for r in load_history(store, PLAN, last=20).reports] == [PLAN]


def test_an_empty_store_has_no_history(store: DirectoryReportStore) -> None:
    history = load_history(store, PLAN, last=20)
    assert history.reports == ()
    assert history.skipped == ()


def test_the_history_package_stays_below_the_cli_and_sdks() -> None:
    for path in (ROOT / "drill" / "history").glob("*.py"):
        imported = imports_of(path)
        assert not [m for m in imported if m.startswith(("drill.cli", "google", "boto"))], path


def test_an_unreadable_file_newer_than_every_report_is_where_the_newest_run_would_be(
    store: DirectoryReportStore,
) -> None:
    for stored in steady(3):
        store_report(stored, store)
    store.put(f"{PLAN}/20261031T000000Z-older-and-broken.json", b"{")
    store.put(f"{PLAN}/20991231T000000Z-stray.json", render_json(report(9, plan="other")).encode())
    store.put(f"{PLAN}/20991231T000001Z-newest-and-broken.json", b"{")
    history = load_history(store, PLAN, last=20)
    assert [s.name for s in history.unread_newer] == [
        f"{PLAN}/20991231T000001Z-newest-and-broken.json"
    ]
    assert len(history.skipped) == 3


def test_unreadable_files_older_than_the_newest_report_leave_the_newest_run_known(
    store: DirectoryReportStore,
) -> None:
    for stored in steady(3):
        store_report(stored, store)
    store.put(f"{PLAN}/20261101T030000Z-garbage.json", b"{not json")
    assert load_history(store, PLAN, last=20).unread_newer == ()


def test_in_a_report_directory_only_runs_of_the_plan_begun_since_its_newest_report_count(
    store: DirectoryReportStore,
) -> None:
    for stored in steady(3):
        store.put(f"{stored.run_id}/report.json", render_json(stored).encode())
    newer, older = run_id(5), run_id(1).replace("-0001", "-00aa")
    other_plan = f"{PLAN}-aws-20991231-000000-abcd"  # begins with the plan's name, another plan
    for name in (newer, older, other_plan, "half-written"):
        store.put(f"{name}/report.json", b"{")
    [history] = load_run_directories(store, "report.json", PLAN, last=20)
    assert [s.name for s in history.unread_newer] == [f"{newer}/report.json"]
    assert len(history.skipped) == 4
