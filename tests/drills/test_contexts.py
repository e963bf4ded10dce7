"""Bad kube contexts get one clear message, naming the context and the cause, and no traceback."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.child import run_drill


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


def test_unresolvable_api_server_is_named(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, "https://api.no-such-cluster.invalid:6443")
    result = run_drill(tmp_path, "--kubeconfig", str(config), "run", "namespace-restore")
    assert result.returncode == 2
    assert "dr-cluster" in result.stderr
    assert "host name did not resolve" in result.stderr
    assert "Traceback" not in result.stderr


def test_refused_connection_is_named(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, "http://127.0.0.1:9")
    result = run_drill(tmp_path, "--kubeconfig", str(config), "run", "namespace-restore")
    assert result.returncode == 2
    assert "connection refused" in result.stderr


def test_context_missing_from_kubeconfig_is_named(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, "http://127.0.0.1:9")
    result = run_drill(
        tmp_path, "--kubeconfig", str(config), "run", "namespace-restore", "--context", "dr=nowhere"
    )
    assert result.returncode == 2
    assert "'nowhere'" in result.stderr
    assert "Traceback" not in result.stderr
