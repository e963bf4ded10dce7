"""After undo, each mutating step type reads back what it changed and compares it with the prior
state it journaled: "equal" only when it is exactly that, "differs" naming both values when it
is not, "not verified" when drill could not tell. In-memory clusters and clouds behind drill's
own Protocols."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import JsonValue

from drill.errors import PermanentError, StepFailed
from drill.steps import ReadBack
from drill.steps._changes import GONE_WITHIN_S
from drill.steps.backend_switch import BackendSwitch
from drill.steps.dns_switch import DnsSwitch
from drill.steps.kube_job import KubeJob
from drill.steps.kube_namespace import KubeNamespace, KubeNamespaceParams
from drill.steps.kube_scale import KubeScale
from drill.steps.velero_restore import VeleroRestore
from providers.protocols import BackendTarget, JobSpec, NamespaceInfo, RecordSet
from tests.steps.cloudfakes import FakeDns, cloud_env, noting
from tests.steps.kubefakes import CLOCK, FakeCluster, kube_env
from tests.steps.test_backend_switch import BEFORE, PRIMARY
from tests.steps.test_backend_switch import clouds_with as backends_with
from tests.steps.test_backend_switch import params as backend_params
from tests.steps.test_dns_switch import NAME, OLD
from tests.steps.test_dns_switch import clouds_with as dns_with
from tests.steps.test_dns_switch import params as dns_params
from tests.steps.test_kube_steps import (
    AFTER,
    JOB,
    LIVE_RESTORE,
    RESTORE,
    SCALE,
    production_after_a_restore,
    restoring,
    status,
)

OURS = {"drill.dev/run-id": "run-1"}


def only(checks: list[ReadBack]) -> ReadBack:
    [check] = checks
    return check


# --- dns.switch -------------------------------------------------------------------------------


def test_a_record_put_back_reads_back_equal_rrdatas_and_ttl() -> None:
    clouds, step = dns_with(), DnsSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(dns_params(ttl=60), env)
    step.run(dns_params(ttl=60), env)
    step.undo(dns_params(ttl=60), prior, env)
    check = only(step.verify_undone(dns_params(ttl=60), prior, env))
    assert check == ReadBack(f"A record {NAME}", "equal", "10.0.0.1 ttl 300, as drill found it")


def test_a_record_with_the_right_rrdatas_but_another_ttl_differs() -> None:
    clouds, step = dns_with(), DnsSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(dns_params(), env)
    clouds.dns_api.records[(NAME, "A")] = RecordSet(NAME, "A", 30, OLD.rrdatas)
    check = only(step.verify_undone(dns_params(), prior, env))
    assert (check.status, check.detail) == (
        "differs",
        "10.0.0.1 ttl 30, not 10.0.0.1 ttl 300 as drill found it",
    )


def test_a_record_someone_changed_so_undo_left_it_differs_naming_both_values() -> None:
    clouds, step = dns_with(), DnsSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(dns_params(), env)
    step.run(dns_params(), env)
    clouds.dns_api.records[(NAME, "A")] = RecordSet(NAME, "A", 300, ("192.0.2.7",))
    with pytest.raises(StepFailed):
        step.undo(dns_params(), prior, env)
    check = only(step.verify_undone(dns_params(), prior, env))
    assert check.status == "differs"
    assert check.detail == "192.0.2.7 ttl 300, not 10.0.0.1 ttl 300 as drill found it"


def test_a_record_that_was_absent_must_be_absent_again() -> None:
    clouds, step = dns_with(None), DnsSwitch()
    env = cloud_env(clouds)
    creating = dns_params(create=True)
    prior = step.capture_prior_state(creating, env)
    step.run(creating, env)
    assert only(step.verify_undone(creating, prior, env)).status == "differs"
    step.undo(creating, prior, env)
    check = only(step.verify_undone(creating, prior, env))
    assert (check.status, check.detail) == ("equal", "(absent), as drill found it")


def test_a_change_never_made_whose_record_someone_else_changed_still_differs() -> None:
    """Drill's own change was refused, so its undo changes nothing; the record is still not
    as drill found it, and the read-back says so rather than calling it equal."""
    clouds, step = dns_with(), DnsSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(dns_params(), env)
    clouds.dns_api.records[(NAME, "A")] = RecordSet(NAME, "A", 300, ("192.0.2.7",))
    notes: dict[str, JsonValue] = {}
    undone = step.undo(dns_params(), prior, replace(env, **noting(notes)))
    assert undone.endswith("drill's change was never made")
    assert only(step.verify_undone(dns_params(), prior, env)).status == "differs"


def test_a_record_that_cannot_be_read_raises_for_the_executor_to_report() -> None:
    clouds, step = dns_with(), DnsSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(dns_params(), env)

    class Denied(FakeDns):
        def get_record(self, zone: str, name: str, type_: str) -> RecordSet | None:
            raise PermanentError("permission denied: dns.resourceRecordSets.list")

    clouds.dns_api = Denied()
    with pytest.raises(PermanentError, match="permission denied"):
        step.verify_undone(dns_params(), prior, env)


# --- backend.switch ---------------------------------------------------------------------------


def test_backends_put_back_read_back_equal_with_their_settings() -> None:
    clouds, step = backends_with(), BackendSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(backend_params(), env)
    step.run(backend_params(), env)
    step.undo(backend_params(), prior, env)
    check = only(step.verify_undone(backend_params(), prior, env))
    assert (check.target, check.status) == ("backend service api-backend", "equal")


def test_backends_whose_setting_someone_changed_differ_naming_it() -> None:
    clouds, step = backends_with(), BackendSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(backend_params(), env)
    rated = (("balancingMode", "UTILIZATION"), ("maxRate", 500))
    clouds.backend_api.services["api-backend"] = (BackendTarget(PRIMARY, 1.0, None, rated),)
    check = only(step.verify_undone(backend_params(), prior, env))
    assert check.status == "differs"
    assert f"{PRIMARY} balancingMode UTILIZATION (was RATE)" in check.detail


def test_other_backends_differ() -> None:
    clouds, step = backends_with(), BackendSwitch()
    env = cloud_env(clouds)
    prior = step.capture_prior_state(backend_params(), env)
    step.run(backend_params(), env)
    check = only(step.verify_undone(backend_params(), prior, env))
    assert check.status == "differs"
    assert check.detail.endswith(f"not {PRIMARY}@1 as drill found it")
    assert clouds.backend_api.services["api-backend"] != BEFORE


# --- kube.scale -------------------------------------------------------------------------------


def test_replicas_read_back_against_the_prior_count() -> None:
    cluster = FakeCluster()
    cluster.kube_api.replicas["dr-test/api"] = 2
    env = kube_env(cluster)
    prior = KubeScale().capture_prior_state(SCALE, env)
    KubeScale().run(SCALE, env)
    check = only(KubeScale().verify_undone(SCALE, prior, env))
    assert (check.status, check.detail) == (
        "differs",
        "20 replicas, not 2 replicas as drill found it",
    )
    KubeScale().undo(SCALE, prior, env)
    check = only(KubeScale().verify_undone(SCALE, prior, env))
    assert check == ReadBack("Deployment dr-test/api", "equal", "2 replicas, as drill found it")


# --- kube.namespace ---------------------------------------------------------------------------

CREATE = KubeNamespaceParams.model_validate({"action": "create", "name": "dr-test"})


def test_a_created_namespace_still_terminating_is_waited_for_until_gone() -> None:
    cluster = FakeCluster()
    env = kube_env(cluster)
    prior = KubeNamespace().capture_prior_state(CREATE, env)
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Terminating", OURS)
    cluster.kube_api.terminating_polls = 5
    started = CLOCK.monotonic()
    check = only(KubeNamespace().verify_undone(CREATE, prior, env))
    assert check == ReadBack("namespace dr-test", "equal", "gone, absent as drill found it")
    assert 0 < CLOCK.monotonic() - started < GONE_WITHIN_S


def test_a_namespace_terminating_past_the_bound_is_not_verified() -> None:
    cluster = FakeCluster()
    env = kube_env(cluster, timeout_s=3600)
    prior = KubeNamespace().capture_prior_state(CREATE, env)
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Terminating", OURS)
    cluster.kube_api.terminating_polls = 10**6  # a finalizer that never lets go
    check = only(KubeNamespace().verify_undone(CREATE, prior, env))
    assert check.status == "not verified"
    assert check.detail == "namespace dr-test still Terminating after 2m00s: not yet gone"


def test_a_created_namespace_still_active_differs_at_once() -> None:
    cluster = FakeCluster()
    env = kube_env(cluster)
    prior = KubeNamespace().capture_prior_state(CREATE, env)
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", OURS)
    started = CLOCK.monotonic()
    check = only(KubeNamespace().verify_undone(CREATE, prior, env))
    assert (check.status, check.detail) == (
        "differs",
        "namespace dr-test still Active, not absent as drill found it",
    )
    assert CLOCK.monotonic() == started  # nothing to wait for


def test_someone_elses_namespace_must_still_be_there() -> None:
    cluster = FakeCluster()
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", {})
    env = kube_env(cluster)
    prior = KubeNamespace().capture_prior_state(CREATE, env)
    assert prior == {"existed": True}
    assert only(KubeNamespace().verify_undone(CREATE, prior, env)).status == "equal"
    del cluster.kube_api.namespaces["dr-test"]
    check = only(KubeNamespace().verify_undone(CREATE, prior, env))
    assert (check.status, check.detail) == ("differs", "absent, not there as drill found it")


def test_a_namespace_still_terminating_when_read_counts_as_absent_before() -> None:
    cluster = FakeCluster()
    earlier = {"drill.dev/run-id": "run-0"}
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Terminating", earlier)
    cluster.kube_api.terminating_polls = 1
    assert KubeNamespace().capture_prior_state(CREATE, kube_env(cluster)) == {"existed": False}


# --- kube.job ---------------------------------------------------------------------------------


def test_the_smoke_job_must_be_gone() -> None:
    cluster = FakeCluster()
    env = kube_env(cluster)
    prior = KubeJob().capture_prior_state(JOB, env)
    name = env.object_name(JOB.name_prefix)
    check = only(KubeJob().verify_undone(JOB, prior, env))
    assert check == ReadBack(f"job dr-test/{name}", "equal", "gone, absent as drill found it")
    labels = env.run_labels()
    cluster.kube_api.jobs[name] = JobSpec("dr-test", name, "curl", ["true"], {}, labels, 60)
    check = only(KubeJob().verify_undone(JOB, prior, env))
    assert (check.status, check.detail) == (
        "differs",
        f"job {name} still there, not absent as drill found it",
    )


# --- velero.restore ---------------------------------------------------------------------------


def test_a_drill_restore_reads_back_its_namespace_and_restore_gone() -> None:
    cluster = restoring(status("Completed", 10))
    env = kube_env(cluster)
    prior = VeleroRestore().capture_prior_state(RESTORE, env)
    VeleroRestore().run(RESTORE, env)
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", {})  # Velero's
    before = VeleroRestore().verify_undone(RESTORE, prior, env)
    assert [(c.target, c.status) for c in before] == [
        ("namespace dr-test", "differs"),
        (f"restore {env.object_name('drill')}", "not verified"),  # there: may be going
    ]
    VeleroRestore().undo(RESTORE, prior, env)
    after = VeleroRestore().verify_undone(RESTORE, prior, env)
    assert [(c.target, c.status) for c in after] == [
        ("namespace dr-test", "equal"),
        (f"restore {env.object_name('drill')}", "equal"),
    ]


def test_a_live_restore_reads_back_production_holding_nothing_it_created() -> None:
    restore = kube_env(FakeCluster()).object_name("drill")
    cluster = production_after_a_restore(restore)
    env = kube_env(cluster, mode="live")
    prior: JsonValue = {"restore": restore, "existing_namespaces": ["production"]}
    namespace, leftover = VeleroRestore().verify_undone(LIVE_RESTORE, prior, env)
    assert namespace.status == "differs"
    assert namespace.detail.startswith(f"still holds 3 object(s) restore {restore} created")
    assert (leftover.status, leftover.detail) == (
        "not verified",  # Velero may still be finalizing it: waited as long as the step may
        f"restore {restore} still there after 1m00s: not yet gone",
    )
    VeleroRestore().undo(LIVE_RESTORE, prior, env)
    namespace, gone = VeleroRestore().verify_undone(LIVE_RESTORE, prior, env)
    assert namespace == ReadBack(
        "namespace production", "equal", f"there, holding nothing restore {restore} created"
    )
    assert gone.status == "equal"


def test_with_update_policy_objects_it_only_updated_are_not_counted() -> None:
    restore = kube_env(FakeCluster()).object_name("drill")
    cluster = production_after_a_restore(restore)
    cluster.kube_api.objects["production"] = [
        o for o in cluster.kube_api.objects["production"] if o[3] != AFTER
    ]  # what it created is gone; what it only updated stays, labelled
    params = LIVE_RESTORE.model_copy(update={"existing_resource_policy": "update"})
    prior: JsonValue = {"restore": restore, "existing_namespaces": ["production"]}
    namespace, _ = VeleroRestore().verify_undone(params, prior, kube_env(cluster, mode="live"))
    assert namespace.status == "equal"
    del cluster.velero_api.restores[restore]  # now it cannot be told what it created
    namespace, gone = VeleroRestore().verify_undone(params, prior, kube_env(cluster, mode="live"))
    assert namespace.status == "not verified"
    assert "cannot be told from what it updated" in namespace.detail
    assert gone.status == "equal"


def test_a_namespace_an_earlier_step_created_is_left_to_that_steps_read_back() -> None:
    restore = kube_env(FakeCluster()).object_name("drill")
    cluster = FakeCluster()
    cluster.kube_api.namespaces["dr-test"] = NamespaceInfo("dr-test", "Active", OURS)
    prior: JsonValue = {"restore": restore, "existing_namespaces": ["dr-test"]}
    checks = VeleroRestore().verify_undone(RESTORE, prior, kube_env(cluster))
    assert [c.target for c in checks] == [f"restore {restore}"]
