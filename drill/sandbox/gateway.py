"""The public endpoints of a sandbox world: one HTTP server answering for every host name.

drill's HTTP checks and probes for those hosts reach it in place of the real ones (see
``CloudSettings.http_gateway``). A host with a record in one of the world's DNS zones answers
``{"status": "ok"}`` on any path while ``judge`` says it serves (its record points at a site
that really serves: see ``drill.sandbox.serving``), and 503 with the reason otherwise, as a
load balancer without healthy backends would. Any other host answers 502, as a load balancer
with no such site would, so a check against a host the plan never declared fails loudly
instead of passing by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any

from drill.sandbox.emulator import Emulator, LoopbackServer, send_json


class Gateway(Emulator):
    def __init__(
        self, hosts: Iterable[str], judge: Callable[[str], str | None] | None = None
    ) -> None:
        self.hosts = {host.rstrip(".").lower() for host in hosts}
        self.judge = judge  # None when the host serves now, else why not; unset: all serve
        self.requests: list[tuple[str, str, str]] = []  # (method, host, path): ground truth
        self.failing: dict[str, int] = {}  # host -> the status its application answers
        self._server = LoopbackServer(_handler_for(self), "sandbox-gateway")

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> Gateway:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def answer(self, method: str, host: str, path: str) -> tuple[int, dict[str, Any]]:
        name = host.rsplit(":", 1)[0].rstrip(".").lower()
        self.requests.append((method, name, path))
        if name not in self.hosts:
            return 502, {"error": f"no site {name} in the sandbox"}
        why_not = self.judge(name) if self.judge is not None else None
        if why_not is not None:
            return 503, {"error": f"{name} does not serve: {why_not}"}
        status = self.failing.get(name)
        if status is not None:
            return status, {"error": f"{name}: the application answers {status}"}
        return 200, {"status": "ok", "host": name}

    def fail_host(self, host: str, status: int) -> None:
        """From now on the application behind ``host`` answers ``status`` (a fault): its
        site still serves, as a load balancer with healthy backends does."""
        self.failing[host.rstrip(".").lower()] = status


def _handler_for(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status, body = gateway.answer(self.command, self.headers.get("Host", ""), self.path)
            send_json(self, status, body, body=self.command != "HEAD")

        # http.server dispatches on these names.
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _reply  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return  # the sandbox's own log stays quiet; ``requests`` keeps the truth

    return Handler
