"""The real providers, built on first use so a plan that needs no cloud loads no cloud SDK."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from drill.clock import Clock
from providers.http import Urllib3Http
from providers.protocols import HttpClient, KubeApi, VeleroApi

if TYPE_CHECKING:
    from providers.kube import KubeAdapter


class LiveProviders:
    """One adapter per system (and per kube context), created when a step first asks."""

    def __init__(self, clock: Clock, kubeconfig: str | None = None) -> None:
        self.clock = clock
        self.kubeconfig = kubeconfig
        self._kube: dict[str, KubeAdapter] = {}
        self._velero: dict[tuple[str, str], VeleroApi] = {}

    @cached_property
    def _http(self) -> Urllib3Http:
        return Urllib3Http()

    def http(self) -> HttpClient:
        return self._http

    def kube(self, context: str) -> KubeApi:
        return self._adapter(context)

    def _adapter(self, context: str) -> KubeAdapter:
        if context not in self._kube:
            from providers.kube import connect

            self._kube[context] = connect(context, self.kubeconfig, self.clock)
        return self._kube[context]

    def velero(self, context: str, namespace: str) -> VeleroApi:
        key = (context, namespace)
        if key not in self._velero:
            from providers.velero import VeleroAdapter

            self._velero[key] = VeleroAdapter(self._adapter(context), namespace)
        return self._velero[key]
