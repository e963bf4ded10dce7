"""`drill run` checks its kube contexts before it takes the run lease.

A missing kubeconfig, a context it lacks, an unreachable API server and rejected credentials
each end the run at once: one line naming the role, the context and the kubeconfig, exit 2,
no lease, no journal. The plan is namespace-restore (role ``dr`` -> context ``dr-cluster``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drill.clock import FakeClock
from tests.cli.conftest import Drill
from tests.httpserver import Answer, Script, serve
from tests.inprocess import InProcess

PREFIX = "drill: context role 'dr': kube context 'dr-cluster' ("


def kubeconfig(path: Path, server: str, contexts: tuple[str, ...] = ("dr-cluster",)) -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "not-a-valid-token"}}],
        "contexts": [{"name": n, "context": {"cluster": "c", "user": "u"}} for n in contexts],
    }
    path.write_text(json.dumps(document))  # JSON is YAML: the client reads it as written
    return path


def one_line_and_nothing_begun(commands: InProcess, stderr: str) -> str:
    assert stderr.startswith(PREFIX), stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    assert not commands.reports.exists()
    return stderr.strip()


def test_a_missing_kubeconfig_file_is_named(commands: InProcess, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config"
    settings = commands.settings(kubeconfig=str(missing))
    result = commands.run("namespace-restore", settings=settings)
    assert result.returncode == 2
    line = one_line_and_nothing_begun(commands, result.stderr)
    assert line == f"{PREFIX}{missing}): no kubeconfig file there: set KUBECONFIG or write the file"


def test_a_context_the_kubeconfig_lacks_lists_those_it_has(
    commands: InProcess, tmp_path: Path
) -> None:
    config = kubeconfig(tmp_path / "kc", "https://127.0.0.1:1", ("staging", "kind-dev"))
    result = commands.run("namespace-restore", settings=commands.settings(kubeconfig=str(config)))
    assert result.returncode == 2
    line = one_line_and_nothing_begun(commands, result.stderr)
    assert line.endswith(
        f"({config}): no context named 'dr-cluster' in it (contexts there: kind-dev, staging)"
    )


def test_a_kubeconfig_from_the_environment_is_the_one_named(drill: Drill, tmp_path: Path) -> None:
    """$KUBECONFIG is read by the client when it loads: a child process, as users run it."""
    config = kubeconfig(tmp_path / "kc", "https://127.0.0.1:1", ("other",))
    result = drill("run", "namespace-restore", env={"KUBECONFIG": str(config)})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{PREFIX}{config}): no context named 'dr-cluster' in it (contexts there: other)"
    )
    assert not (tmp_path / "reports").exists()


def test_rejected_credentials_stop_the_run_before_the_lease(
    commands: InProcess, tmp_path: Path
) -> None:
    status = {"kind": "Status", "status": "Failure", "message": "Unauthorized", "code": 401}
    script = Script([Answer(401, json.dumps(status).encode())])
    with serve(script) as url:
        config = kubeconfig(tmp_path / "kc", url)
        result = commands.run(
            "namespace-restore", settings=commands.settings(kubeconfig=str(config))
        )
    assert result.returncode == 2
    line = one_line_and_nothing_begun(commands, result.stderr)
    assert line.endswith(
        f"({config}): API server {url}: credentials were rejected (401): Unauthorized"
    )
    assert [(method, path) for method, path, _ in script.requests] == [("GET", "/version/")]
    assert "not-a-valid-token" not in result.stderr


def test_an_unreachable_server_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(Script()) as url:
        pass  # the port is free again: nothing listens there
    config = kubeconfig(tmp_path / "kc", url)
    # A fake clock: drill retries a refused connection for seconds before it gives up.
    monkeypatch.chdir(tmp_path)
    commands = InProcess(tmp_path, clock=FakeClock())
    result = commands.run("namespace-restore", settings=commands.settings(kubeconfig=str(config)))
    assert result.returncode == 2
    line = one_line_and_nothing_begun(commands, result.stderr)
    assert line.endswith(f"({config}): API server {url}: connection refused or host unreachable")


CONTEXT = "contexts:\n- name: dr-cluster\n  context: {cluster: c, user: u}\n"
CLUSTER = "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
USER = "users:\n- name: u\n  user: {token: t}\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("a: [\n", "{file}:2:1: not valid YAML: ", id="not YAML"),
        pytest.param('"a string"\n', "{file}:1:1: not a kubeconfig: not a mapping", id="a scalar"),
        pytest.param("contexts: 5\n", "{file}:1:11: contexts: not a list", id="not a list"),
        pytest.param(
            "contexts:\n- name: dr-cluster\n  context: 7\n",
            "{file}:3:12: contexts[0].context: not a mapping",
            id="context not a mapping",
        ),
        pytest.param(
            f"{CONTEXT}clusters:\n- c\n{USER}",
            "Invalid kube-config file. Expected all values in {file}/clusters list",
            id="the client's own words stand",
        ),
        pytest.param(
            f"{CONTEXT}{CLUSTER}users:\n- name: u\n  user: 9\n",
            "{file}:9:9: users[0].user: not a mapping",
            id="user not a mapping",
        ),
        pytest.param(
            f"{CONTEXT}clusters:\n- name: c\n  cluster: {{server: 5}}\n{USER}",
            "the client cannot load it: ",
            id="a number for a URL",
        ),
    ],
)
def test_a_malformed_kubeconfig_is_bad_input_saying_where(
    commands: InProcess, tmp_path: Path, text: str, reason: str
) -> None:
    """The client trips on such files with a YAML error or a bare TypeError: drill says what
    and where in one line, exit 2, before anything begins."""
    config = tmp_path / "kc"
    config.write_text(text)
    result = commands.run("namespace-restore", settings=commands.settings(kubeconfig=str(config)))
    assert result.returncode == 2, result.stderr
    line = one_line_and_nothing_begun(commands, result.stderr)
    assert line.startswith(f"{PREFIX}{config}): {reason.format(file=config)}"), line


def test_a_kubeconfig_that_is_not_text_is_bad_input(commands: InProcess, tmp_path: Path) -> None:
    config = tmp_path / "kc"
    config.write_bytes(b"\xff\xfe\x00binary")
    result = commands.run("namespace-restore", settings=commands.settings(kubeconfig=str(config)))
    assert result.returncode == 2
    line = one_line_and_nothing_begun(commands, result.stderr)
    assert line.endswith(f"({config}): {config}:1:1: not UTF-8 text")


def test_a_kubeconfig_that_is_a_directory_is_bad_input(commands: InProcess, tmp_path: Path) -> None:
    """The client's error on a directory was read as a file with no contexts: "no context
    named 'dr-cluster' in it (contexts there: none)"."""
    directory = tmp_path / "kube"
    directory.mkdir()
    settings = commands.settings(kubeconfig=str(directory))
    result = commands.run("namespace-restore", settings=settings)
    assert result.returncode == 2
    line = one_line_and_nothing_begun(commands, result.stderr)
    assert line == (
        f"{PREFIX}{directory}): {directory} is a directory, not a kubeconfig file: "
        "name the file itself"
    )


def test_a_directory_among_the_kubeconfig_files_is_named(drill: Drill, tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kc", "https://127.0.0.1:1")
    directory = tmp_path / "kube"
    directory.mkdir()
    result = drill("run", "namespace-restore", env={"KUBECONFIG": f"{config}:{directory}"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{PREFIX}{config} {directory}): {directory} is a directory, not a kubeconfig file: "
        "name the file itself"
    )
    assert not (tmp_path / "reports").exists()
