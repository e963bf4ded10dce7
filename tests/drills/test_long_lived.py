"""A sandbox kept up for its whole TTL stays as healthy as when it started.

Its Velero schedules and database exports keep coming on their cadence, so drills hours apart
all meet their RPO with room to spare and `drill history` flags nothing about RPO: the sandbox
never ages into a regression. The clock jumps hours forward between drills (the emulators and drill
read the same clock, as `drill sandbox up` and a later `drill run` read the same wall clock);
each drill starts at a chosen point of the schedule's period, the stalest included (while a
backup is still running, when the newest completed one is over a whole period old). And it
does not grow: what the schedules and writers made long ago is gone, as their TTLs and the
buckets' lifecycle rules would have it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from drill.sandbox.worlds.clouds import BucketWorld
from drill.sandbox.worlds.clusters import BackupPlan
from drill.sandbox.worlds.retention import PERIODS_KEPT
from tests.child import REPO
from tests.drills.conftest import Drill, start_drill_sandbox
from tests.inprocess import BriefSleeps

pytestmark = pytest.mark.slow

PLANS = [REPO / "plans" / "region-failure.yaml", REPO / "plans" / "region-failure-aws.yaml"]
SCHEDULE = "api-server-5m"
TTL_S = 8 * 3600.0
RPO_TARGET_S = 300.0
LOW_MARGIN = 0.25  # drill history flags a margin below a quarter of the target


class JumpingClock(BriefSleeps):
    """The real clock, moved forward when the test says: hours pass between two drills."""

    def __init__(self) -> None:
        super().__init__()
        self.offset_s = 0.0

    def monotonic(self) -> float:
        return super().monotonic() + self.offset_s

    def now(self) -> datetime:
        return super().now() + timedelta(seconds=self.offset_s)

    def jump_to(self, moment: datetime) -> None:
        self.offset_s += max((moment - self.now()).total_seconds(), 0.0)


@pytest.fixture
def clock() -> JumpingClock:
    return JumpingClock()


@pytest.fixture(params=PLANS, ids=lambda path: path.stem)
def plan(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture
def drill(plan: Path, tmp_path: Path, clock: JumpingClock) -> Iterator[Drill]:
    yield from start_drill_sandbox([plan], tmp_path, clock=clock)


def schedule_of(drill: Drill) -> tuple[BackupPlan, datetime, float]:
    """The schedule's plan, when its newest backup at start began, and how long one takes."""
    plan = drill.sandbox.spec.clusters["dr"].backups[SCHEDULE]
    newest = max(drill.dr.truth.backups(), key=lambda made: made.started_at)
    return plan, newest.started_at, (newest.completed_at - newest.started_at).total_seconds()


def moment_at(first: datetime, period_s: float, after: datetime, phase_s: float) -> datetime:
    """The first moment after ``after`` that is ``phase_s`` into a period of the schedule."""
    periods = math.ceil((after - first).total_seconds() / period_s)
    return first + timedelta(seconds=periods * period_s + phase_s)


