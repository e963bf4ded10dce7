"""`drill sandbox capture PLAN`: what the plan touches, read from the real estate into a world
file, to rehearse against with `drill run PLAN --sandbox --world FILE`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drill.clock import Clock, SystemClock
from drill.commands._common import Settings, command_logger, parse_context_flags, write_atomically
from drill.commands._console import Console
from drill.errors import ExitCode, UsageError
from drill.plan import resolve

CAPTURED_HEADER = """\
# Captured by `drill sandbox capture {plan}` at {at} (read only).
# Taken for granted, as a derived world takes it (nothing in the estate says otherwise):
# heartbeat writers at the plan's intervals, that the backend targets it switches to exist,
# and that a backup holds its namespaces as they run now where it is taken.
"""


@dataclass(frozen=True)
class CaptureOptions:
    plan: str  # a name in the plans directory, or a file path
    contexts: tuple[str, ...] = ()  # ROLE=KUBECONTEXT; unmapped roles use the plan's own
    kubeconfig: str | None = None  # overrides the global --kubeconfig
    output: Path | None = None  # None: stdout
    force: bool = False  # overwrite an existing output file
    sandbox: bool = False  # read the running sandbox (its kubeconfig, contexts, emulators)


def sandbox_capture(
    settings: Settings, options: CaptureOptions, console: Console, clock: Clock | None = None
) -> int:
    """Read what the plan touches (never a write, never a Secret or an object's contents) and
    write it as a world file to ``options.output`` (or stdout). Exit 2 on bad input, an
    unreachable or unknown context, or an output file that exists without ``force``."""
    from drill.commands._capture import capture_world
    from drill.commands.run import check_contexts
    from drill.commands.sandbox import running_sandbox
    from drill.sandbox.worlds.files import world_yaml
    from providers.live import LiveProviders

    clock = clock or SystemClock()
    loaded = settings.load(options.plan)
    _require_new(options)
    overrides = parse_context_flags(options.contexts, set(loaded.plan.contexts))
    if options.sandbox:
        if overrides or options.kubeconfig:
            raise UsageError("--context and --kubeconfig do not mix with --sandbox")
        target = running_sandbox(settings.environ)
        missing = sorted(set(loaded.plan.contexts) - set(target.contexts))
        if missing:
            raise UsageError(f"the running sandbox has no cluster for role(s) {', '.join(missing)}")
        overrides = {role: target.contexts[role] for role in loaded.plan.contexts}
        providers = LiveProviders(clock, target.kubeconfig, target.cloud)
    else:
        providers = LiveProviders(clock, options.kubeconfig or settings.kubeconfig, settings.cloud)
    tiers = settings.config.tiers
    plans = [
        resolve(loaded.plan, loaded.source, mode, tiers, overrides, loaded.sha256)
        for mode in ("drill", "live")
    ]
    with command_logger(settings, console.stderr) as log:
        check_contexts(plans[0], providers, clock, log)
        now = clock.now()
        captured = capture_world(plans, providers, now)
    header = CAPTURED_HEADER.format(plan=loaded.plan.name, at=now.isoformat(timespec="seconds"))
    text = header + world_yaml(captured.world)
    for note in captured.notes:
        console.err(f"drill: capture: {note}")
    if options.output is None:
        console.out(text)
        return ExitCode.PASSED
    try:
        write_atomically(options.output, text)
    except OSError as exc:
        reason = exc.strerror or exc
        raise UsageError(f"--output {options.output}: cannot write: {reason}") from None
    console.err(f"drill: world written to {options.output}")
    return ExitCode.PASSED


def _require_new(options: CaptureOptions) -> None:
    output = options.output
    if output is None:
        return
    if output.is_dir():
        raise UsageError(f"--output {output}: is a directory; name a file")
    if output.exists() and not options.force:
        raise UsageError(f"--output {output}: exists; add --force to overwrite it")
    if not output.parent.is_dir():
        raise UsageError(f"--output {output}: no directory {output.parent}")
