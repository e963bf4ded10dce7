"""The cloud emulators of a sandbox world: started only for what the plans use, then seeded.

GCS runs on gcp-storage-emulator, Cloud DNS and Compute backend services on our own
emulators (with a UDP nameserver answering from the DNS emulator), S3, Route53 and ELBv2 on
moto. All listen on 127.0.0.1; ``settings`` tells drill's real adapters where they are.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from drill.clock import Clock
from drill.errors import UsageError
from drill.sandbox.emulator import Emulator
from drill.sandbox.worlds.clouds import (
    BackendWorld,
    BackupSeed,
    BucketWorld,
    CloudWorld,
    HeartbeatSeed,
    ZoneWorld,
)
from drill.sandbox.worlds.retention import PERIODS_KEPT
from providers.cloud import CloudSettings
from providers.protocols import BackendTarget, RecordSet

if TYPE_CHECKING:
    from drill.sandbox.aws import AwsSandbox
    from drill.sandbox.gateway import Gateway
    from drill.sandbox.gcp import CloudDnsEmulator, ComputeEmulator
    from drill.sandbox.gcs import GcsSandbox

SANDBOX_INSTANCES_PER_GROUP = 2
# Heartbeats under a prefix when the sandbox starts, and where in its interval the writer was:
# anything but a whole number of intervals, so t0 falls between two writes.
HEARTBEAT_HISTORY = 5
HEARTBEAT_PHASE = 0.37
# The longest the writers' thread sleeps between looks at the clock.
WRITER_POLL_S = 1.0


class ObjectWriter(Protocol):
    def put_object(
        self,
        bucket: str,
        name: str,
        size: int,
        age_s: float,
        metadata: dict[str, str],
        content: bytes | None = None,
    ) -> None: ...

    def delete_object(self, bucket: str, name: str) -> None: ...


@dataclass(frozen=True)
class CloudProfile:
    """How long simulated cloud changes take, in seconds."""

    dns_change_s: float = 1.0  # a Cloud DNS change stays pending this long
    dns_propagation_s: float = 0.5  # then the nameserver answers the new data after this
    operation_s: float = 1.0  # a Compute operation runs this long
    healthy_after_s: float = 1.5  # a newly added instance group passes health checks after

    def scaled(self, factor: float) -> CloudProfile:
        return replace(
            self,
            dns_change_s=self.dns_change_s * factor,
            dns_propagation_s=self.dns_propagation_s * factor,
            operation_s=self.operation_s * factor,
            healthy_after_s=self.healthy_after_s * factor,
        )


@dataclass
class _Writer:
    """A backup job or heartbeat writer: the next moment it writes, every ``period_s``, and
    the objects it wrote that its bucket still holds, oldest first.

    What it wrote is kept ``kept_s`` and its newest ``PERIODS_KEPT`` whatever their age, as a
    lifecycle rule deleting objects past an age that have that many newer ones would: the
    newest, which checks and heartbeat probes read, is never deleted (see
    ``worlds.retention``).
    """

    next_at: datetime
    period_s: float
    kept_s: float
    write: Callable[[datetime, datetime], str]  # (the moment written, now) -> object name
    delete: Callable[[datetime, str], None]  # (the moment written, object name)
    held: deque[tuple[datetime, str]] = field(default_factory=deque)

    def write_due(self, now: datetime) -> None:
        """Write the next object, then delete what is past keeping."""
        self.held.append((self.next_at, self.write(self.next_at, now)))
        self.next_at += timedelta(seconds=self.period_s)
        oldest_kept = now - timedelta(seconds=self.kept_s)
        while len(self.held) > PERIODS_KEPT and self.held[0][0] < oldest_kept:
            self.delete(*self.held.popleft())


class CloudSandbox(Emulator):
    def __init__(self, world: CloudWorld, clock: Clock, profile: CloudProfile) -> None:
        self.world = world
        self.clock = clock
        self.profile = profile
        self.gcs: GcsSandbox | None = None
        self.dns: CloudDnsEmulator | None = None
        self.compute: ComputeEmulator | None = None
        self.aws: AwsSandbox | None = None
        self._nameserver: str | None = None
        self._nameservers: dict[str, str] = {}  # a zone's nameserver -> its responder
        self.gateway: Gateway | None = None
        # Asked by the gateway at each request: None when a host serves, else why not. Set
        # before start by the sandbox, which knows the clusters too; unset, every host serves.
        self.judge: Callable[[str], str | None] | None = None
        self._backup_jobs: list[tuple[ObjectWriter, BucketWorld]] = []
        self._writers: list[_Writer] = []
        self._writers_lock = threading.Lock()
        # Ground truth, at full precision: every heartbeat written, by (bucket, prefix), and
        # when each backup object was taken, by (bucket, name).
        self._heartbeats: dict[tuple[str, str], list[datetime]] = {}
        self._backups_taken: dict[tuple[str, str], datetime] = {}
        self._truth_lock = threading.Lock()
        self._stack = ExitStack()

    def start(self) -> CloudSandbox:
        try:
            self._start_gcp()
            if self.world.uses("aws"):
                self._start_aws()
            self._start_writers()
            self._start_gateway()
        except ModuleNotFoundError as exc:
            self._stack.close()
            raise UsageError(
                f"the sandbox's cloud emulators are not installed ({exc.name} is missing): "
                "pip install 'drill[sandbox]'"
            ) from None
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start_gateway(self) -> None:
        from drill.sandbox.gateway import Gateway

        hosts = [name for zone in self.world.zones.values() for name, _ in zone.records]
        if not hosts:
            return
        self.gateway = Gateway(hosts, self.judge)
        self._stack.callback(self.gateway.stop)
        self.gateway.start()

    def _start_writers(self) -> None:
        """Each backup job and heartbeat writer on its schedule: the writes due before now
        (a backup its healthy age old, a heartbeat's last few), then each as it falls due, by
        the sandbox's clock, so a sandbox kept up for hours still passes its freshness checks
        and a clock moved forward finds every write it passed over."""
        now = self.clock.now()
        for store, bucket in self._backup_jobs:
            for seed in bucket.backups.values():
                first = now - timedelta(seconds=seed.age_s)
                write = partial(self._write_backup, store, bucket, seed)
                delete = partial(self._delete_backup, store, bucket)
                self._writers.append(_Writer(first, seed.period_s, seed.kept_s, write, delete))
            for beat in bucket.heartbeats.values():
                back = (HEARTBEAT_HISTORY - 1 + HEARTBEAT_PHASE) * beat.interval_s
                first = now - timedelta(seconds=back)
                write = partial(self._write_beat, store, bucket, beat)
                delete = partial(self._delete_beat, store, bucket, beat)
                self._writers.append(_Writer(first, beat.interval_s, beat.kept_s, write, delete))
        if not self._writers:
            return
        self.catch_up()
        stop = threading.Event()
        thread = threading.Thread(
            target=self._write_forever, args=(stop,), name="sandbox-writers", daemon=True
        )
        self._stack.callback(thread.join, 5)
        self._stack.callback(stop.set)
        thread.start()

    def catch_up(self) -> None:
        """Write every backup and heartbeat due by the clock's now."""
        with self._writers_lock:
            now = self.clock.now()
            for writer in self._writers:
                while writer.next_at <= now:
                    writer.write_due(now)

    def _write_forever(self, stop: threading.Event) -> None:
        while True:
            with self._writers_lock:
                due = min(writer.next_at for writer in self._writers)
            wait_s = (due - self.clock.now()).total_seconds()
            # Never long asleep: a clock moved forward (a test's) is noticed within a second.
            if stop.wait(min(max(wait_s, 0.0), WRITER_POLL_S)):
                return
            self.catch_up()

    def _write_backup(
        self,
        store: ObjectWriter,
        bucket: BucketWorld,
        seed: BackupSeed,
        taken: datetime,
        now: datetime,
    ) -> str:
        name, metadata = seed.object_at(taken)
        store.put_object(bucket.name, name, seed.size, (now - taken).total_seconds(), metadata)
        with self._truth_lock:
            self._backups_taken[(bucket.name, name)] = taken
        return name

    def _delete_backup(
        self, store: ObjectWriter, bucket: BucketWorld, taken: datetime, name: str
    ) -> None:
        """Delete a backup object, and its truth with it: what the bucket holds and what the
        truth says was taken stay the same."""
        store.delete_object(bucket.name, name)
        with self._truth_lock:
            self._backups_taken.pop((bucket.name, name), None)

    def _write_beat(
        self,
        store: ObjectWriter,
        bucket: BucketWorld,
        seed: HeartbeatSeed,
        written: datetime,
        now: datetime,
    ) -> str:
        name, content = seed.object_at(written)
        age_s = (now - written).total_seconds()
        store.put_object(bucket.name, name, len(content), age_s, {}, content)
        with self._truth_lock:
            self._heartbeats.setdefault((bucket.name, seed.prefix), []).append(written)
        return name

    def _delete_beat(
        self,
        store: ObjectWriter,
        bucket: BucketWorld,
        seed: HeartbeatSeed,
        written: datetime,
        name: str,
    ) -> None:
        store.delete_object(bucket.name, name)
        with self._truth_lock:
            self._heartbeats[(bucket.name, seed.prefix)].remove(written)

    def backup_taken_at(self, bucket: str, name: str) -> datetime | None:
        """Ground truth: when backup object ``name`` was written, to the microsecond (S3 keeps
        whole seconds of it)."""
        with self._truth_lock:
            return self._backups_taken.get((bucket, name))

    def heartbeats(self, bucket: str, prefix: str) -> list[datetime]:
        """Ground truth: when each heartbeat under ``bucket``/``prefix`` was written, oldest
        first, to the microsecond (what its object holds)."""
        with self._truth_lock:
            return list(self._heartbeats.get((bucket, prefix), []))

    def stop(self) -> None:
        self._stack.close()

    @property
    def settings(self) -> CloudSettings:
        return CloudSettings(
            gcs_endpoint=self.gcs.url if self.gcs else None,
            dns_endpoint=self.dns.url if self.dns else None,
            compute_endpoint=self.compute.url if self.compute else None,
            aws_endpoint=self.aws.endpoint if self.aws else None,
            nameserver=self._nameserver,
            nameservers=tuple(f"{name}={where}" for name, where in self._nameservers.items()),
            http_gateway=self.gateway.url if self.gateway else None,
            gateway_hosts=tuple(sorted(self.gateway.hosts)) if self.gateway else (),
            anonymous=True,
        )

    # --- starting and seeding -------------------------------------------------------------

    def _start_gcp(self) -> None:
        gcp_buckets = [b for b in self.world.buckets.values() if b.cloud == "gcp"]
        if gcp_buckets:
            self._start_gcs(gcp_buckets)
        gcp_zones = [z for z in self.world.zones.values() if z.cloud == "gcp"]
        if gcp_zones:
            self._start_dns(gcp_zones)
        gcp_backends = [b for b in self.world.backends.values() if b.ref.provider == "gcp"]
        if gcp_backends:
            self._start_compute(gcp_backends)

    def _start_gcs(self, buckets: list[BucketWorld]) -> None:
        from drill.sandbox.gcs import GcsSandbox

        self.gcs = self._stack.enter_context(GcsSandbox(self.clock))
        for bucket in buckets:
            self.gcs.create_bucket(bucket.name)
        self._backup_jobs.extend((self.gcs, bucket) for bucket in buckets)

    def _start_dns(self, zones: list[ZoneWorld]) -> None:
        from drill.sandbox.gcp import CloudDnsEmulator, DnsResponder

        self.dns = CloudDnsEmulator(
            self.clock,
            change_delay_s=self.profile.dns_change_s,
            propagation_delay_s=self.profile.dns_propagation_s,
        )
        self._stack.callback(self.dns.stop)
        self.dns.start()
        for zone in zones:
            project = zone.project or "sandbox"
            self.dns.add_zone(project, zone.zone, zone.dns_name, zone.nameservers)
            for record in zone.records.values():
                self.dns.set_record(
                    project, zone.zone, record.name, record.type, record.ttl, list(record.rrdatas)
                )
        responder = DnsResponder(self.dns)
        self._stack.callback(responder.stop)
        responder.start()
        self._nameserver = responder.address
        # A zone that names its nameservers is served by each of them alone: one responder
        # per name, so a check asking another server is refused, as it would be for real.
        named = sorted({n for zone in zones for n in zone.nameservers or ()})
        for name in named:
            own = DnsResponder(self.dns, name)
            self._stack.callback(own.stop)
            own.start()
            self._nameservers[name] = own.address

    def _start_compute(self, backends: list[BackendWorld]) -> None:
        from drill.sandbox.gcp import ComputeEmulator

        self.compute = ComputeEmulator(
            self.clock,
            operation_s=self.profile.operation_s,
            healthy_after_s=self.profile.healthy_after_s,
        )
        self._stack.callback(self.compute.stop)
        self.compute.start()
        for backend in backends:
            for group in sorted(backend.known_targets):
                self.compute.add_instance_group(group, instances=SANDBOX_INSTANCES_PER_GROUP)
            self.compute.add_backend_service(
                backend.ref.project or "sandbox",
                backend.ref.name,
                region=backend.ref.region,
                backends=[_gcp_backend(t) for t in backend.targets],
            )

    def _start_aws(self) -> None:
        from drill.sandbox.aws import AwsSandbox

        self.aws = self._stack.enter_context(
            AwsSandbox(self.clock, change_delay_s=self.profile.dns_change_s)
        )
        for bucket in self.world.buckets.values():
            if bucket.cloud == "aws":
                self.aws.create_bucket(bucket.name, bucket.region)
                self._backup_jobs.append((self.aws, bucket))
        for zone in self.world.zones.values():
            if zone.cloud == "aws":
                zone_id = self.aws.create_zone(zone.dns_name)
                for record in zone.records.values():
                    self.aws.set_record(
                        zone_id, record.name, record.type, record.ttl, list(record.rrdatas)
                    )
        for backend in self.world.backends.values():
            if backend.ref.provider == "aws":
                self._seed_elbv2(backend)

    def _seed_elbv2(self, backend: BackendWorld) -> None:
        assert self.aws is not None
        ref = backend.ref
        if ref.kind == "target_group":
            port = next((t.port for t in backend.targets if t.port), 80)
            self.aws.create_target_group(
                ref.name,
                port,
                [(t.target, t.port or port) for t in backend.targets],
                region=ref.region,
            )
            return
        lb_name, _, listener_port = ref.name.partition(":")
        weights = {t.target: int(t.capacity) for t in backend.targets}
        for group in sorted(backend.known_targets - set(weights)):
            weights[group] = 0
        self.aws.create_load_balancer_with_listener(
            lb_name, int(listener_port or 443), weights, region=ref.region
        )

    # --- ground truth ---------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Every record and backend set the world holds, as the emulators see it now."""
        found: dict[str, Any] = {}
        for zone in self.world.zones.values():
            for record in zone.records.values():
                found[f"dns {zone.zone} {record.name} {record.type}"] = self.record(zone, record)
        for backend in self.world.backends.values():
            found[f"backends {backend.ref.name}"] = self.backends(backend)
        return found

    def record(self, zone: ZoneWorld, record: RecordSet) -> Any:
        if zone.cloud == "gcp":
            assert self.dns is not None
            return self.dns.record(zone.project or "sandbox", zone.zone, record.name, record.type)
        assert self.aws is not None
        return self.aws.record(self.aws.zone_id(zone.dns_name), record.name, record.type)

    def backends(self, backend: BackendWorld) -> Any:
        ref = backend.ref
        if ref.provider == "gcp":
            assert self.compute is not None
            return self.compute.backends(ref.project or "sandbox", ref.name, ref.region)
        assert self.aws is not None
        if ref.kind == "target_group":
            return self.aws.targets(ref.name)
        return self.aws.listener_weights(ref.name)


def _gcp_backend(target: BackendTarget) -> dict[str, Any]:
    return {"group": target.target, "capacityScaler": target.capacity, **dict(target.settings)}
