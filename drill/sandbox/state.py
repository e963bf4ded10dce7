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
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from drill.clock import Clock
from drill.errors import UsageError
from drill.processes import process_alive
from providers.cloud import CloudSettings

STATE_FILE = "state.json"
# The sandbox's timing profiles (drill.sandbox.runtime.PROFILES holds their numbers).
PROFILE_NAMES = ("fast", "realistic")
CONTROL_TIMEOUT_S = 10.0
_JSON = "application/json"


@dataclass(frozen=True)
class SandboxState:
    """What ``drill sandbox up`` leaves for later commands: where the world is, how it keeps
    time, and where to ask it for faults."""

    pid: int
    kubeconfig: str
    contexts: dict[str, str]
    plans: list[str]
    cloud: dict[str, object] = field(default_factory=dict)
    control: str | None = None  # the ControlServer's URL
    token: str | None = None  # its bearer token (the state file is the owner's alone)
    profile: str = "fast"
    time_scale: float = 1.0
    world: str | None = None  # the world file it was built from, if not from the plans
    # The world file's faults, armed in every run against this sandbox (FaultSpec fields).
    faults: list[dict[str, object]] = field(default_factory=list)
    # When its --ttl runs out and it stops by itself (UTC, ISO 8601); None: an older drill's.
    stops_at: str | None = None

    def cloud_settings(self) -> CloudSettings:
        return CloudSettings(**self.cloud)  # type: ignore[arg-type]

    def alive(self) -> bool:
        return process_alive(self.pid)

    def send(self, actions: list[dict[str, object]]) -> None:
        """Have the sandbox carry out ``actions`` (``Action.as_json()``); raises UsageError
        when it cannot be reached or refuses one, with its reason."""
        if self.control is None or self.token is None:
            raise UsageError(
                "the running sandbox takes no faults (an older drill started it): run "
                "`drill sandbox down`, then `drill sandbox up` again"
            )
        import http.client  # here: `drill run --help` reads PROFILE_NAMES from this module

        where = urlsplit(self.control)
        connection = http.client.HTTPConnection(
            where.hostname or "127.0.0.1", where.port, timeout=CONTROL_TIMEOUT_S
        )
        try:
            connection.request(
                "POST",
                "/actions",
                body=json.dumps(actions).encode(),
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": _JSON},
            )
            response = connection.getresponse()
            answer = response.read()
        except OSError as exc:
            raise UsageError(f"cannot reach the sandbox at {self.control}: {exc}") from None
        finally:
            connection.close()
        if response.status != HTTPStatus.OK:
            raise UsageError(f"the sandbox refused: {_error_in(answer)}")


def _error_in(answer: bytes) -> str:
    try:
        return str(json.loads(answer)["error"])
    except (ValueError, KeyError, TypeError):
        return answer[:200].decode(errors="replace")


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
            control=_text_or_none(raw.get("control")),
            token=_text_or_none(raw.get("token")),
            profile=str(raw.get("profile") or "fast"),
            time_scale=float(raw.get("time_scale") or 1.0),
            world=_text_or_none(raw.get("world")),
            faults=[dict(f) for f in raw.get("faults") or [] if isinstance(f, dict)],
            stops_at=_text_or_none(raw.get("stops_at")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return state if state.alive() else None


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _cloud_fields(raw: dict[str, object]) -> dict[str, object]:
    """CloudSettings fields as JSON held them (lists back to tuples); unknown keys dropped."""
    known = {f.name for f in fields(CloudSettings)}
    return {
        key: tuple(str(v) for v in value) if isinstance(value, list) else value
        for key, value in raw.items()
        if key in known and isinstance(value, str | bool | list | None)
    }


def write_state(directory: Path, state: SandboxState) -> None:
    """Written whole (readers never see half a file) and readable by its owner alone: it holds
    the control token."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{STATE_FILE}.tmp"
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(state.__dict__, indent=2))
    temporary.replace(directory / STATE_FILE)


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
