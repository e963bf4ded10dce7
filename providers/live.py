"""The real providers, built on first use so a plan that needs no cloud loads no cloud SDK."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Literal

from drill.clock import Clock
from drill.errors import ProviderError
from providers.cloud import CloudSettings
from providers.protocols import (
    BackendApi,
    DnsApi,
    DnsZones,
    HttpClient,
    KubeApi,
    ObjectStore,
    Resolver,
    VeleroApi,
)

if TYPE_CHECKING:
    from providers.aws import AwsClients
    from providers.http import Urllib3Http
    from providers.kube import KubeAdapter

Cloud = Literal["gcp", "aws"]


class LiveProviders:
    """One adapter per system (and per kube context, project or region), created when a step
    first asks for it."""

    def __init__(
        self, clock: Clock, kubeconfig: str | None = None, cloud: CloudSettings | None = None
    ) -> None:
        self.clock = clock
        self.kubeconfig = kubeconfig
        self.cloud = cloud or CloudSettings()
        self._kube: dict[str, KubeAdapter] = {}
        self._velero: dict[tuple[str, str], VeleroApi] = {}
        self._stores: dict[tuple[str, str | None, str | None], ObjectStore] = {}
        self._dns: dict[tuple[str, str | None], DnsApi] = {}
        self._backends: dict[str, BackendApi] = {}

    @cached_property
    def _http(self) -> Urllib3Http:
        from providers.http import Urllib3Http  # urllib3 only when a step sends HTTP

        return Urllib3Http(self.cloud.http_gateway, self.cloud.gateway_hosts)

    def http(self) -> HttpClient:
        return self._http

    @cached_property
    def _aws(self) -> AwsClients:
        """One botocore session for every AWS adapter of the run: credentials are resolved once
        and each client is built once."""
        from providers.aws import AwsClients

        return AwsClients(self.cloud)

    def kube(self, context: str) -> KubeApi:
        return self._adapter(context)

    def _adapter(self, context: str) -> KubeAdapter:
        if context not in self._kube:
            from providers.kube import connect

            self._kube[context] = connect(context, self.kubeconfig, self.clock)
        return self._kube[context]

    def check_kube_context(self, context: str) -> None:
        """Connect to ``context`` and ask its API server for its version: a missing kubeconfig,
        an unknown context, an unreachable server or rejected credentials raise a
        ``ProviderError`` whose one line names the context and the kubeconfig files."""
        from providers.kube import context_source

        adapter = self._adapter(context)
        try:
            adapter.server_version()
        except ProviderError as exc:
            where = context_source(context, self.kubeconfig)
            reason = str(exc).removeprefix(f"{context}: ")
            raise type(exc)(f"kube context {context!r} ({where}): {reason}") from None

    def velero(self, context: str, namespace: str) -> VeleroApi:
        key = (context, namespace)
        if key not in self._velero:
            from providers.velero import VeleroAdapter

            self._velero[key] = VeleroAdapter(self._adapter(context), namespace)
        return self._velero[key]

    def object_store(self, cloud: Cloud, project: str | None, region: str | None) -> ObjectStore:
        key = (cloud, project, region)
        if key not in self._stores:
            self._stores[key] = self._new_object_store(cloud, project, region)
        return self._stores[key]

    def _new_object_store(
        self, cloud: Cloud, project: str | None, region: str | None
    ) -> ObjectStore:
        if cloud == "gcp":
            from providers.gcs import GcsObjectStore

            return GcsObjectStore(self.cloud, project)
        from providers.aws import S3ObjectStore

        return S3ObjectStore(self.cloud, region, clients=self._aws)

    def dns(self, cloud: Cloud, project: str | None) -> DnsApi:
        key = (cloud, project)
        if key not in self._dns:
            self._dns[key] = self._new_dns(cloud, project)
        return self._dns[key]

    def dns_zones(self, cloud: Cloud, project: str | None) -> DnsZones:
        return self.dns(cloud, project)  # type: ignore[return-value]  # every adapter reads zones

    def kube_reader(self, context: str) -> KubeAdapter:
        """The context's adapter itself, for reading what drill's protocols do not name."""
        return self._adapter(context)

    def _new_dns(self, cloud: Cloud, project: str | None) -> DnsApi:
        if cloud == "gcp":
            from providers.gcp_dns import CloudDnsAdapter

            return CloudDnsAdapter(self.cloud, project or "")
        from providers.aws import Route53Dns

        return Route53Dns(self.cloud, clients=self._aws)

    def backends(self, cloud: Cloud) -> BackendApi:
        if cloud not in self._backends:
            self._backends[cloud] = self._new_backends(cloud)
        return self._backends[cloud]

    def _new_backends(self, cloud: Cloud) -> BackendApi:
        if cloud == "gcp":
            from providers.gcp_compute import ComputeBackendsAdapter

            return ComputeBackendsAdapter(self.cloud)
        from providers.aws import Elbv2Backends

        return Elbv2Backends(self.cloud, clients=self._aws)

    @cached_property
    def _resolver(self) -> Resolver:
        from providers.resolver import DnsPythonResolver

        return DnsPythonResolver(self.cloud)

    def resolver(self) -> Resolver:
        return self._resolver
