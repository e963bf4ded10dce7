"""Run history: each finished run's JSON report kept in a ReportStore, read back as a trend,
and the newest run checked for regressions against the runs before it.

Objects are named ``<plan>/<started_at as %Y%m%dT%H%M%SZ, UTC>-<run_id>.json`` and hold the
report exactly as ``drill run --output json`` prints it, so names sort oldest first and any
stored report can be read on its own.

Regressions, all about the newest run (``find_regressions``):

- **slow step**: a step of the newest run that ran (passed, failed or timed out) took more
  than ``factor`` (default 1.5) times the median of its durations in the latest ``window``
  (default 5) earlier runs *where it passed*; runs where it failed, was skipped or did not
  exist are passed over, not counted. At least 3 such earlier runs are needed, and the step
  must also be at least 1 s slower than that median (below that, a ratio is noise).
- **shrinking margin**: the RTO (or RPO) margin was measured in each of the newest 4 runs and
  was strictly smaller in each of the last 3 than in the run before it.
- **low margin**: the newest run's RTO (or RPO) margin is below 25% of its target; a missed
  target (negative margin) is the extreme case.

Each ``Regression`` states what (kind, step or objective), by how much (value, baseline,
ratio) and against what (the earlier samples and their run ids), plus one sentence for people.

Must not: import drill.cli, read the clock, or know how a store keeps its bytes (that is the
ReportStore adapter's business, in providers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drill.lazy import lazy_exports

if TYPE_CHECKING:
    from drill.history._overview import (
        Overview,
        PlanSummary,
        plan_summaries,
        render_overview_json,
        render_overview_text,
    )
    from drill.history._regressions import Regression, RegressionKind, find_regressions
    from drill.history._render import (
        Criteria,
        HistoryDocument,
        render_history_json,
        render_history_text,
    )
    from drill.history._store import (
        History,
        Skipped,
        load_history,
        load_run_directories,
        report_name,
        store_report,
        stored_plans,
    )
    from drill.history._thresholds import (
        DEFAULT_FACTOR,
        DEFAULT_WINDOW,
        LOW_MARGIN_FRACTION,
        MIN_SAMPLES,
        MIN_SLOWDOWN_S,
        SHRINK_RUNS,
    )
    from drill.history._trend import SlowestStep, TrendRow, slowest_step, trend_row, trend_rows

__all__ = [
    "DEFAULT_FACTOR",
    "DEFAULT_WINDOW",
    "LOW_MARGIN_FRACTION",
    "MIN_SAMPLES",
    "MIN_SLOWDOWN_S",
    "SHRINK_RUNS",
    "Criteria",
    "History",
    "HistoryDocument",
    "Overview",
    "PlanSummary",
    "Regression",
    "RegressionKind",
    "Skipped",
    "SlowestStep",
    "TrendRow",
    "find_regressions",
    "load_history",
    "load_run_directories",
    "plan_summaries",
    "render_history_json",
    "render_history_text",
    "render_overview_json",
    "render_overview_text",
    "report_name",
    "slowest_step",
    "store_report",
    "stored_plans",
    "trend_row",
    "trend_rows",
]
# Where each public name lives; each loads when first used, so a command loads only the part
# of history it uses: `drill history --help` prints the thresholds without the report models.
_HOMES = {
    "Overview": "_overview",
    "PlanSummary": "_overview",
    "plan_summaries": "_overview",
    "render_overview_json": "_overview",
    "render_overview_text": "_overview",
    "DEFAULT_FACTOR": "_thresholds",
    "DEFAULT_WINDOW": "_thresholds",
    "LOW_MARGIN_FRACTION": "_thresholds",
    "MIN_SAMPLES": "_thresholds",
    "MIN_SLOWDOWN_S": "_thresholds",
    "SHRINK_RUNS": "_thresholds",
    "Regression": "_regressions",
    "RegressionKind": "_regressions",
    "find_regressions": "_regressions",
    "Criteria": "_render",
    "HistoryDocument": "_render",
    "render_history_json": "_render",
    "render_history_text": "_render",
    "History": "_store",
    "Skipped": "_store",
    "load_history": "_store",
    "load_run_directories": "_store",
    "report_name": "_store",
    "store_report": "_store",
    "stored_plans": "_store",
    "SlowestStep": "_trend",
    "TrendRow": "_trend",
    "slowest_step": "_trend",
    "trend_row": "_trend",
    "trend_rows": "_trend",
}
if not TYPE_CHECKING:  # type checkers see the imports above, and flag unknown names
    __getattr__ = lazy_exports(__name__, _HOMES)
