"""What a Job's container does when it runs, for the programs the sandbox can run.

The simulated kubelet runs no images. It runs a container's command line (``command`` then
``args``, with Kubernetes' ``$(VAR)`` references to the container's ``env`` replaced) when
the command is one of these, directly or inside ``sh -c`` / ``bash -c`` (see ``shell``):

- ``curl`` and ``wget`` against the cluster's Services (``network``: DNS, Service, ready
  pods, ports, what each workload answers) and the world outside it (``clients``);
- ``kubectl get configmap NAME [-n NAMESPACE] -o jsonpath={.data.KEY}``, which prints that
  key of the ConfigMap as the cluster holds it, enough for a recovery-point Job to read the
  recovered data as it would in a cluster;
- the shell's own ``echo``, ``true``, ``false``, ``:``, ``exit``, ``sleep`` (no time passes),
  ``set`` (``-e`` is honoured), ``export``, ``cd`` and ``exec``.

Anything else fails the container with exit code 1 and the log line ``drill sandbox: cannot
simulate WHAT`` (never the command's arguments, which may hold secrets), so a rehearsal never
passes on a command it did not run. One exception: the world can stand a ConfigMap in for a
database a recovery-point Job queries (``print_config_map``); a container the sandbox cannot
run in such a Job prints that key of that ConfigMap in its namespace, as ``psql`` would print
the newest row of the restored table.

This module must not write anything: the kubelet stores what a container printed as its log
and ends the pod with its exit code.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from drill.sandbox.kube.api.objects import Obj, dig
from drill.sandbox.kube.controllers.clients import STDERR, STDOUT, Connect, Ran, run_curl, run_wget
from drill.sandbox.kube.controllers.network import HttpAnswers, Network, Outcome, Outside
from drill.sandbox.kube.controllers.shell import (
    CannotSimulate,
    Part,
    Simple,
    Step,
    Word,
    assignment,
    expand,
    parse_script,
)

_JSONPATH_DATA = re.compile(r"^jsonpath=\{\.data\.([-._a-zA-Z0-9]+)\}$")
_CONFIG_MAPS = ("configmap", "configmaps", "cm")
_KUBE_REFERENCE = re.compile(r"\$\$|\$\(([-._a-zA-Z0-9]+)\)")
_SHELLS = ("sh", "bash", "ash", "dash")
CANNOT = "drill sandbox: cannot simulate"
RUNS = (
    "the sandbox runs curl, wget, kubectl get configmap and the shell's echo, true, false, "
    "exit, sleep, set, export and cd"
)

ReadConfigMap = Callable[[str, str], Obj | None]  # (namespace, name) -> the object


@dataclass(frozen=True)
class Reach:
    """What a running container can reach: the cluster's objects and network, now."""

    read_config_map: ReadConfigMap
    network: Network


@dataclass
class Programs:
    """What the world set up for containers to meet (stand-ins for databases, what workloads
    answer over HTTP, the world outside the cluster), and running a container. Thread-safe."""

    http: HttpAnswers = field(default_factory=HttpAnswers)
    outside: Outside | None = None
    _by_job: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def print_config_map(self, namespace: str, job_prefix: str, name: str, key: str) -> None:
        """Jobs ``job_prefix-*`` in ``namespace`` print key ``key`` of ConfigMap ``name``."""
        with self._lock:
            self._by_job[(namespace, job_prefix)] = (name, key)

    def network(self, services: Sequence[Obj], pods: Sequence[Obj]) -> Network:
        return Network(services, pods, self.http, self.outside)

    def run(self, pod: Obj, reach: Reach) -> Ran:
        """Run the pod's first container to its end: its exit code and what it printed."""
        containers = dig(pod, "spec", "containers") or []
        container: Obj = containers[0] if containers else {}
        namespace = str(dig(pod, "metadata", "namespace") or "default")
        variables = _environment(container)
        argv = [_kube_expand(str(part), variables) for part in container.get("command") or []]
        argv += [_kube_expand(str(part), variables) for part in container.get("args") or []]
        try:
            if not argv:
                raise CannotSimulate(f"the image's own entrypoint ({container.get('image')})")
            return _Shell(namespace, reach, variables).run_argv(argv)
        except CannotSimulate as why:
            job = str(dig(pod, "metadata", "labels", "job-name") or "")
            stand_in = self._stand_in(namespace, job)
            if stand_in is not None:
                printed = _value(reach.read_config_map(namespace, stand_in[0]), stand_in[1])
                return Ran(0, ((STDOUT, printed),))
            return Ran(1, ((STDERR, f"{CANNOT} {why}: {RUNS}\n"),))

    def _stand_in(self, namespace: str, job: str) -> tuple[str, str] | None:
        with self._lock:
            found = [
                printed
                for (where, prefix), printed in self._by_job.items()
                if where == namespace and job.startswith(f"{prefix}-")
            ]
        return found[0] if found else None


