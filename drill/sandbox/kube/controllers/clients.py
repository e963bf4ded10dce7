"""``curl`` and ``wget`` as a container runs them: their options, exit codes and what they print.

``curl`` follows curl 8 (the ``curlimages/curl`` image): ``-f``/``--fail``,
``--fail-with-body``, ``-s``, ``-S``, ``-o FILE``, ``-w FORMAT`` (``%{http_code}``,
``%{response_code}``, ``%{exitcode}``, ``%{remote_ip}``, ``%{remote_port}``,
``%{size_download}``), ``-i``, ``-I``, ``-X``, ``-H``, ``-d`` and its kin, ``--retry N``
(with ``--retry-connrefused`` and ``--retry-all-errors``); timing, TLS and redirect options
are accepted and change nothing, since the simulated network never hangs nor redirects. Exit
codes: 6 (could not resolve host), 7 (could not connect), 22 (HTTP status >= 400 with
``-f``). Retries are made at the same moment of the simulation, so they meet the same answer;
their messages are what curl prints. Without ``-s`` the progress meter is printed as curl
prints it when its output is no terminal.

``wget`` follows BusyBox's (the one in Alpine- and BusyBox-based images): ``-q``,
``-O FILE`` (``-O-``: standard output), ``--spider``, ``-S``, ``-T SEC``, ``-U``,
``--header``, ``--post-data``, ``--no-check-certificate``; any failure exits 1 with BusyBox's
message.

An option either knows nothing of raises ``CannotSimulate``. This module must not resolve
names or choose answers itself: it asks ``Connect`` (the cluster's network).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from drill.sandbox.kube.controllers.network import Outcome, Refused, Reply, Unresolved
from drill.sandbox.kube.controllers.shell import CannotSimulate

Connect = Callable[[str, str, int, str], Outcome]  # (method, host, port, path) -> outcome
Output = list[tuple[int, str]]  # (descriptor, text), in the order written
STDOUT, STDERR = 1, 2
_PORTS = {"http": 80, "https": 443}
_TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})  # what curl's --retry retries


@dataclass(frozen=True)
class Ran:
    """How a program (or a whole container) ended: its exit code and what it wrote."""

    exit_code: int
    output: tuple[tuple[int, str], ...] = ()

    @property
    def log(self) -> str:
        """What ``kubectl logs`` shows: both streams, in the order written."""
        return "".join(text for _, text in self.output)


@dataclass(frozen=True)
class _Url:
    host: str
    port: int
    path: str


def parse_url(text: str, program: str) -> _Url:
    """An http(s) URL (scheme optional, as curl allows) split into host, port and path."""
    url = text if "://" in text else f"http://{text}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise CannotSimulate(f"{program} to a {scheme}:// URL")
    try:
        port = parts.port or _PORTS[scheme]
    except ValueError:
        raise CannotSimulate(f"{program} to a URL with a port that is no number") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Url(parts.hostname or "", port, path)


# -- curl ------------------------------------------------------------------------------------

_CURL_FLAGS = {
    "-f": "fail",
    "--fail": "fail",
    "--fail-with-body": "fail_with_body",
    "-s": "silent",
    "--silent": "silent",
    "-S": "show_error",
    "--show-error": "show_error",
    "-I": "head",
    "--head": "head",
    "-i": "include",
    "--include": "include",
    "-G": "get",
    "--get": "get",
    "--retry-connrefused": "retry_connrefused",
    "--retry-all-errors": "retry_all_errors",
    "--no-progress-meter": "no_meter",
}
# Accepted, and nothing the simulated network would show differs with them.
_CURL_INERT_FLAGS = frozenset(
    [
        "-L",
        "--location",
        "-k",
        "--insecure",
        "-v",
        "--verbose",
        "-4",
        "-6",
        "--ipv4",
        "--ipv6",
        "-0",
        "--http1.0",
        "--http1.1",
        "--http2",
        "-N",
        "--no-buffer",
        "--compressed",
        "-q",
        "--disable",
        "--no-keepalive",
        "--tcp-nodelay",
        "-#",
        "--progress-bar",
        "--fail-early",
        "--path-as-is",
        "-g",
        "--globoff",
        "--no-sessionid",
        "--raw",
    ]
)
_CURL_VALUES = {
    "-o": "output",
    "--output": "output",
    "-X": "method",
    "--request": "method",
    "-w": "write_out",
    "--write-out": "write_out",
    "--retry": "retry",
    "--url": "url",
    "-d": "data",
    "--data": "data",
    "--data-raw": "data",
    "--data-binary": "data",
    "--data-ascii": "data",
    "--data-urlencode": "data",
    "--json": "data",
    "-m": "number",
    "--max-time": "number",
    "--connect-timeout": "number",
    "--retry-delay": "number",
    "--retry-max-time": "number",
    "--max-redirs": "number",
}
_CURL_INERT_VALUES = frozenset(
    [
        "-H",
        "--header",
        "-u",
        "--user",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "--cacert",
        "--capath",
        "--cert",
        "--key",
        "-b",
        "--cookie",
        "-c",
        "--cookie-jar",
        "--proxy",
        "-x",
        "--noproxy",
        "--oauth2-bearer",
    ]
)
_SHORT_WITH_VALUE = {
    option[1]
    for option in [*_CURL_VALUES, *_CURL_INERT_VALUES]
    if len(option) == 2 and option[0] == "-"
}


@dataclass
class CurlOptions:
    urls: list[str] = field(default_factory=list)
    fail: bool = False
    fail_with_body: bool = False
    silent: bool = False
    show_error: bool = False
    head: bool = False
    include: bool = False
    get: bool = False
    retry_connrefused: bool = False
    retry_all_errors: bool = False
    no_meter: bool = False
    output: str | None = None
    method: str | None = None
    write_out: str = ""
    retry: int = 0
    data: bool = False

    @property
    def shows_errors(self) -> bool:
        return not self.silent or self.show_error

    def http_method(self) -> str:
        if self.method:
            return self.method.upper()
        if self.head:
            return "HEAD"
        return "POST" if self.data and not self.get else "GET"


def parse_curl(args: Sequence[str]) -> CurlOptions:
    """curl's options and URLs; an option this module does not know raises CannotSimulate."""
    options = CurlOptions()
    pending = list(args)
    while pending:
        arg = pending.pop(0)
        if arg.startswith("--") or arg in _CURL_FLAGS or arg in _CURL_INERT_FLAGS:
            _curl_option(options, arg, pending)
        elif arg.startswith("-") and len(arg) > 1:
            _curl_short_cluster(options, arg, pending)
        else:
            options.urls.append(arg)
    if not options.urls:
        raise CannotSimulate("curl without a URL")
    return options


