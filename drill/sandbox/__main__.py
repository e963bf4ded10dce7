"""``python -m drill.sandbox serve``: the background process behind ``drill sandbox up``.

It builds the world of the given plans (both modes), writes the state file once every cluster
answers, and serves until SIGTERM/SIGINT or until ``--ttl`` runs out, so a forgotten sandbox
never outlives its welcome. On the way out it removes the state file.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from drill.clock import SystemClock
from drill.errors import DrillError
from drill.sandbox.runtime import Sandbox
from drill.sandbox.state import STATE_FILE, SandboxState, write_state
from drill.sandbox.worlds.clusters import derive
from drill.sandbox.worlds.plans import resolve_both_modes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drill.sandbox")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--ttl", type=float, default=8 * 3600, help="seconds before it stops")
    parser.add_argument("plans", nargs="+", type=Path)
    args = parser.parse_args(argv)
    try:
        resolved = resolve_both_modes(args.plans)
    except DrillError as exc:
        print(f"drill sandbox: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with Sandbox(derive(resolved), args.dir, clock=SystemClock()) as sandbox:
        state = SandboxState(
            pid=os.getpid(),
            kubeconfig=str(sandbox.kubeconfig.resolve()),
            contexts=sandbox.contexts,
            plans=[str(p) for p in args.plans],
            cloud=asdict(sandbox.cloud_settings),
        )
        write_state(args.dir, state)
        try:
            stop.wait(args.ttl)
        finally:
            (args.dir / STATE_FILE).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
