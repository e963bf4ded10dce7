"""The ELBv2 adapter through botocore against moto (the AWS sandbox) over HTTP.

Whatever "someone else" does to a load balancer goes through a plain boto3 client; what it
really holds is read from the sandbox's ground truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from drill.clock import SystemClock
from drill.errors import Conflict, NotFound, PermanentError, TransientError
from drill.sandbox.aws import AwsSandbox
from providers.aws import Elbv2Backends
from providers.cloud import SANDBOX_AWS_KEY, CloudSettings
from providers.protocols import BackendRef, BackendTarget

REGION = "us-west-2"
GROUP = "api-targets"
PRIMARY = [("10.0.0.10", 8080), ("10.0.0.11", 8080)]
LISTENER = "api-alb:443"
EAST, WEST = "api-us-east-1", "api-us-west-2"


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsSandbox]:
    with AwsSandbox(SystemClock(), region=REGION) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def api(aws: AwsSandbox) -> Elbv2Backends:
    """drill's adapter; one for the module, as drill keeps one per run (sessions are slow)."""
    return Elbv2Backends(CloudSettings(aws_endpoint=aws.endpoint, anonymous=True))


@pytest.fixture(scope="module")
def elbv2(aws: AwsSandbox) -> Any:
    """Someone else's client."""
    return boto3.client(
        "elbv2",
        endpoint_url=aws.endpoint,
        region_name=REGION,
        aws_access_key_id=SANDBOX_AWS_KEY,
        aws_secret_access_key=SANDBOX_AWS_KEY,
    )


@pytest.fixture
def group(aws: AwsSandbox, elbv2: Any) -> BackendRef:
    """A target group serving from the primary targets only."""
    arn = aws.create_target_group(GROUP, 8080, PRIMARY)
    extra = [{"Id": i, "Port": p} for i, p in aws.targets(GROUP) if (i, p) not in PRIMARY]
    if extra:
        elbv2.deregister_targets(TargetGroupArn=arn, Targets=extra)
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": p} for i, p in PRIMARY])
    return BackendRef("aws", "target_group", GROUP, region=REGION)


@pytest.fixture
def listener(aws: AwsSandbox, elbv2: Any) -> BackendRef:
    """The ALB listener sending everything to the east group, sticky for 5 minutes."""
    try:
        arn = aws.listener_arn(LISTENER)
    except KeyError:
        aws.create_load_balancer_with_listener(
            "api-alb", 443, {EAST: 100, WEST: 0}, stickiness_s=300
        )
        arn = aws.listener_arn(LISTENER)
    elbv2.modify_listener(ListenerArn=arn, DefaultActions=[forward(aws, {EAST: 100, WEST: 0})])
    return BackendRef("aws", "listener", LISTENER, region=REGION)


def forward(aws: AwsSandbox, weights: dict[str, int], sticky_s: int = 300) -> dict[str, Any]:
    groups = [{"TargetGroupArn": aws.target_group_arn(n), "Weight": w} for n, w in weights.items()]
    stickiness = {"Enabled": True, "DurationSeconds": sticky_s}
    return {
        "Type": "forward",
        "ForwardConfig": {"TargetGroups": groups, "TargetGroupStickinessConfig": stickiness},
    }


def targets(pairs: list[tuple[str, int]]) -> list[BackendTarget]:
    return [BackendTarget(target, 1.0, port) for target, port in pairs]


# --- target groups ----------------------------------------------------------------------------


def test_a_target_groups_backends_are_its_registered_targets(
    api: Elbv2Backends, group: BackendRef, aws: AwsSandbox
) -> None:
    state = api.get_backends(group)
    assert state.same_targets(targets(PRIMARY))
    by_arn = BackendRef("aws", "target_group", aws.target_group_arn(GROUP))  # region from ARN
    assert api.get_backends(by_arn).same_targets(targets(PRIMARY))


def test_switch_registers_the_new_and_deregisters_the_old(
    api: Elbv2Backends, group: BackendRef, aws: AwsSandbox
) -> None:
    before = api.get_backends(group)
    wanted = [BackendTarget("10.1.0.10", 1.0, 8080), BackendTarget("10.0.0.11", 1.0, None)]
    change = api.set_backends(group, before.targets, wanted)
    assert (change.done, change.status) == (True, "applied")
    assert api.change_status(group, change.id).done
    assert aws.targets(GROUP) == [("10.0.0.11", 8080), ("10.1.0.10", 8080)]
    after = api.get_backends(group)
    api.set_backends(group, after.targets, before.targets)
    assert aws.targets(GROUP) == sorted(PRIMARY)