def _curl_short_cluster(options: CurlOptions, cluster: str, pending: list[str]) -> None:
    """``-fsS``, ``-so/dev/null``: flags, the last of which may take the rest as its value."""
    for index, letter in enumerate(cluster[1:], start=1):
        if letter in _SHORT_WITH_VALUE:
            rest = cluster[index + 1 :]
            if rest:
                pending.insert(0, rest)
            _curl_option(options, f"-{letter}", pending)
            return
        _curl_option(options, f"-{letter}", pending)


def _curl_option(options: CurlOptions, option: str, pending: list[str]) -> None:
    if option in _CURL_FLAGS:
        setattr(options, _CURL_FLAGS[option], True)
        return
    if option in _CURL_INERT_FLAGS:
        return
    if option not in _CURL_VALUES and option not in _CURL_INERT_VALUES:
        raise CannotSimulate(f"curl option {option}")
    if not pending:
        raise CannotSimulate(f"curl option {option} without its value")
    value = pending.pop(0)
    field_name = _CURL_VALUES.get(option, "")
    if field_name == "output":
        options.output = value
    elif field_name == "method":
        options.method = value
    elif field_name == "write_out":
        if value.startswith("@"):
            raise CannotSimulate("curl -w read from a file")
        options.write_out += value
    elif field_name == "url":
        options.urls.append(value)
    elif field_name == "data":
        options.data = True
    elif field_name in ("retry", "number"):
        _curl_number(options, option, value, field_name)


def _curl_number(options: CurlOptions, option: str, value: str, field_name: str) -> None:
    try:
        number = float(value)
    except ValueError:
        raise CannotSimulate(f"curl option {option} with a value that is no number") from None
    if field_name == "retry":
        options.retry = int(number)


def run_curl(args: Sequence[str], connect: Connect) -> Ran:
    options = parse_curl(args)
    output: Output = []
    code = 0
    for url in options.urls:
        code = _curl_transfer(options, parse_url(url, "curl"), connect, output)
    return Ran(code, tuple(output))


