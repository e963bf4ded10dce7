"""The real providers, built on first use so a plan that needs no cloud loads no cloud SDK."""

from __future__ import annotations

from functools import cached_property

from providers.http import Urllib3Http
from providers.protocols import HttpClient


class LiveProviders:
    @cached_property
    def _http(self) -> Urllib3Http:
        return Urllib3Http()

    def http(self) -> HttpClient:
        return self._http