def _environment(container: Obj) -> dict[str, str]:
    """The container's variables: the image's usual ones, then its ``env`` with plain values
    (``valueFrom`` is not resolved: such a variable is empty)."""
    variables = {"HOME": "/root", "PATH": "/usr/local/bin:/usr/bin:/bin"}
    for variable in container.get("env") or []:
        value = str(variable.get("value") or "")
        variables[str(variable.get("name"))] = _kube_expand(value, variables)
    return variables


def _kube_expand(text: str, variables: Mapping[str, str]) -> str:
    """Kubernetes' own ``$(VAR)`` references: replaced when defined, ``$$`` is a ``$``."""

    def substitute(found: re.Match[str]) -> str:
        if found.group(0) == "$$":
            return "$"
        name = found.group(1)
        return variables.get(name, found.group(0))

    return _KUBE_REFERENCE.sub(substitute, text)


class _ExitScript(Exception):
    def __init__(self, ran: Ran) -> None:
        self.ran = ran


@dataclass
class _Shell:
    """Runs argv lists and ``sh -c`` scripts of simple commands, in one container."""

    namespace: str
    reach: Reach
    variables: dict[str, str]
    errexit: bool = False
    output: list[tuple[int, str]] = field(default_factory=list)

    def run_argv(self, argv: Sequence[str]) -> Ran:
        program = argv[0].rsplit("/", 1)[-1]
        if program in _SHELLS:
            return self._run_shell(argv[1:])
        return self._program(program, argv[1:])

    def _run_shell(self, args: Sequence[str]) -> Ran:
        script: str | None = None
        rest = list(args)
        while rest:
            arg = rest.pop(0)
            if arg == "-o" and rest:
                rest.pop(0)  # -o pipefail and the like: nothing to follow without pipes
            elif arg.startswith("-") and len(arg) > 1:
                self.errexit = self.errexit or "e" in arg
                if "c" in arg:
                    if not rest:
                        raise CannotSimulate("sh -c without a script")
                    script = rest.pop(0)
                    break
            else:
                raise CannotSimulate("a shell reading a script file")
        if script is None:
            raise CannotSimulate("a shell reading commands from its input")
        return self.run_script(parse_script(script))

    def run_script(self, steps: Sequence[Step]) -> Ran:
        status = 0
        try:
            for index, step in enumerate(steps):
                skipped = (step.joint == "&&" and status != 0) or (
                    step.joint == "||" and status == 0
                )
                if not skipped:
                    status = self._simple(step.command)
                    self.variables["?"] = str(status)
                ends_list = index + 1 == len(steps) or steps[index + 1].joint == ";"
                if self.errexit and ends_list and not skipped and status != 0:
                    break
        except _ExitScript as exited:
            return exited.ran
        return Ran(status, tuple(self.output))

    def _simple(self, command: Simple) -> int:
        words = list(command.words)
        assignments: list[tuple[str, str]] = []
        while words and (found := assignment(words[0])) is not None:
            name, value = found
            assignments.append((name, "".join(expand(_quoted(value), self.variables))))
            words.pop(0)
        argv = [field for word in words for field in expand(word, self.variables)]
        if not argv:
            self.variables.update(assignments)
            return 0
        ran = self._builtin_or_program(argv)
        self.output += _routed(ran.output, command)
        return ran.exit_code

    def _builtin_or_program(self, argv: list[str]) -> Ran:
        name, args = argv[0], argv[1:]
        if name == "exec" and args:
            return self._builtin_or_program(args)
        if name == "exit":
            code = _exit_code(args, self.variables.get("?", "0"))
            raise _ExitScript(Ran(code, tuple(self.output)))
        if name == "set":
            for arg in args:
                if arg.startswith(("-", "+")) and "e" in arg and arg != "-o":
                    self.errexit = arg.startswith("-")
            return Ran(0)
        if name == "export":
            for arg in args:
                variable, equals, value = arg.partition("=")
                if equals:
                    self.variables[variable] = value
            return Ran(0)
        if name == "cd":
            return Ran(0)
        return self.run_argv(argv)

    def _program(self, program: str, args: Sequence[str]) -> Ran:
        if program == "curl":
            return run_curl(args, self._connect())
        if program == "wget":
            return run_wget(args, self._connect())
        if program == "kubectl":
            return _kubectl(args, self.namespace, self.reach.read_config_map)
        if program == "echo":
            newline = not args or args[0] != "-n"
            words = args if newline else args[1:]
            return Ran(0, ((STDOUT, " ".join(words) + ("\n" if newline else "")),))
        if program in ("true", ":", "sleep"):
            return Ran(0)
        if program == "false":
            return Ran(1)
        raise CannotSimulate(program)

    def _connect(self) -> Connect:
        network, namespace = self.reach.network, self.namespace

        def connect(method: str, host: str, port: int, path: str) -> Outcome:
            return network.request(method, host, port, path, namespace)

        return connect