def _curl_transfer(options: CurlOptions, url: _Url, connect: Connect, output: Output) -> int:
    method = options.http_method()
    attempts_left = options.retry
    delay_s = 1
    while True:
        outcome = connect(method, url.host, url.port, url.path)
        code, problem = _curl_verdict(options, outcome, url)
        retry_why = _curl_retry_reason(options, outcome, code)
        if retry_why is None or attempts_left <= 0:
            break
        if code and options.shows_errors:
            output.append((STDERR, f"curl: ({code}) {problem}\n"))
        if not options.silent:
            seconds = "second" if delay_s == 1 else "seconds"
            retries = "retry" if attempts_left == 1 else "retries"
            warning = f"Will retry in {delay_s} {seconds}. {attempts_left} {retries} left."
            output.append((STDERR, f"Warning: Problem {retry_why}. {warning}\n"))
        attempts_left -= 1
        delay_s *= 2
    _curl_write(options, outcome, code, url, output)
    if code and options.shows_errors:
        output.append((STDERR, f"curl: ({code}) {problem}\n"))
    return code


def _curl_verdict(options: CurlOptions, outcome: Outcome, url: _Url) -> tuple[int, str]:
    """(curl's exit code, its message) for one attempt."""
    if isinstance(outcome, Unresolved):
        return 6, f"Could not resolve host: {url.host}"
    if isinstance(outcome, Refused):
        where = f"{url.host} port {url.port}"
        return 7, f"Failed to connect to {where} after 0 ms: Couldn't connect to server"
    if outcome.status >= 400 and (options.fail or options.fail_with_body):
        return 22, f"The requested URL returned error: {outcome.status}"
    return 0, ""


def _curl_retry_reason(options: CurlOptions, outcome: Outcome, code: int) -> str | None:
    """Why curl's --retry would try again after this attempt, in its words; None: it would not."""
    if options.retry_all_errors and code:
        return "(retrying all errors)"
    if isinstance(outcome, Refused) and options.retry_connrefused:
        return ": connection refused"
    if isinstance(outcome, Reply) and outcome.status in _TRANSIENT:
        return ": HTTP error"
    return None


def _curl_write(
    options: CurlOptions, outcome: Outcome, code: int, url: _Url, output: Output
) -> None:
    """What the transfer wrote: progress meter, headers, body, write-out."""
    reply = outcome if isinstance(outcome, Reply) else None
    shown = reply is not None and (code == 0 or options.fail_with_body)
    document = ""
    if reply is not None and shown:
        headers = _curl_headers(reply) if options.include or options.head else ""
        document = headers + ("" if options.head else reply.body)
    if not options.silent and not options.no_meter:
        output.append((STDERR, _meter(len(document.encode()))))
    if document and options.output in (None, "-"):
        output.append((STDOUT, document))
    if options.write_out:
        written = _write_out(options.write_out, outcome, code, url, len(document.encode()))
        output.append((STDOUT, written))