def test_drills_across_the_whole_ttl_meet_their_rpo_and_history_flags_nothing(
    plan: Path, drill: Drill, clock: JumpingClock
) -> None:
    schedule, first, duration_s = schedule_of(drill)
    period_s = schedule.period_s
    started = clock.now()
    # While the next backup is still running, the newest completed one is over a period old.
    # Half-way through it leaves the run plenty of time to read it before it completes, on a
    # loaded machine too (just before its end, a slow run would already see the new one).
    stalest = duration_s / 2
    runs = [(1.0, stalest), (3.0, duration_s + 5), (5.2, period_s * 0.8), (7.0, stalest)]
    runs.append((TTL_S / 3600 - 0.1, duration_s + 10))
    rpos = []
    for hours, phase_s in runs:
        clock.jump_to(moment_at(first, period_s, started + timedelta(hours=hours), phase_s))
        drill.sandbox.cloud.catch_up()
        drill.dr.tick()
        report, result = drill.run_json(str(plan))
        assert result.returncode == 0, (hours, report["rpo"], result.stderr[-2000:])
        assert report["rpo"]["margin_s"] >= LOW_MARGIN * RPO_TARGET_S, report["rpo"]
        rpos.append(report["rpo"]["from_backup_s"])
    # The stalest runs did meet a whole period's age: the worst case was rehearsed, not missed.
    assert rpos[0] >= period_s, rpos
    assert rpos[3] >= period_s, rpos
    # The schedule kept its cadence for the whole TTL: a backup every period, none skipped.
    made = sorted(b.started_at for b in drill.dr.truth.backups() if b.schedule == SCHEDULE)
    gaps = {round((later - earlier).total_seconds()) for earlier, later in pairwise(made)}
    assert gaps == {round(period_s)}
    assert made[-1] >= clock.now() - timedelta(seconds=period_s + duration_s)
    # What ageing would flag is about RPO; a step's time or the RTO may vary with the load on
    # this machine, which is no regression of the world.
    history = drill.commands.history(plan.stem, None, output="json")
    assert history.returncode in (0, 1), history.stderr
    regressions = json.loads(history.stdout)["regressions"]
    assert [r for r in regressions if r["subject"] == "RPO"] == []


def bucket_objects(drill: Drill, bucket: BucketWorld) -> list[str]:
    cloud = drill.sandbox.cloud
    if bucket.cloud == "gcp":
        assert cloud.gcs is not None
        return sorted(cloud.gcs.objects(bucket.name))
    assert cloud.aws is not None
    return cloud.aws.object_names(bucket.name)


def most_kept(kept_s: float, period_s: float) -> int:
    """What a writer or schedule holds at most: its newest few, or all of its kept span."""
    return max(PERIODS_KEPT, math.ceil(kept_s / period_s) + 1)


def test_a_sandbox_up_for_its_whole_ttl_holds_only_its_newest_backups_and_heartbeats(
    drill: Drill, clock: JumpingClock
) -> None:
    clock.jump_to(clock.now() + timedelta(seconds=TTL_S))
    drill.sandbox.cloud.catch_up()
    drill.dr.tick()
    made = sorted(drill.dr.truth.backups(), key=lambda b: b.started_at)
    for plan in drill.sandbox.spec.clusters["dr"].backups.values():
        taken = [b.name for b in made if b.schedule == plan.schedule]
        held = sorted(
            b["metadata"]["name"]
            for b in drill.dr.velero.backups()
            if b["metadata"]["labels"].get("velero.io/schedule-name") == plan.schedule
        )
        assert len(taken) > 100, plan.schedule  # eight hours of them were made
        assert held == taken[-len(held) :], plan.schedule  # the newest ones
        assert 0 < len(held) <= most_kept(plan.kept_s, plan.period_s)
    for bucket in drill.sandbox.cloud.world.buckets.values():
        assert_bucket_bounded(drill, bucket, clock.now())


def assert_bucket_bounded(drill: Drill, bucket: BucketWorld, now: datetime) -> None:
    """The bucket holds each writer's newest objects, no more than it keeps, and the ground
    truth knows exactly those."""
    cloud = drill.sandbox.cloud
    names = bucket_objects(drill, bucket)
    bound = 0
    for beat in bucket.heartbeats.values():
        written = cloud.heartbeats(bucket.name, beat.prefix)
        held = [n for n in names if n.startswith(beat.prefix)]
        assert held == [beat.object_at(at)[0] for at in written]
        assert written[-1] >= now - timedelta(seconds=beat.interval_s)
        bound += most_kept(beat.kept_s, beat.interval_s)
    beats = bucket.heartbeats.values()
    backups = [n for n in names if not any(n.startswith(b.prefix) for b in beats)]
    taken = [cloud.backup_taken_at(bucket.name, n) for n in backups]
    assert None not in taken
    for seed in bucket.backups.values():
        assert max(at for at in taken if at) >= now - timedelta(seconds=seed.period_s)
        bound += most_kept(seed.kept_s, seed.period_s)
    assert 0 < len(names) <= bound, bucket.name