def _quoted(word: Word) -> Word:
    """An assignment's value is not split into fields: expand it as if quoted."""
    return tuple(Part(p.text, "quoted variable") if p.kind == "variable" else p for p in word)


def _exit_code(args: Sequence[str], last: str) -> int:
    text = args[0] if args else last
    if not text.isdigit():
        raise CannotSimulate("exit with a status that is no number")
    return int(text) % 256


def _routed(output: Sequence[tuple[int, str]], command: Simple) -> list[tuple[int, str]]:
    """What reaches the log of what a command wrote, after its redirections."""
    goes_to = {STDOUT: "log", STDERR: "log"}
    for redirect in command.redirects:
        if redirect.to_fd:
            goes_to[redirect.fd] = goes_to[int(redirect.target)]
        else:
            goes_to[redirect.fd] = "file"
    return [(fd, text) for fd, text in output if goes_to.get(fd) == "log"]


def _kubectl(args: Sequence[str], namespace: str, read: ReadConfigMap) -> Ran:
    words, options = _split(args)
    if len(words) != 3 or words[0] != "get" or words[1] not in _CONFIG_MAPS:
        raise CannotSimulate(f"kubectl {words[0] if words else ''}".rstrip())
    match = _JSONPATH_DATA.match(options.get("-o", ""))
    if match is None:
        raise CannotSimulate("kubectl get configmap without -o jsonpath={.data.KEY}")
    where = options.get("-n", namespace)
    found = read(where, words[2])
    if found is None:
        message = f'Error from server (NotFound): configmaps "{words[2]}" not found\n'
        return Ran(1, ((STDERR, message),))
    return Ran(0, ((STDOUT, _value(found, match.group(1))),))


def _value(config_map: Obj | None, key: str) -> str:
    """What printing ``key`` of ``config_map`` shows: its value and a newline, or nothing."""
    value = dig(config_map, "data", key) if config_map is not None else None
    return f"{value}\n" if isinstance(value, str) else ""


def _split(args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Positional words, and the values of -n/--namespace and -o/--output."""
    aliases = {"--namespace": "-n", "--output": "-o", "-n": "-n", "-o": "-o"}
    words: list[str] = []
    options: dict[str, str] = {}
    pending: str | None = None
    for arg in args:
        if pending is not None:
            options[pending] = arg
            pending = None
            continue
        flag, equals, value = arg.partition("=")
        if flag in aliases and equals:
            options[aliases[flag]] = value
        elif arg in aliases:
            pending = aliases[arg]
        else:
            words.append(arg)
    return words, options