def _curl_headers(reply: Reply) -> str:
    length = len(reply.body.encode())
    return (
        f"HTTP/1.1 {reply.status} {reply.reason}\r\n"
        f"content-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    )


def _meter(size: int) -> str:
    header = (
        "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
        "                                 Dload  Upload   Total   Spent    Left  Speed\n"
    )
    percent = 100 if size else 0
    line = (
        f"{percent:3d} {size:5d}  {percent:3d} {size:5d}    0     0  {size * 10:5d}      0 "
        "--:--:-- --:--:-- --:--:-- " + f"{size * 10:5d}\n"
    )
    return header + line


_WRITE_OUT_VARIABLE = re.compile(r"%\{([a-z_]+)\}|%%|\\[nrt\\]")


def _write_out(form: str, outcome: Outcome, code: int, url: _Url, size: int) -> str:
    reply = outcome if isinstance(outcome, Reply) else None
    address = "" if isinstance(outcome, Unresolved) else outcome.address
    values = {
        "http_code": f"{reply.status:03d}" if reply else "000",
        "response_code": f"{reply.status:03d}" if reply else "000",
        "exitcode": str(code),
        "remote_ip": address,
        "remote_port": str(url.port) if address else "",
        "size_download": str(size),
    }
    escapes = {"%%": "%", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\\\": "\\"}

    def substitute(found: re.Match[str]) -> str:
        if found.group(1) is not None:
            return values.get(found.group(1), "")
        return escapes[found.group(0)]

    return _WRITE_OUT_VARIABLE.sub(substitute, form)


# -- wget (BusyBox) --------------------------------------------------------------------------

_WGET_FLAGS = {"-q": "quiet", "--quiet": "quiet", "--spider": "spider", "-S": "headers"}
_WGET_FLAGS |= {"--server-response": "headers"}
_WGET_INERT_FLAGS = frozenset({"--no-check-certificate", "-c", "--continue", "-nv"})
_WGET_VALUES = {"-O": "output", "--output-document": "output", "--post-data": "post"}
_WGET_INERT_VALUES = frozenset(
    {"-T", "--timeout", "-U", "--user-agent", "--header", "-t", "--tries", "-Y", "--proxy"}
)


@dataclass
class WgetOptions:
    urls: list[str] = field(default_factory=list)
    quiet: bool = False
    spider: bool = False
    headers: bool = False
    output: str | None = None
    post: bool = False


def parse_wget(args: Sequence[str]) -> WgetOptions:
    options = WgetOptions()
    pending = list(args)
    while pending:
        arg = pending.pop(0)
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if len(name) > 2 and name[1] in "OTUtY" and name[0] == "-" and name[1] != "-":
            name, value, equals = name[:2], name[2:], "="  # -O- / -T5: the value attached
        if name in _WGET_FLAGS:
            setattr(options, _WGET_FLAGS[name], True)
        elif name in _WGET_INERT_FLAGS:
            continue
        elif name in _WGET_VALUES or name in _WGET_INERT_VALUES:
            if not equals:
                if not pending:
                    raise CannotSimulate(f"wget option {name} without its value")
                value = pending.pop(0)
            field_name = _WGET_VALUES.get(name)
            if field_name == "output":
                options.output = value
            elif field_name == "post":
                options.post = True
        elif name.startswith("-") and len(name) > 1:
            raise CannotSimulate(f"wget option {name}")
        else:
            options.urls.append(arg)
    if not options.urls:
        raise CannotSimulate("wget without a URL")
    return options


def run_wget(args: Sequence[str], connect: Connect) -> Ran:
    options = parse_wget(args)
    output: Output = []
    for text in options.urls:
        url = parse_url(text, "wget")
        method = "HEAD" if options.spider else ("POST" if options.post else "GET")
        if not _wget_transfer(options, url, connect(method, url.host, url.port, url.path), output):
            return Ran(1, tuple(output))
    return Ran(0, tuple(output))


def _wget_transfer(options: WgetOptions, url: _Url, outcome: Outcome, output: Output) -> bool:
    if isinstance(outcome, Unresolved):
        output.append((STDERR, f"wget: bad address '{url.host}'\n"))
        return False
    if not options.quiet:
        output.append((STDERR, f"Connecting to {url.host} ({outcome.address}:{url.port})\n"))
    if isinstance(outcome, Refused):
        message = f"wget: can't connect to remote host ({outcome.address}): Connection refused\n"
        output.append((STDERR, message))
        return False
    if options.headers:
        output.append((STDERR, f"  HTTP/1.1 {outcome.status} {outcome.reason}\n"))
    if outcome.status >= 400:
        status = f"HTTP/1.1 {outcome.status} {outcome.reason}"
        output.append((STDERR, f"wget: server returned error: {status}\n"))
        return False
    if options.spider:
        if not options.quiet:
            output.append((STDERR, "remote file exists\n"))
        return True
    to_stdout = options.output == "-"
    if not options.quiet:
        target = "stdout" if to_stdout else f"'{_saved_as(options, url)}'"
        output.append((STDERR, f"{'writing to' if to_stdout else 'saving to'} {target}\n"))
    if to_stdout:
        output.append((STDOUT, outcome.body))
    if not options.quiet:
        size = len(outcome.body.encode())
        bar = f"  100% |{'*' * 32}| {size:5d}  0:00:00 ETA\n"
        output.append((STDERR, ("-" if to_stdout else _saved_as(options, url)) + bar))
        saved = "written to stdout" if to_stdout else f"'{_saved_as(options, url)}' saved"
        output.append((STDERR, f"{saved}\n"))
    return True


def _saved_as(options: WgetOptions, url: _Url) -> str:
    if options.output:
        return options.output
    name = url.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name or "index.html"
