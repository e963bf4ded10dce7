"""``python -m drill.sandbox serve``: the background process behind ``drill sandbox up``.

It builds the world of the given plans (both modes), or the one a world file declares, with
the timing of ``--profile`` scaled by ``--time-scale``; starts the control endpoint through
which runs in other processes arm faults; writes the state file once every cluster answers,
and serves until SIGTERM/SIGINT or until ``--ttl`` runs out, so a forgotten sandbox never
outlives its welcome. On the way out it removes the state file.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from types import FrameType

from drill.clock import SystemClock
from drill.errors import DrillError
from drill.sandbox.runtime import ControlServer, Sandbox, profiles
from drill.sandbox.state import PROFILE_NAMES, STATE_FILE, SandboxState, write_state
from drill.sandbox.worlds.clusters import WorldSpec, derive
from drill.sandbox.worlds.faults import FaultSpec
from drill.sandbox.worlds.files import load_world, serving_from_plans
from drill.sandbox.worlds.plans import resolve_both_modes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drill.sandbox")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--ttl", type=float, default=8 * 3600, help="seconds before it stops")
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="fast")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--world", type=Path, help="a world file to build it from")
    parser.add_argument("plans", nargs="*", type=Path)
    args = parser.parse_intermixed_args(argv)
    try:
        world, faults = _world(args.world, args.plans)
    except DrillError as exc:
        print(f"drill sandbox: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    kube, cloud = profiles(args.profile, args.time_scale)
    clock = SystemClock()
    with (
        Sandbox(world, args.dir, profile=kube, clock=clock, cloud_profile=cloud) as sandbox,
        ControlServer(sandbox) as control,
    ):
        state = SandboxState(
            pid=os.getpid(),
            kubeconfig=str(sandbox.kubeconfig.resolve()),
            contexts=sandbox.contexts,
            plans=[str(p) for p in args.plans],
            cloud=asdict(sandbox.cloud_settings),
            control=control.url,
            token=control.token,
            profile=args.profile,
            time_scale=args.time_scale,
            world=None if args.world is None else str(args.world),
            faults=[{"name": f.name, "at_step": f.at_step, "after_s": f.after_s} for f in faults],
            stops_at=(clock.now() + timedelta(seconds=args.ttl)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        write_state(args.dir, state)
        try:
            stop.wait(args.ttl)
        finally:
            (args.dir / STATE_FILE).unlink(missing_ok=True)
    return 0


def _world(world_file: Path | None, plans: list[Path]) -> tuple[WorldSpec, list[FaultSpec]]:
    if world_file is not None:
        world, faults = load_world(world_file)
        return serving_from_plans(world, plans), faults
    return derive(resolve_both_modes(plans)), []


if __name__ == "__main__":
    sys.exit(main())
