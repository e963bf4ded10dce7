"""A Job's container run to its end from plain objects: its command line, shell lists, exit
code and log; what the sandbox cannot run fails, saying so; the database stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from drill.sandbox.kube.controllers.clients import Ran
from drill.sandbox.kube.controllers.network import Network
from drill.sandbox.kube.controllers.programs import Programs, Reach
from tests.sandbox.helpers import pod, service

CONFIG_MAPS = {("dr-test", "hb"): {"data": {"written": "2026-01-01T00:00:00Z"}}}


def job_pod(*command: str, args: tuple[str, ...] = (), **container: Any) -> dict[str, Any]:
    spec = {"name": "smoke", "image": "curlimages/curl", "command": list(command), **container}
    if args:
        spec["args"] = list(args)
    return {
        "metadata": {
            "name": "smoke-x1",
            "namespace": "dr-test",
            "labels": {"job-name": "drill-smoke-1a2b"},
        },
        "spec": {"containers": [spec]},
    }


def run(pod_obj: dict[str, Any], programs: Programs | None = None) -> Ran:
    programs = programs or Programs()
    network = programs.network([service("api")], [pod("api-1")])
    return programs.run(pod_obj, Reach(lambda ns, name: CONFIG_MAPS.get((ns, name)), network))


def test_a_direct_command_and_a_shell_list() -> None:
    direct = run(job_pod("curl", "-fsS", "http://api/healthz"))
    assert direct.exit_code == 0
    assert '"pod": "api-1"' in direct.log
    script = (
        "curl -fsS http://nosuch/ || echo fell back; curl -sS -o /dev/null http://api/ && echo up"
    )
    listed = run(job_pod("/bin/sh", "-c", script))
    assert (listed.exit_code, listed.log) == (
        0,
        "curl: (6) Could not resolve host: nosuch\nfell back\nup\n",
    )


def test_the_exit_code_is_the_last_commands_or_what_exit_and_set_e_say() -> None:
    assert run(job_pod("sh", "-c", "curl -fsS http://nosuch/")).exit_code == 6
    assert run(job_pod("sh", "-c", "curl -fs http://nosuch/; echo after")).exit_code == 0
    errexit = run(job_pod("sh", "-ec", "curl -fs http://api:81/; echo after"))
    assert (errexit.exit_code, errexit.log) == (7, "")
    set_e = run(job_pod("sh", "-c", "set -e\ncurl -fs http://nosuch/ && echo no\necho yes"))
    assert (set_e.exit_code, set_e.log) == (0, "yes\n")  # a failure inside && does not stop it
    exited = run(job_pod("sh", "-c", 'curl -fs http://nosuch/ || exit 3; echo "not here"'))
    assert (exited.exit_code, exited.log) == (3, "")
    last = run(job_pod("sh", "-c", "false; exit"))
    assert last.exit_code == 1
    assert run(job_pod("true")).exit_code == 0
    assert run(job_pod("sh", "-c", "sleep 5 && : && exec true")).exit_code == 0


def test_redirections_decide_what_reaches_the_log() -> None:
    quiet = run(job_pod("sh", "-c", "curl -fsS http://nosuch/ >/dev/null 2>&1; echo $?"))
    assert quiet.log == "6\n"
    stderr_only = run(job_pod("sh", "-c", "curl -sS http://api/ 2>&1 >/dev/null"))
    assert stderr_only.log == ""


def test_variables_from_env_kubernetes_references_and_assignments() -> None:
    env = [{"name": "SVC", "value": "api"}, {"name": "URL", "value": "http://$(SVC)/healthz"}]
    kube = run(job_pod("curl", "-fsS", "$(URL)", env=env))
    assert kube.exit_code == 0
    shell = run(job_pod("sh", "-c", 'T="http://$SVC:80/x"; export P=/y\ncurl -fsS "$T$P"', env=env))
    assert '"path": "/x/y"' in shell.log
    escaped = run(job_pod("echo", "$$(SVC)", "$(NOPE)", env=env))
    assert escaped.log == "$(SVC) $(NOPE)\n"
    args_only = run(job_pod("sh", args=("-c", "echo -n from args")))
    assert args_only.log == "from args"


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (("psql", "-Atc", "select secret"), "psql"),
        (("sh", "-c", "curl -s http://api/ | grep ok"), "a pipe (|)"),
        (("sh", "-c", "curl -fsS http://api/ && nc -z api 80"), "nc"),
        (("sh", "/scripts/smoke.sh"), "a shell reading a script file"),
        (("curl", "--unix-socket", "/s", "http://api/"), "curl option --unix-socket"),
        (("kubectl", "delete", "pod", "x"), "kubectl delete"),
        ((), "the image's own entrypoint (curlimages/curl)"),
    ],
)
def test_what_the_sandbox_cannot_run_fails_saying_so(command: tuple[str, ...], named: str) -> None:
    ran = run(job_pod(*command))
    assert ran.exit_code == 1
    assert ran.log.startswith(f"drill sandbox: cannot simulate {named}: the sandbox runs curl")
    assert "secret" not in ran.log  # arguments are never repeated: they may hold secrets


def test_nothing_runs_before_a_construct_the_sandbox_cannot_follow() -> None:
    ran = run(job_pod("sh", "-c", "echo started; curl http://api/ | cat"))
    assert "started" not in ran.log


def test_kubectl_reads_config_maps_and_says_when_one_is_missing() -> None:
    found = run(job_pod("kubectl", "get", "cm", "hb", "-o", "jsonpath={.data.written}"))
    assert (found.exit_code, found.log) == (0, "2026-01-01T00:00:00Z\n")
    missing = run(job_pod("kubectl", "get", "configmap", "gone", "-o", "jsonpath={.data.x}"))
    assert (missing.exit_code, missing.log) == (
        1,
        'Error from server (NotFound): configmaps "gone" not found\n',
    )


def test_a_database_stand_in_answers_for_what_the_sandbox_cannot_run() -> None:
    programs = Programs()
    programs.print_config_map("dr-test", "drill-smoke", "hb", "written")
    ran = run(job_pod("psql", "-Atc", "select max(written_at) from orders"), programs)
    assert (ran.exit_code, ran.log) == (0, "2026-01-01T00:00:00Z\n")
    curl = run(job_pod("curl", "-fsS", "http://nosuch/"), programs)
    assert curl.exit_code == 6  # a command the sandbox runs is run, stand-in or not


def test_the_network_a_job_meets_is_the_one_it_was_given() -> None:
    programs = Programs()
    empty = Network([], [], programs.http)
    reach = Reach(lambda ns, name: None, empty)
    assert programs.run(job_pod("curl", "-fsS", "http://api/"), reach).exit_code == 6