def test_targets_changed_since_read_are_a_conflict_and_nothing_applies(
    api: Elbv2Backends, group: BackendRef, aws: AwsSandbox, elbv2: Any
) -> None:
    before = api.get_backends(group)
    arn = aws.target_group_arn(GROUP)
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.9.9.9", "Port": 8080}])
    with pytest.raises(Conflict, match=r"changed since drill read them.*nothing applied"):
        api.set_backends(group, before.targets, targets([("10.1.0.10", 8080)]))
    assert aws.targets(GROUP) == sorted([*PRIMARY, ("10.9.9.9", 8080)])


def test_a_weight_on_a_target_is_refused(api: Elbv2Backends, group: BackendRef) -> None:
    before = api.get_backends(group)
    with pytest.raises(PermanentError, match=r"carry no weight.*switch the listener"):
        api.set_backends(group, before.targets, [BackendTarget("10.0.0.10", 0.0, 8080)])


def test_target_health_words(api: Elbv2Backends, group: BackendRef, elbv2: Any) -> None:
    arn = api.get_backends(group)  # registered targets are healthy in moto
    assert arn.targets
    health = api.target_health(group, ["10.0.0.10", "10.0.0.11"])
    assert health == {"10.0.0.10": "healthy", "10.0.0.11": "healthy"}
    api.set_backends(group, arn.targets, targets([("10.0.0.10", 8080)]))
    health = api.target_health(group, ["10.0.0.11"])
    assert health["10.0.0.11"].startswith("unused (Target.NotRegistered")


def test_a_missing_target_group_is_not_found(api: Elbv2Backends) -> None:
    ref = BackendRef("aws", "target_group", "no-such-group", region=REGION)
    with pytest.raises(NotFound, match="find target group no-such-group"):
        api.get_backends(ref)


# --- listeners --------------------------------------------------------------------------------


def test_a_listeners_backends_are_its_forward_weights(
    api: Elbv2Backends, listener: BackendRef, aws: AwsSandbox
) -> None:
    expected = [BackendTarget(EAST, 100.0), BackendTarget(WEST, 0.0)]
    assert api.get_backends(listener).same_targets(expected)
    by_arn = BackendRef("aws", "listener", aws.listener_arn(LISTENER))
    assert api.get_backends(by_arn).same_targets(expected)


def test_weights_move_and_are_restored_exactly(
    api: Elbv2Backends, listener: BackendRef, aws: AwsSandbox
) -> None:
    original = aws.listener_actions(LISTENER)
    before = api.get_backends(listener)
    west_by_arn = aws.target_group_arn(WEST)
    change = api.set_backends(
        listener, before.targets, [BackendTarget(west_by_arn, 100.0), BackendTarget(EAST, 0.0)]
    )
    assert (change.done, change.status) == (True, "applied")
    assert aws.listener_weights(LISTENER) == {WEST: 100, EAST: 0}
    moved = aws.listener_actions(LISTENER)[0]["ForwardConfig"]
    assert moved["TargetGroupStickinessConfig"] == {"Enabled": True, "DurationSeconds": 300}
    during = api.get_backends(listener)
    assert during.same_targets([BackendTarget(WEST, 100.0), BackendTarget(EAST, 0.0)])
    api.set_backends(listener, during.targets, before.targets)
    assert aws.listener_actions(LISTENER) == original


def test_current_named_by_arn_matches_live_named_by_name(
    api: Elbv2Backends, listener: BackendRef, aws: AwsSandbox
) -> None:
    current = [BackendTarget(aws.target_group_arn(EAST), 100.0), BackendTarget(WEST, 0.0)]
    api.set_backends(listener, current, [BackendTarget(EAST, 50.0), BackendTarget(WEST, 50.0)])
    assert aws.listener_weights(LISTENER) == {EAST: 50, WEST: 50}


