"""``KubeEmulator``: one emulated cluster, served over HTTP, with its controllers ticking.

It wires the store, the API, the HTTP server and the simulated controllers together, seeds the
standard namespaces (each with its ``default`` ServiceAccount and ``kube-root-ca.crt``, its
CA bundle: it serves under a CA of its own), the bootstrap RBAC policy
(and Velero's default BackupStorageLocation when the ``velero`` namespace is seeded), accepts
the admin token (``SANDBOX_TOKEN`` unless told otherwise), issues ServiceAccount tokens
(``token_for``), and runs a daemon thread that gives every controller a pass every ``tick_s``
seconds of real time; each pass reads the injected clock, so with a ``FakeClock`` the world
moves only when the test advances it (``tick()`` runs a pass on demand).

It must not contain API or controller logic of its own: it is the assembly and the lifecycle.
"""

from __future__ import annotations

import base64
import random
import threading
import traceback

from drill.clock import Clock, SystemClock
from drill.sandbox.emulator import Emulator
from drill.sandbox.kube._faults import Faults
from drill.sandbox.kube._kubeconfig import SANDBOX_TOKEN
from drill.sandbox.kube._tls import cluster_credentials, forget_authority, register_authority
from drill.sandbox.kube.api.authn import DEFAULT_EXPIRATION_S, Tokens
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, clone, namespace_of
from drill.sandbox.kube.api.policy import bootstrap_objects
from drill.sandbox.kube.api.rbac import Authorizer
from drill.sandbox.kube.api.resources import Registry
from drill.sandbox.kube.api.store import Store
from drill.sandbox.kube.api.verbs import Api, DeleteOptions
from drill.sandbox.kube.controllers.autoscalers import AutoscalerController
from drill.sandbox.kube.controllers.contents import BackupContents
from drill.sandbox.kube.controllers.context import Profile, World
from drill.sandbox.kube.controllers.jobs import JobController
from drill.sandbox.kube.controllers.kubelet import Kubelet, PodLogs
from drill.sandbox.kube.controllers.namespace_defaults import NamespaceDefaults
from drill.sandbox.kube.controllers.namespaces import NamespaceController
from drill.sandbox.kube.controllers.network import Outside, service_proxy
from drill.sandbox.kube.controllers.programs import Programs
from drill.sandbox.kube.controllers.truth import GroundTruth
from drill.sandbox.kube.controllers.velero import BUCKET_PATH, Velero
from drill.sandbox.kube.controllers.workloads import WorkloadController
from drill.sandbox.kube.transport.app import App, AppConfig, Received, RequestRecord
from drill.sandbox.kube.transport.guard import Guard
from drill.sandbox.kube.transport.server import HttpServer

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "velero")


