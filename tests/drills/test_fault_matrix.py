"""One whole drill per fault: the documented exit code, the step the report blames, and every
object that existed before as it was, with nothing the run made left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.sandbox.worlds.faults import CATALOGUE
from tests.drills.conftest import Drill, start_drill_sandbox
from tests.drills.faultmatrix import FAULTS, PLAN, Fault, run_case

pytestmark = pytest.mark.slow


@pytest.fixture
def gcp(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([PLAN], tmp_path)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault(gcp: Drill, fault: Fault) -> None:
    outcome = run_case(gcp, fault)
    assert outcome.exit_code == fault.exit_code, outcome
    if fault.blamed is not None:
        assert fault.blamed in outcome.blamed, outcome
    else:
        assert outcome.exit_code != 0 or outcome.blamed == [], outcome
    assert outcome.leaked == [], outcome


def test_the_matrix_rehearses_every_fault_of_the_catalogue_a_gcp_plan_can_meet() -> None:
    named = {f.fault.partition("@")[0] for f in FAULTS if f.fault}
    named.add("backup-location-unavailable")  # made part of the world beforehand
    assert set(CATALOGUE) - named == set()