def test_weights_changed_since_read_are_a_conflict_and_nothing_applies(
    api: Elbv2Backends, listener: BackendRef, aws: AwsSandbox, elbv2: Any
) -> None:
    before = api.get_backends(listener)
    arn = aws.listener_arn(LISTENER)
    elbv2.modify_listener(ListenerArn=arn, DefaultActions=[forward(aws, {EAST: 90, WEST: 10})])
    with pytest.raises(Conflict, match=r"drill read api-us-east-1@100.*now api-us-east-1@90"):
        api.set_backends(listener, before.targets, [BackendTarget(WEST, 100.0)])
    assert aws.listener_weights(LISTENER) == {EAST: 90, WEST: 10}


def test_listener_health_is_healthy_when_any_target_is(
    api: Elbv2Backends, listener: BackendRef, aws: AwsSandbox
) -> None:
    aws.create_target_group("api-empty", 80)
    health = api.target_health(listener, [EAST, aws.target_group_arn(WEST), "api-empty"])
    assert health == {
        EAST: "healthy",
        aws.target_group_arn(WEST): "healthy",
        "api-empty": "no registered targets",
    }


def test_a_weight_must_be_whole_and_at_most_999(api: Elbv2Backends, listener: BackendRef) -> None:
    before = api.get_backends(listener)
    for weight in (0.5, 1000.0):
        with pytest.raises(PermanentError, match="whole number from 0 to 999"):
            api.set_backends(listener, before.targets, [BackendTarget(WEST, weight)])


def test_an_unknown_target_group_in_the_new_set_is_not_found(
    api: Elbv2Backends, listener: BackendRef, aws: AwsSandbox
) -> None:
    before = api.get_backends(listener)
    with pytest.raises(NotFound, match="find target groups api-nowhere"):
        api.set_backends(listener, before.targets, [BackendTarget("api-nowhere", 100.0)])
    assert aws.listener_weights(LISTENER) == {EAST: 100, WEST: 0}


def test_a_listener_that_does_not_forward_is_refused(
    api: Elbv2Backends, aws: AwsSandbox, elbv2: Any
) -> None:
    arn = aws.create_load_balancer_with_listener("static-alb", 80, {"static-site": 1})
    fixed = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}
    elbv2.modify_listener(ListenerArn=arn, DefaultActions=[fixed])
    ref = BackendRef("aws", "listener", "static-alb:80", region=REGION)
    with pytest.raises(PermanentError, match=r"not a forward \(fixed-response\)"):
        api.get_backends(ref)


def test_missing_listeners_and_load_balancers_are_not_found(
    api: Elbv2Backends, listener: BackendRef
) -> None:
    with pytest.raises(
        NotFound, match=r"api-alb has no listener on port 8443 \(its listeners: 443\)"
    ):
        api.get_backends(BackendRef("aws", "listener", "api-alb:8443", region=REGION))
    with pytest.raises(NotFound, match="find listener nowhere-alb:443"):
        api.get_backends(BackendRef("aws", "listener", "nowhere-alb:443", region=REGION))
    with pytest.raises(PermanentError, match="load-balancer-name:port"):
        api.get_backends(BackendRef("aws", "listener", "api-alb", region=REGION))


def test_a_refused_modify_names_the_permission_and_throttling_is_transient(
    api: Elbv2Backends, listener: BackendRef, aws: AwsSandbox
) -> None:
    before = api.get_backends(listener)
    denied = (
        "User: arn:aws:sts::123456789012:assumed-role/drill/run is not authorized to perform: "
        "elasticloadbalancing:ModifyListener on resource: " + aws.listener_arn(LISTENER)
    )
    aws.faults.fail(1, status=403, code="AccessDenied", message=denied, operation="ModifyListener")
    with pytest.raises(PermanentError, match=r"permission denied: .*:ModifyListener on resource"):
        api.set_backends(listener, before.targets, [BackendTarget(WEST, 100.0)])
    aws.faults.fail(2, status=400, code="Throttling", message="Rate exceeded")
    with pytest.raises(TransientError, match="Throttling: Rate exceeded"):
        api.get_backends(listener)
    aws.faults.clear()
    assert aws.listener_weights(LISTENER) == {EAST: 100, WEST: 0}


def test_a_gcp_backend_service_is_not_an_elbv2_backend(api: Elbv2Backends) -> None:
    with pytest.raises(PermanentError, match="target groups and listeners, not backend_service"):
        api.get_backends(BackendRef("aws", "backend_service", "api-backend", region=REGION))
