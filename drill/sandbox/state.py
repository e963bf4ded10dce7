"""Where a sandbox kept up by ``drill sandbox up`` is, for the commands that use it.

Kept apart from the runtime so that a ``--sandbox`` run finds the sandbox without importing a
single emulator: only the state file, the process that serves it, and the cloud settings.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path

from drill.clock import Clock
from drill.processes import process_alive
from providers.cloud import CloudSettings

STATE_FILE = "state.json"


@dataclass(frozen=True)
class SandboxState:
    """What ``drill sandbox up`` leaves for later commands: where the world is."""

    pid: int
    kubeconfig: str
    contexts: dict[str, str]
    plans: list[str]
    cloud: dict[str, object] = field(default_factory=dict)

    def cloud_settings(self) -> CloudSettings:
        return CloudSettings(**self.cloud)  # type: ignore[arg-type]

    def alive(self) -> bool:
        return process_alive(self.pid)


def default_sandbox_dir(environ: dict[str, str] | os._Environ[str]) -> Path:
    if environ.get("DRILL_SANDBOX_DIR"):
        return Path(environ["DRILL_SANDBOX_DIR"])
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "drill" / "sandbox"


def read_state(directory: Path) -> SandboxState | None:
    """The running sandbox's state, or None when none is up (stale files are ignored)."""
    try:
        raw = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
        state = SandboxState(
            pid=int(raw["pid"]),
            kubeconfig=str(raw["kubeconfig"]),
            contexts={str(k): str(v) for k, v in raw["contexts"].items()},
            plans=[str(p) for p in raw["plans"]],
            cloud=_cloud_fields(raw.get("cloud") or {}),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return state if state.alive() else None


def _cloud_fields(raw: dict[str, object]) -> dict[str, object]:
    """CloudSettings fields as JSON held them (lists back to tuples); unknown keys dropped."""
    known = {f.name for f in fields(CloudSettings)}
    return {
        key: tuple(str(v) for v in value) if isinstance(value, list) else value
        for key, value in raw.items()
        if key in known and isinstance(value, str | bool | list | None)
    }


def write_state(directory: Path, state: SandboxState) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{STATE_FILE}.tmp"
    temporary.write_text(json.dumps(state.__dict__, indent=2), encoding="utf-8")
    temporary.replace(directory / STATE_FILE)  # readers never see half a file


def stop_running(directory: Path, clock: Clock) -> SandboxState | None:
    """SIGTERM the sandbox process and wait for it to go; returns what was stopped."""
    state = read_state(directory)
    if state is None:
        return None
    os.kill(state.pid, signal.SIGTERM)
    deadline = clock.monotonic() + 10
    never = threading.Event()
    while state.alive() and clock.monotonic() < deadline:
        clock.sleep(0.1, never)
    return state