class KubeEmulator(Emulator):
    """An in-process Kubernetes API server and cluster, reachable at ``url`` once started."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        profile: Profile | None = None,
        namespaces: tuple[str, ...] = DEFAULT_NAMESPACES,
        contents: BackupContents | None = None,
        seed: int = 0,
        admin_token: str = SANDBOX_TOKEN,
    ) -> None:
        self.clock = clock or SystemClock()
        self.profile = profile or Profile()
        self.faults = Faults()
        self.truth = GroundTruth()
        self.logs = PodLogs()
        self.programs = Programs()
        self._cuts_lock = threading.Lock()
        self._idle_cuts = 0
        self.errors: list[str] = []
        self._received = RequestRecord()
        # Seeded: a test's uids and generated names repeat from run to run (a sandbox gives
        # each cluster a seed of its own, so uids never repeat across clusters or sandboxes).
        rng = random.Random(seed)  # noqa: S311 - names and uids, not secrets
        self.api = Api(Store(self.profile.event_window), Registry(), self.clock, rng)
        self.admin_token = admin_token
        self._accounts = self.api.registry.get("v1", "ServiceAccount")
        self._guard = Guard(
            Tokens(self.api.store, self._accounts, self.clock, admin_token),
            Authorizer(self.api.store, self.api.registry),
        )
        world = World(self.api, self.clock, self.profile, self.faults, self.truth)
        # A CA of its own, as every real cluster has: its CA bundle verifies no other cluster.
        self._credentials, self._tls = cluster_credentials()
        self.ca_pem = self._credentials.ca_pem.decode("ascii")
        # First, so a namespace has its ``default`` account before pods are made.
        self._namespace_defaults = NamespaceDefaults(world, self.ca_pem)
        self.velero = Velero(world, contents or BackupContents(), self._namespace_defaults.furnish)
        # The kubelet goes last so it sees pods created in the same pass: a pod's clock starts
        # when it is created, not one pass later.
        self._kubelet = Kubelet(world, self.logs, self.programs)
        self._controllers = (
            self._namespace_defaults,
            AutoscalerController(world),  # before the workloads, which act on what it sets
            WorkloadController(world),
            JobController(world),
            NamespaceController(world),
            self.velero,
            self._kubelet,
        )
        self._stop = threading.Event()
        self._tick_lock = threading.Lock()
        self._server: HttpServer | None = None
        self._ticker: threading.Thread | None = None
        self._seed(namespaces)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, *, auto_tick: bool = True) -> str:
        """Serve on an ephemeral 127.0.0.1 port; returns the base URL.

        ``auto_tick=False`` leaves the controllers still until ``tick()`` is called.
        """
        if self._stop.is_set():
            raise RuntimeError("a stopped emulator cannot be started again; make a new one")
        if self._server is not None:
            return self._server.url
        config = AppConfig(
            SystemClock(),
            self._stop,
            self.profile.watch_timeout_s,
            self.logs.text_for,
            self.errors,
            self._received,
            bucket=self.velero.contents.file,
            bucket_path=BUCKET_PATH,
            proxy=self._service_proxy,
            watch_idle_cut_s=self.profile.watch_idle_cut_s,
            on_idle_cut=self._note_idle_cut,
        )
        self._server = HttpServer(App(self.api, self.faults, config, self._guard), self._tls)
        self._server.start()
        register_authority(self._server.url, self._credentials.ca_pem)
        self.velero.download_base = self._server.url
        if auto_tick:
            self._ticker = threading.Thread(
                target=self._tick_forever, name="kube-emulator-tick", daemon=True
            )
            self._ticker.start()
        return self._server.url

    def stop(self) -> None:
        """Stop serving, end open watches and connections, stop the controllers. Idempotent."""
        self._stop.set()
        if self._server is not None:
            self._server.stop()
            forget_authority(self._server.url)
        if self._ticker is not None:
            self._ticker.join(2.0)

    def received(self, method: str | None = None, path: str = "") -> list[Received]:
        """The requests the API server answered (the last 2,000), oldest first:
        those with ``method`` (any when None) whose path ends with ``path``."""
        kept = self._received.all()
        return [r for r in kept if method in (None, r.method) and r.path.endswith(path)]

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator has not been started")
        return self._server.url

    # -- controllers ---------------------------------------------------------------------------

    def tick(self) -> None:
        """One pass of every controller, now (by the injected clock)."""
        with self._tick_lock:
            now = self.clock.monotonic()
            for controller in self._controllers:
                try:
                    controller.tick(now)
                except Exception:  # noqa: BLE001 - one controller's bug must not stop the others
                    self.errors.append(traceback.format_exc())

    def _tick_forever(self) -> None:
        while not self._stop.wait(self.profile.tick_s):
            self.tick()

    # -- world set-up --------------------------------------------------------------------------

    def apply(self, manifest: Obj) -> Obj:
        """Create ``manifest`` (its namespace too, if missing), or replace it if it exists.
        A resourceVersion it carries (a manifest saved from ``kubectl get -o yaml``) is
        dropped: this is setting the world up, not a client's create, which it would fail."""
        manifest = clone(manifest)
        manifest.get("metadata", {}).pop("resourceVersion", None)
        rt = self.api.registry.get(str(manifest.get("apiVersion")), str(manifest.get("kind")))
        namespace = namespace_of(manifest) or ("default" if rt.namespaced else "")
        if rt.namespaced:
            self._ensure_namespace(namespace)
        try:
            return self.api.create(rt, namespace or None, manifest)
        except ApiError as error:
            if error.reason != "AlreadyExists":
                raise
        name = str(manifest["metadata"]["name"])
        return self.api.replace(rt, namespace or None, name, manifest)

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> Obj | None:
        """A copy of the object, or None (read from the store: request faults do not apply)."""
        rt = self.api.registry.get(api_version, kind)
        found = self.api.store.read(rt, namespace or "", name)
        return None if found is None else clone(found)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> None:
        """Delete an object as a client's DELETE would (a namespace starts Terminating)."""
        rt = self.api.registry.get(api_version, kind)
        self.api.delete(rt, namespace, name, DeleteOptions())

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[Obj]:
        """Copies of every object of a kind (in ``namespace``, or all), by namespace and name.

        Like ``get``, this reads the store directly: request faults do not apply to it.
        """
        rt = self.api.registry.get(api_version, kind)
        return [clone(o) for o in self.api.store.items(rt, namespace)]

    def token_for(
        self, namespace: str, name: str, *, expiration_s: int = DEFAULT_EXPIRATION_S
    ) -> str:
        """A bearer token for ServiceAccount ``namespace/name``, as ``kubectl create token``
        gets one (the account must exist; its requests are then held to RBAC)."""
        account = self.api.get(self._accounts, namespace, name)
        return self._guard.tokens.issue(account, expiration_s=expiration_s).token

    def ready_since(self, namespace: str, deployment: str) -> float | None:
        """Ground truth: since when (monotonic) the Deployment has had a Ready pod, if it has
        one now: the earliest of its Ready pods' transitions. A terminating Deployment serves
        nothing."""
        # Asked at every probe attempt: the stored objects are read in place (never changed
        # here), not copied.
        store, registry = self.api.store, self.api.registry
        with self._tick_lock:
            found = store.read(registry.get("apps/v1", "Deployment"), namespace, deployment)
            if found is None or found["metadata"].get("deletionTimestamp"):
                return None
            uid = found["metadata"]["uid"]
            since = [
                self._kubelet.ready_since(pod["metadata"]["uid"])
                for pod in store.items(registry.get("v1", "Pod"), namespace)
                if any(
                    ref.get("uid") == uid for ref in pod["metadata"].get("ownerReferences") or []
                )
            ]
        return min((s for s in since if s is not None), default=None)

    def _note_idle_cut(self) -> None:
        with self._cuts_lock:
            self._idle_cuts += 1

    @property
    def watches_cut_idle(self) -> int:
        """Watches the profile's idle-timeout balancer cut so far."""
        with self._cuts_lock:
            return self._idle_cuts

    def _service_proxy(
        self, namespace: str, segment: str, method: str, path: str
    ) -> tuple[int, str]:
        return service_proxy(self._kubelet.network(), namespace, segment, method, path)

    def set_pod_log(self, namespace: str, pod: str, text: str) -> None:
        self.logs.set_pod_log(namespace, pod, text)

    def set_job_log(self, namespace: str, job: str, text: str) -> None:
        """The log every pod of job ``namespace/job`` serves (unless the pod has its own)."""
        self.logs.set_job_log(namespace, job, text)

    def answer_http(
        self, namespace: str, workload: str, status: int, path: str | None = None, body: str = ""
    ) -> None:
        """Pods of ``namespace/workload`` (a shell-style pattern) answer ``status`` over HTTP
        on ``path`` (None: every path) to the commands Jobs run; by default they answer 200."""
        self.programs.http.set(namespace, workload, status, path, body)

    def reach_outside(self, outside: Outside | None) -> None:
        """Names outside the cluster that Jobs' commands resolve, and what those hosts answer
        (in a sandbox: its public endpoints); without it, only the cluster's own names resolve."""
        self.programs.outside = outside

    def compact_events(self) -> None:
        """Forget retained watch events: watches from an older resourceVersion now get 410."""
        self.api.store.compact()

    def _ensure_namespace(self, namespace: str) -> None:
        namespaces = self.api.registry.get("v1", "Namespace")
        if self.api.store.read(namespaces, "", namespace) is None:
            self.api.create(namespaces, None, {"metadata": {"name": namespace}})

    def _seed(self, namespaces: tuple[str, ...]) -> None:
        for namespace in namespaces:
            self._ensure_namespace(namespace)
        for manifest in bootstrap_objects():
            self.apply(manifest)
        self._namespace_defaults.tick(self.clock.monotonic())  # a cluster starts with them
        if self.velero.namespace in namespaces:
            # Download URLs point into this server's own bucket, under this cluster's CA: the
            # location says so as a private store's does.
            ca_cert = base64.b64encode(self._credentials.ca_pem).decode("ascii")
            self.velero.add_storage_location("default", ca_cert=ca_cert)
