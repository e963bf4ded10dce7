"""curl and wget as a Job's container runs them: options, exit codes, what they print."""

from __future__ import annotations

import pytest

from drill.sandbox.kube.controllers.clients import (
    STDERR,
    STDOUT,
    Ran,
    parse_curl,
    run_curl,
    run_wget,
)
from drill.sandbox.kube.controllers.network import Outcome, Refused, Reply, Unresolved
from drill.sandbox.kube.controllers.shell import CannotSimulate

BODY = '{"status": "ok"}\n'


class Site:
    """Answers every request with one outcome, and remembers what was asked."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.asked: list[tuple[str, str, int, str]] = []

    def __call__(self, method: str, host: str, port: int, path: str) -> Outcome:
        self.asked.append((method, host, port, path))
        return self.outcome


OK = Reply(200, BODY, "10.96.0.10")
FAILING = Reply(500, '{"status": "error"}\n', "10.96.0.10")


def stream(ran: Ran, descriptor: int) -> str:
    return "".join(text for fd, text in ran.output if fd == descriptor)


def test_a_quiet_curl_that_succeeds_prints_the_body() -> None:
    site = Site(OK)
    ran = run_curl(["-fsS", "http://api-server.dr-test.svc/healthz?x=1"], site)
    assert (ran.exit_code, ran.log) == (0, BODY)
    assert site.asked == [("GET", "api-server.dr-test.svc", 80, "/healthz?x=1")]


@pytest.mark.parametrize(
    ("outcome", "code", "message"),
    [
        (Unresolved(), 6, "curl: (6) Could not resolve host: nosuch\n"),
        (
            Refused("10.96.0.10"),
            7,
            "curl: (7) Failed to connect to nosuch port 80 after 0 ms: "
            "Couldn't connect to server\n",
        ),
        (FAILING, 22, "curl: (22) The requested URL returned error: 500\n"),
    ],
)
def test_curl_failures_exit_as_curl_does_and_say_why(
    outcome: Outcome, code: int, message: str
) -> None:
    shown = run_curl(["-fsS", "http://nosuch"], Site(outcome))
    assert (shown.exit_code, shown.log) == (code, message)
    silent = run_curl(["-fs", "http://nosuch"], Site(outcome))  # -s without -S: no message
    assert (silent.exit_code, silent.log) == (code, "")


def test_without_fail_an_error_status_is_a_success_with_its_body() -> None:
    ran = run_curl(["-s", "http://api/healthz"], Site(FAILING))
    assert (ran.exit_code, ran.log) == (0, FAILING.body)
    with_body = run_curl(["-sS", "--fail-with-body", "http://api/healthz"], Site(FAILING))
    assert with_body.exit_code == 22
    assert stream(with_body, STDOUT) == FAILING.body


def test_output_to_a_file_and_write_out() -> None:
    ran = run_curl(
        ["-s", "-o", "/dev/null", "-w", "%{http_code} %{remote_ip}\\n", "http://a"], Site(OK)
    )
    assert (ran.exit_code, ran.log) == (0, "200 10.96.0.10\n")
    attached = run_curl(["-so/dev/null", "-w%{http_code}", "http://a"], Site(Refused("10.0.0.1")))
    assert (attached.exit_code, attached.log) == (7, "000")
    to_stdout = run_curl(["-s", "-o", "-", "http://a"], Site(OK))
    assert to_stdout.log == BODY


def test_head_include_and_methods() -> None:
    site = Site(OK)
    head = run_curl(["-sI", "http://a/"], site)
    assert head.log.startswith("HTTP/1.1 200 OK\r\n")
    assert BODY not in head.log
    included = run_curl(["-si", "http://a/"], site)
    assert included.log.endswith("\r\n\r\n" + BODY)
    run_curl(["-s", "-d", "x=1", "http://a/"], site)
    run_curl(["-s", "-X", "delete", "-H", "Authorization: Bearer t", "http://a/"], site)
    run_curl(["-s", "api:8080/x"], site)  # no scheme: http, as curl assumes
    assert [asked[0] for asked in site.asked] == ["HEAD", "GET", "POST", "DELETE", "GET"]
    assert site.asked[-1][1:] == ("api", 8080, "/x")
    assert run_curl(["-s", "https://a/"], site).exit_code == 0
    assert site.asked[-1][2] == 443


def test_without_silent_the_progress_meter_goes_to_stderr() -> None:
    ran = run_curl(["http://a/"], Site(OK))
    assert stream(ran, STDOUT) == BODY
    assert stream(ran, STDERR).startswith("  % Total    % Received % Xferd")
    failed = run_curl(["-f", "http://a/"], Site(Unresolved()))
    assert stream(failed, STDERR).endswith("curl: (6) Could not resolve host: a\n")


def test_retries_say_so_and_meet_the_same_answer() -> None:
    site = Site(FAILING)
    ran = run_curl(["-fS", "--no-progress-meter", "--retry", "2", "http://a/"], site)
    assert ran.exit_code == 22
    assert len(site.asked) == 3
    assert ran.log.splitlines() == [
        "curl: (22) The requested URL returned error: 500",
        "Warning: Problem : HTTP error. Will retry in 1 second. 2 retries left.",
        "curl: (22) The requested URL returned error: 500",
        "Warning: Problem : HTTP error. Will retry in 2 seconds. 1 retry left.",
        "curl: (22) The requested URL returned error: 500",
    ]
    refused = Site(Refused("10.96.0.10"))
    assert run_curl(["-s", "--retry", "3", "http://a/"], refused).exit_code == 7
    assert len(refused.asked) == 1  # a refused connection is not transient to curl...
    run_curl(["-s", "--retry", "3", "--retry-connrefused", "http://a/"], refused)
    assert len(refused.asked) == 5  # ...unless told so
    unresolved = Site(Unresolved())
    run_curl(["-s", "--retry", "1", "--retry-all-errors", "http://a/"], unresolved)
    assert len(unresolved.asked) == 2


def test_inert_options_are_accepted_and_unknown_ones_are_not() -> None:
    options = parse_curl(
        ["-fsSLk", "--max-time", "5", "--connect-timeout", "2", "-m3", "-v", "http://a/"]
    )
    assert (options.fail, options.silent, options.show_error, options.urls) == (
        True,
        True,
        True,
        ["http://a/"],
    )
    for args, named in (
        (["--unix-socket", "/x", "http://a"], "curl option --unix-socket"),
        (["-Z", "http://a"], "curl option -Z"),
        (["-f"], "curl without a URL"),
        (["--max-time", "soon", "http://a"], "--max-time with a value that is no number"),
        (["ftp://a/x"], "curl to a ftp:// URL"),
        (["-o"], "curl option -o without its value"),
    ):
        with pytest.raises(CannotSimulate, match=named):
            run_curl(args, Site(OK))


def test_busybox_wget_prints_what_busybox_prints() -> None:
    quiet = run_wget(["-q", "-O-", "http://api/healthz"], Site(OK))
    assert (quiet.exit_code, quiet.log) == (0, BODY)
    chatty = run_wget(["-O", "-", "http://api/healthz"], Site(OK))
    assert stream(chatty, STDOUT) == BODY
    assert stream(chatty, STDERR).splitlines()[:2] == [
        "Connecting to api (10.96.0.10:80)",
        "writing to stdout",
    ]
    saved = run_wget(["-T", "5", "http://api/healthz"], Site(OK))
    assert "saving to 'healthz'" in saved.log
    assert BODY not in saved.log
    spider = run_wget(["--spider", "http://api/"], Site(OK))
    assert (spider.exit_code, spider.log.splitlines()[-1]) == (0, "remote file exists")


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        (Unresolved(), "wget: bad address 'nosuch'\n"),
        (
            Refused("10.96.0.10"),
            "wget: can't connect to remote host (10.96.0.10): Connection refused\n",
        ),
        (FAILING, "wget: server returned error: HTTP/1.1 500 Internal Server Error\n"),
    ],
)
def test_busybox_wget_failures_exit_1(outcome: Outcome, message: str) -> None:
    ran = run_wget(["-q", "-O-", "--timeout=3", "http://nosuch/"], Site(outcome))
    assert (ran.exit_code, ran.log) == (1, message)


def test_wget_options_it_does_not_know() -> None:
    with pytest.raises(CannotSimulate, match="wget option --mirror"):
        run_wget(["--mirror", "http://a/"], Site(OK))
    with pytest.raises(CannotSimulate, match="wget without a URL"):
        run_wget(["-q"], Site(OK))
