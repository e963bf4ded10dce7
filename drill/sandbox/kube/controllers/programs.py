"""What a Job's container prints, for the few programs the sandbox can run.

The simulated kubelet runs no images. It knows one program, enough for a recovery-point Job to
read the recovered data in the sandbox as it would in a cluster:

    kubectl get configmap NAME [-n NAMESPACE] -o jsonpath={.data.KEY}

prints that key of the ConfigMap (in the pod's own namespace unless ``-n`` says otherwise), as
the cluster holds it when the container ends. Any other command prints nothing. This module
must not write anything: the kubelet stores what it returns as the pod's log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from drill.sandbox.kube.api.objects import Obj, dig

_JSONPATH_DATA = re.compile(r"^jsonpath=\{\.data\.([-._a-zA-Z0-9]+)\}$")
_CONFIG_MAPS = ("configmap", "configmaps", "cm")

ReadConfigMap = Callable[[str, str], Obj | None]  # (namespace, name) -> the object


def output_of(pod: Obj, read: ReadConfigMap) -> str | None:
    """What the pod's first container prints, when it runs a program the sandbox knows."""
    containers = dig(pod, "spec", "containers") or []
    if not containers:
        return None
    command = [str(part) for part in containers[0].get("command") or []]
    command += [str(part) for part in containers[0].get("args") or []]
    namespace = str(dig(pod, "metadata", "namespace") or "default")
    return _kubectl_get_config_map(command, namespace, read)


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
    found = read(options.get("-n", namespace), words[2])
    value = dig(found, "data", match.group(1)) if found is not None else None
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
