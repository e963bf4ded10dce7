"""Writing a kubeconfig that points contexts at emulators.

One cluster, one context per entry, all sharing one user with a dummy bearer token (the
emulator accepts any credentials), and ``current-context`` set. Both the kubernetes Python
client and kubectl read the file. This module must not start anything or read the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

SANDBOX_USER = "drill-sandbox"
SANDBOX_TOKEN = "drill-sandbox-token"  # noqa: S105 - a placeholder the emulator ignores


def kubeconfig(
    servers: Mapping[str, str], *, current: str | None = None, namespace: str = "default"
) -> dict[str, object]:
    """The kubeconfig document for ``{context_name: server_url}``."""
    if not servers:
        raise ValueError("a kubeconfig needs at least one context")
    current = current or next(iter(servers))
    if current not in servers:
        raise ValueError(f"current context {current!r} is not one of {sorted(servers)}")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": url}} for name, url in servers.items()],
        "users": [{"name": SANDBOX_USER, "user": {"token": SANDBOX_TOKEN}}],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": name, "user": SANDBOX_USER, "namespace": namespace},
            }
            for name in servers
        ],
        "current-context": current,
    }


def write_kubeconfig(
    path: Path | str, servers: Mapping[str, str], *, current: str | None = None
) -> Path:
    """Write the kubeconfig for ``{context_name: server_url}`` to ``path`` (mode 0600)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(kubeconfig(servers, current=current), sort_keys=False))
    target.chmod(0o600)  # kubectl warns about group/world-readable kubeconfigs
    return target
