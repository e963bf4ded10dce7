"""Run ids: how a run is named, and reading back which plan's run a name is and when it began.

A run id is ``<plan name cut to 40 characters>-<YYYYMMDD-HHMMSS, UTC>-<4 hex digits>``: short
and lowercase, since run ids become parts of Kubernetes names and label values, and sortable
by time among one plan's runs. Must not import anything of drill but the foundation.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

_STAMP = "%Y%m%d-%H%M%S"
_TAIL = re.compile(r"(?P<stamp>\d{8}-\d{6})-[0-9a-f]{4}")


def run_id_prefix(plan_name: str) -> str:
    """How every run id of a plan begins."""
    return f"{plan_name[:40]}-"


def new_run_id(plan_name: str, now: datetime) -> str:
    return f"{run_id_prefix(plan_name)}{run_id_time(now)}-{secrets.token_hex(2)}"


def run_id_time(moment: datetime) -> str:
    """``moment`` as a run id writes when its run began (``YYYYMMDD-HHMMSS``)."""
    return moment.strftime(_STAMP)


def run_id_stamp(run_id: str, plan_name: str) -> str | None:
    """When a run of ``plan_name`` began, as its id writes it (``YYYYMMDD-HHMMSS``, which
    sorts as time does), or None when ``run_id`` is not a run id of that plan. Another plan
    whose name begins with this one's (``region-failure-aws``) is told apart by the shape of
    what follows the prefix."""
    prefix = run_id_prefix(plan_name)
    if not run_id.startswith(prefix):
        return None
    tail = _TAIL.fullmatch(run_id, len(prefix))
    return tail["stamp"] if tail else None
