"""Bad kube contexts get one clear message, naming the context and the cause, and no traceback."""

from __future__ import annotations

from pathlib import Path

import yaml

from drill.clock import FakeClock
from tests.inprocess import InProcess, Result


def kubeconfig(tmp_path: Path, server: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "dr-cluster", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "dr-cluster",
            }
        )
    )
    return path


def run_with(config: Path, *contexts: str) -> Result:
    """`drill --kubeconfig CONFIG run namespace-restore`; retries wait on a fake clock."""
    commands = InProcess(config.parent, clock=FakeClock())
    settings = commands.settings(kubeconfig=str(config))
    return commands.run("namespace-restore", settings=settings, contexts=contexts)


def test_unresolvable_api_server_is_named(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, "https://api.no-such-cluster.invalid:6443")
    result = run_with(config)
    assert result.returncode == 2
    assert "dr-cluster" in result.stderr
    assert "host name did not resolve" in result.stderr
    assert "Traceback" not in result.stderr


def test_refused_connection_is_named(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, "http://127.0.0.1:9")
    result = run_with(config)
    assert result.returncode == 2
    assert "connection refused" in result.stderr


def test_context_missing_from_kubeconfig_is_named(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, "http://127.0.0.1:9")
    result = run_with(config, "dr=nowhere")
    assert result.returncode == 2
    assert "'nowhere'" in result.stderr
    assert "Traceback" not in result.stderr
