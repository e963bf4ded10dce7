"""Writing a kubeconfig that points contexts at emulators.

One cluster (with the sandbox's CA when it serves HTTPS) and one context per entry, and
``current-context`` set. By default every context
uses one user whose bearer token is the admin token every emulator accepts (its user,
``kubernetes-admin``, is in ``system:masters``, like the admin kind and minikube write);
``tokens`` gives each context its own user and token instead (a ServiceAccount's, say). Both
the kubernetes Python client and kubectl read the file. This module must not start anything
or read the network.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path

import yaml

from drill.sandbox.kube._tls import authority_for

SANDBOX_USER = "drill-sandbox"
# The admin's token: a local sandbox's well-known credential, never a real cluster's.
SANDBOX_TOKEN = "drill-sandbox-token"  # noqa: S105


def kubeconfig(
    servers: Mapping[str, str],
    *,
    current: str | None = None,
    namespace: str = "default",
    tokens: Mapping[str, str] | None = None,
    user: str = SANDBOX_USER,
) -> dict[str, object]:
    """The kubeconfig document for ``{context_name: server_url}``; with ``tokens``
    (``{context_name: token}``, one for every context), user ``USER@CONTEXT`` per context."""
    if not servers:
        raise ValueError("a kubeconfig needs at least one context")
    current = current or next(iter(servers))
    if current not in servers:
        raise ValueError(f"current context {current!r} is not one of {sorted(servers)}")
    if tokens is not None and set(tokens) != set(servers):
        raise ValueError(f"tokens name contexts {sorted(tokens)}, not {sorted(servers)}")
    users = {name: f"{user}@{name}" if tokens is not None else user for name in servers}
    credentials = (
        {users[name]: token for name, token in tokens.items()}
        if tokens is not None
        else {user: SANDBOX_TOKEN}
    )
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": _cluster(url)} for name, url in servers.items()],
        "users": [{"name": name, "user": {"token": token}} for name, token in credentials.items()],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": name, "user": users[name], "namespace": namespace},
            }
            for name in servers
        ],
        "current-context": current,
    }


def _cluster(url: str) -> dict[str, str]:
    """A cluster entry; one of this process's emulated clusters carries its CA, so clients
    verify the server (any other HTTPS server is verified against the system's CAs)."""
    ca_pem = authority_for(url) if url.startswith("https://") else None
    if ca_pem is None:
        return {"server": url}
    return {"server": url, "certificate-authority-data": base64.b64encode(ca_pem).decode()}


def write_kubeconfig(
    path: Path | str,
    servers: Mapping[str, str],
    *,
    current: str | None = None,
    tokens: Mapping[str, str] | None = None,
    user: str = SANDBOX_USER,
) -> Path:
    """Write the kubeconfig for ``{context_name: server_url}`` to ``path`` (mode 0600)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = kubeconfig(servers, current=current, tokens=tokens, user=user)
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    target.chmod(0o600)  # kubectl warns about group/world-readable kubeconfigs
    return target
