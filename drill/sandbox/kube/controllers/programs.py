"""What a Job's container prints, for the few programs the sandbox can run.

The simulated kubelet runs no images. It knows one program, enough for a recovery-point Job to
read the recovered data in the sandbox as it would in a cluster:

    kubectl get configmap NAME [-n NAMESPACE] -o jsonpath={.data.KEY}

prints that key of the ConfigMap (in the pod's own namespace unless ``-n`` says otherwise), as
the cluster holds it when the container ends. And the world can stand a ConfigMap in for a
database a recovery-point Job queries (``Programs.print_config_map``): the Job's pods print that
key of that ConfigMap in their namespace, whatever their command, as ``psql`` would print the
newest row of the restored table. Any other command prints nothing. This module must not write
anything: the kubelet stores what it returns as the pod's log.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drill.sandbox.kube.api.objects import Obj, dig

_JSONPATH_DATA = re.compile(r"^jsonpath=\{\.data\.([-._a-zA-Z0-9]+)\}$")
_CONFIG_MAPS = ("configmap", "configmaps", "cm")

ReadConfigMap = Callable[[str, str], Obj | None]  # (namespace, name) -> the object


@dataclass
class Programs:
    """Stand-ins the world set up: Jobs whose name starts with a prefix, in a namespace, print
    a ConfigMap key of their namespace. Thread-safe."""

    _by_job: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def print_config_map(self, namespace: str, job_prefix: str, name: str, key: str) -> None:
        """Jobs ``job_prefix-*`` in ``namespace`` print key ``key`` of ConfigMap ``name``."""
        with self._lock:
            self._by_job[(namespace, job_prefix)] = (name, key)

    def output_of(self, pod: Obj, read: ReadConfigMap) -> str | None:
        """What the pod's first container prints, when it runs a program the sandbox knows."""
        containers = dig(pod, "spec", "containers") or []
        if not containers:
            return None
        command = [str(part) for part in containers[0].get("command") or []]
        command += [str(part) for part in containers[0].get("args") or []]
        namespace = str(dig(pod, "metadata", "namespace") or "default")
        printed = _kubectl_get_config_map(command, namespace, read)
        if printed is not None:
            return printed
        stand_in = self._stand_in(namespace, str(dig(pod, "metadata", "labels", "job-name") or ""))
        return None if stand_in is None else _value(read(namespace, stand_in[0]), stand_in[1])

    def _stand_in(self, namespace: str, job: str) -> tuple[str, str] | None:
        with self._lock:
            found = [
                printed
                for (where, prefix), printed in self._by_job.items()
                if where == namespace and job.startswith(f"{prefix}-")
            ]
        return found[0] if found else None


def _kubectl_get_config_map(
    command: Sequence[str], namespace: str, read: ReadConfigMap
) -> str | None:
    if not command or command[0].rsplit("/", 1)[-1] != "kubectl":
        return None
    words, options = _split(command[1:])
    if len(words) != 3 or words[0] != "get" or words[1] not in _CONFIG_MAPS:
        return None
    match = _JSONPATH_DATA.match(options.get("-o", ""))
    if match is None:
        return None
    return _value(read(options.get("-n", namespace), words[2]), match.group(1))


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
