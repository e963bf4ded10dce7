"""`drill heartbeat`: the writer of the heartbeat a ``kube.heartbeat`` probe reads after a restore.

Every ``--interval`` it sets ``--key`` of ConfigMap ``--namespace``/``--name`` to the current
time (ISO 8601, UTC, to the microsecond), creating the ConfigMap when there is none and leaving
its other keys alone. Run in the protected namespace (``deploy/heartbeat``), its ConfigMap goes
into every backup of that namespace, so the restored copy says when the newest data the backup
holds was written: the recovery point from data.

It runs until SIGTERM or SIGINT (or ``--count`` writes), then exits 0. Writes keep a fixed rate
from the first one. A kube context it cannot use as configured (one the kubeconfig lacks, no
kubeconfig, one that cannot be read; in-cluster outside a pod) is bad input, as to `drill run`:
one line, exit 2, before any write. A write the API refuses for good (no permission, no such
namespace) ends it with the API's message (exit 3). A transient failure (5xx, throttling,
a reset) is logged and the next write tries again: a missed heartbeat can only make RPO from
data look older than it is, never younger. The last line logged counts the writes made and
those missed; with ``--count``, a run none of whose writes was made exits 3, saying why.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from pydantic import ValidationError

from drill.clock import Clock, SystemClock
from drill.commands._common import Settings, usable_kube
from drill.commands._console import Console
from drill.errors import ExitCode, Interrupted, TransientError, UsageError
from drill.executor import stop_signals_to
from drill.logs import build_logger
from drill.steps.kube_heartbeat import DEFAULT_KEY, DEFAULT_NAME, KubeHeartbeatParams
from providers.protocols import KubeApi

IN_CLUSTER = "in-cluster"
LABELS = {"app.kubernetes.io/name": "drill-heartbeat", "app.kubernetes.io/managed-by": "drill"}


@dataclass(frozen=True)
class HeartbeatOptions:
    namespace: str
    name: str = DEFAULT_NAME
    key: str = DEFAULT_KEY
    interval: str = "30s"  # a duration, as plans write them
    context: str = IN_CLUSTER  # the kube context; in-cluster: the pod's own service account
    count: int | None = None  # stop after this many writes; None: until a signal


def heartbeat(
    settings: Settings,
    options: HeartbeatOptions,
    console: Console,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Write the heartbeat every interval until ``stop`` is set (by SIGTERM or SIGINT when none
    is given) or ``options.count`` writes are done; the exit code."""
    params = heartbeat_params(options)
    clock = clock or SystemClock()
    stop = stop or threading.Event()
    where = f"{params.namespace}/{params.name}"
    log = build_logger(settings.verbosity, stream=console.stderr).bind(
        configmap=where, key=params.key
    )
    kube = _connected(settings, options.context, clock)
    log.info("heartbeat_started", interval_s=params.interval, context=options.context)
    with _stopped_by_signals(stop, log):
        tally = _beat(kube, params, options.count, clock, stop, log)
    log.info("heartbeat_stopped", writes=tally.written, missed=tally.missed)
    if options.count is not None and tally.written == 0 and tally.missed:
        console.err(
            f"drill: no heartbeat written to {where}: all {tally.missed} writes missed "
            f"(the last: {tally.last_miss})\n"
        )
        return int(ExitCode.STEP_FAILED)
    return int(ExitCode.PASSED)


def heartbeat_params(options: HeartbeatOptions) -> KubeHeartbeatParams:
    """The options as the probe reading them would take them; bad ones name their flag."""
    if options.count is not None and options.count < 1:
        raise UsageError(f"--count {options.count}: give at least 1 (or leave it out)")
    values = {
        "namespace": options.namespace,
        "name": options.name,
        "key": options.key,
        "interval": options.interval,
    }
    try:
        params = KubeHeartbeatParams.model_validate(values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        flag = str(error["loc"][0]) if error["loc"] else "option"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise UsageError(f"--{flag} {values.get(flag)!r}: {message}") from None
    if params.interval <= 0:
        raise UsageError(f"--interval {options.interval!r}: must be longer than zero")
    return params


def _connected(settings: Settings, context: str, clock: Clock) -> KubeApi:
    """The context's client, or one line of bad input (exit 2)."""
    hint = "; outside a pod, name a kube context with --context" if context == IN_CLUSTER else ""
    return usable_kube(settings.providers(clock), context, hint)


@dataclass
class _Tally:
    """Writes made and missed (``--count`` counts both), and why the last miss was one."""

    written: int = 0
    missed: int = 0
    last_miss: str = ""

    @property
    def attempts(self) -> int:
        return self.written + self.missed


def _beat(
    kube: KubeApi,
    params: KubeHeartbeatParams,
    count: int | None,
    clock: Clock,
    stop: threading.Event,
    log: Any,
) -> _Tally:
    """Write at a fixed rate from the first write; the writes made and missed."""
    first = clock.monotonic()
    tally = _Tally()
    while not stop.is_set() and (count is None or tally.attempts < count):
        missed = _write(kube, params, clock, log)
        if missed is None:
            tally.written += 1
        else:
            tally.missed += 1
            tally.last_miss = missed
        if count is not None and tally.attempts >= count:
            break
        next_at = first + tally.attempts * params.interval
        try:
            clock.sleep(max(next_at - clock.monotonic(), 0.0), stop)
        except Interrupted:
            break
    return tally


def _write(kube: KubeApi, params: KubeHeartbeatParams, clock: Clock, log: Any) -> str | None:
    """One write; why it was missed, or None when it was made."""
    now = clock.now().isoformat()
    try:
        kube.put_config_map_value(params.namespace, params.name, params.key, now, LABELS)
    except TransientError as exc:
        log.warning("heartbeat_missed", error=str(exc), next="the next write tries again")
        return str(exc)
    log.debug("heartbeat_written", at=now)
    return None


@contextmanager
def _stopped_by_signals(stop: threading.Event, log: Any) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (only the main thread can take signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    with stop_signals_to(handle):
        yield
