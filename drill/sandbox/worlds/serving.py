"""What serves users in a sandbox world: which answers of which records lead to working sites.

Every record a DNS switch names is a host users reach. Its switch points it at a site: the
addresses (or CNAME targets) the step sets, behind which serve what the same plan, in the same
mode, brings up: the workloads it scales (else those its readiness waits name, by their app
label) on the clusters their roles map to, and the backends it switches (with the targets it
gives capacity). A host serves while the nameservers answer one of those addresses *and* every
workload behind has a Ready pod *and* every backend sends traffic to a healthy target. A record
switched in live mode starts at the primary region's answer, which serves (the sandbox does not
take the primary down); a drill's shadow record starts at a parked address nothing serves, so a
drill's target serves only once its failover makes it.

This module only decides *what* serves; ``drill.sandbox.serving`` asks the emulators *whether*
and *since when* it does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from drill.plan import ExecutionPlan
from drill.steps._base import dns_name
from drill.steps.backend_switch import BackendSwitchParams
from drill.steps.dns_switch import DnsSwitchParams
from drill.steps.kube_scale import KubeScaleParams
from drill.steps.kube_wait_ready import KubeWaitReadyParams
from providers.protocols import BackendRef


@dataclass(frozen=True)
class WorkloadBehind:
    role: str  # the context role whose cluster runs it
    namespace: str
    name: str  # a Deployment


@dataclass(frozen=True)
class BackendBehind:
    ref: BackendRef
    targets: tuple[str, ...]  # those the plan gives capacity: one of them must serve


@dataclass(frozen=True)
class Site:
    """Where a switched record sends users, and what must work there for them to be served."""

    cloud: str  # gcp | aws: whose nameservers answer the record
    record: str  # fully qualified, lower case: the host users ask for
    type: str
    addresses: frozenset[str]
    workloads: tuple[WorkloadBehind, ...] = ()
    backends: tuple[BackendBehind, ...] = ()


@dataclass
class ServingWorld:
    sites: list[Site] = field(default_factory=list)
    # Answers of the primary region: a record pointing at one serves (until a fault says not).
    primary_answers: set[str] = field(default_factory=set)

    def hosts(self) -> set[str]:
        return {site.record for site in self.sites}

    def sites_of(self, host: str) -> list[Site]:
        return [site for site in self.sites if site.record == host_name(host)]


def host_name(host: str) -> str:
    """A host as the world names it: a fully qualified DNS name in lower case."""
    return dns_name(host)


def derive_serving(plans: Iterable[ExecutionPlan], primary_answers: Iterable[str]) -> ServingWorld:
    world = ServingWorld(primary_answers={answer_of(a) for a in primary_answers})
    for plan in plans:
        workloads = _workloads(plan)
        backends = _backends(plan)
        for step in plan.steps():
            if isinstance(step.params, DnsSwitchParams):
                world.sites.append(_site(step.params, workloads, backends))
    return world


def answer_of(value: str) -> str:
    """An answer as the gateway compares it: CNAME targets as DNS names, addresses as given."""
    return dns_name(value) if any(char.isalpha() for char in value) and ":" not in value else value


def _site(
    params: DnsSwitchParams,
    workloads: tuple[WorkloadBehind, ...],
    backends: tuple[BackendBehind, ...],
) -> Site:
    return Site(
        cloud=params.provider,
        record=dns_name(params.record),
        type=params.type,
        addresses=frozenset(answer_of(a) for a in params.answer()),
        workloads=workloads,
        backends=backends,
    )


def _workloads(plan: ExecutionPlan) -> tuple[WorkloadBehind, ...]:
    """What the mode scales up serves; a plan that scales nothing serves what it waits for."""
    scaled: list[WorkloadBehind] = []
    waited: list[WorkloadBehind] = []
    for step in plan.steps("failover", "verify"):
        params, role = step.params, step.context_role
        if role is None:
            continue
        if isinstance(params, KubeScaleParams):
            scaled.append(WorkloadBehind(role, params.namespace, params.name))
        elif isinstance(params, KubeWaitReadyParams):
            apps = apps_in_selector(params.selector)
            waited += [WorkloadBehind(role, params.namespace, app) for app in sorted(apps)]
    return tuple(dict.fromkeys(scaled or waited))


def apps_in_selector(selector: str) -> set[str]:
    """The ``app`` label values a selector asks for: the world names workloads after them."""
    pairs = (part.strip().replace("==", "=") for part in selector.split(","))
    return {value for key, _, value in (p.partition("=") for p in pairs) if key == "app" and value}


def _backends(plan: ExecutionPlan) -> tuple[BackendBehind, ...]:
    found = []
    for step in plan.steps("failover"):
        if isinstance(step.params, BackendSwitchParams):
            serving = tuple(t.target for t in step.params.targets() if t.capacity > 0)
            found.append(BackendBehind(step.params.ref(), serving))
    return tuple(found)
