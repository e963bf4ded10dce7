"""The fault matrix as a table: one whole region-failure drill per fault, in this process,
against a fresh sandbox; the exit code, the step the report blames, and whether everything that
existed before is as it was (clean) or what leaked.

    .venv/bin/python bench/fault_matrix.py [--only SUBSTRING]

The same cases are asserted by tests/drills/test_fault_matrix.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.drills.conftest import start_drill_sandbox  # noqa: E402
from tests.drills.faultmatrix import FAULTS, PLAN, Fault, Outcome, run_case  # noqa: E402


def one(fault: Fault) -> tuple[Outcome, float]:
    with tempfile.TemporaryDirectory(prefix="drill-fault-") as workdir:
        sandbox = start_drill_sandbox([PLAN], Path(workdir))
        drill = next(sandbox)
        try:
            started = time.monotonic()
            outcome = run_case(drill, fault)
            return outcome, time.monotonic() - started
        finally:
            sandbox.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the faults whose name contains this")
    args = parser.parse_args()
    chosen = [f for f in FAULTS if args.only is None or args.only in f.name]
    print(f"{'fault':<48} {'exit':>4} {'want':>4} {'time':>6}  result")
    wrong = 0
    for fault in chosen:
        outcome, seconds = one(fault)
        verdict = "clean" if outcome.clean else "LEAKED: " + "; ".join(outcome.leaked)
        blamed = f" (not passed: {', '.join(outcome.blamed)})" if outcome.blamed else ""
        mark = "" if outcome.exit_code == fault.exit_code and outcome.clean else "  <-- unexpected"
        wrong += bool(mark)
        print(
            f"{fault.name:<48} {outcome.exit_code:>4} {fault.exit_code:>4} {seconds:>5.1f}s  "
            f"{verdict}{blamed}{mark}"
        )
    print(f"{len(chosen)} faults, {len(chosen) - wrong} as documented, {wrong} not")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
