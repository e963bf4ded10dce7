"""ELBv2 (Application and Network Load Balancer) backends for ``backend.switch``, via botocore.

Two kinds of backend set:

- a target group (by name or ARN): its registered targets, each ``BackendTarget(id, port)``;
  a switch registers the targets only in the new set first, then deregisters the ones only in
  the live set. Targets already draining are on their way out and are not counted.
- a listener (by ARN or ``load-balancer-name:port``): its default forward action's target
  groups, each ``BackendTarget(target group name, capacity=weight)``. Target groups are
  reported by name (unique within an account and region, and how plans name them); a new set
  may name them by name or ARN. A switch rewrites only the weights of that forward action;
  stickiness and every other action and listener setting are sent back as they were.

Both apply at once (ELBv2 has no change to wait for), so the change is done when returned;
draining of deregistered targets is not waited for. A change first re-reads the live set and
changes nothing unless it is exactly what drill expects.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from drill.errors import Conflict, NotFound, PermanentError
from providers._aws import AwsClients, translated
from providers.cloud import CloudSettings
from providers.protocols import BackendRef, BackendState, BackendTarget, PendingChange

APPLIED = "applied"
MAX_WEIGHT = 999
_DRAINING = "draining"


class Elbv2Backends:
    def __init__(self, settings: CloudSettings, *, clients: AwsClients | None = None) -> None:
        self._clients = clients or AwsClients(settings)

    def _elbv2(self, ref: BackendRef, what: str) -> Any:
        return self._clients.client("elbv2", _region(ref), what)

    def get_backends(self, ref: BackendRef) -> BackendState:
        _require_elbv2(ref)
        if ref.kind == "target_group":
            return BackendState(ref, self._registered(ref, self._target_group(ref)))
        _, action = _forward_action(ref, self._listener(ref))
        return BackendState(ref, _weights(action))

    def set_backends(
        self, ref: BackendRef, current: Sequence[BackendTarget], new: Sequence[BackendTarget]
    ) -> PendingChange:
        _require_elbv2(ref)
        if ref.kind == "target_group":
            return self._set_targets(ref, current, new)
        return self._set_weights(ref, current, new)

    def change_status(self, ref: BackendRef, change_id: str) -> PendingChange:
        return PendingChange(change_id, done=True, status=APPLIED)

    def target_health(self, ref: BackendRef, targets: Sequence[str]) -> Mapping[str, str]:
        _require_elbv2(ref)
        if ref.kind == "target_group":
            return self._targets_health(ref, targets)
        arns = self._group_arns(ref, targets)
        return {target: _group_health(self._health(ref, arns[target], ())) for target in targets}

    # --- target groups --------------------------------------------------------------------

    def _target_group(self, ref: BackendRef, name: str | None = None) -> Mapping[str, Any]:
        name = name or ref.name
        what = f"ELBv2: find target group {name}"
        query = {"TargetGroupArns": [name]} if _is_arn(name) else {"Names": [name]}
        elbv2 = self._elbv2(ref, what)
        with translated(what):
            found: list[Mapping[str, Any]] = elbv2.describe_target_groups(**query)["TargetGroups"]
        return found[0]

    def _registered(self, ref: BackendRef, group: Mapping[str, Any]) -> tuple[BackendTarget, ...]:
        described = self._health(ref, group["TargetGroupArn"], ())
        return tuple(_target(d) for d in described if d["TargetHealth"]["State"] != _DRAINING)

    def _health(
        self, ref: BackendRef, group_arn: str, targets: Sequence[str]
    ) -> list[Mapping[str, Any]]:
        what = f"ELBv2: read target health of {_group_name(group_arn)}"
        query: dict[str, Any] = {"TargetGroupArn": group_arn}
        if targets:
            query["Targets"] = [{"Id": target} for target in targets]
        elbv2 = self._elbv2(ref, what)
        with translated(what):
            described: list[Mapping[str, Any]] = elbv2.describe_target_health(**query)[
                "TargetHealthDescriptions"
            ]
        return described

    def _set_targets(
        self, ref: BackendRef, current: Sequence[BackendTarget], new: Sequence[BackendTarget]
    ) -> PendingChange:
        what = f"ELBv2: set targets of target group {ref.name}"
        _require_unit_capacity(what, new)
        group = self._target_group(ref)
        live = self._registered(ref, group)
        _require_current(what, live, current)
        default_port = group.get("Port")
        wanted = {(t.target, t.port or default_port): t for t in new}
        serving = {(t.target, t.port): t for t in live}
        adding = [t for key, t in wanted.items() if key not in serving]
        removing = [t for key, t in serving.items() if key not in wanted]
        elbv2 = self._elbv2(ref, what)
        with translated(what):
            # Register first: the group never serves from fewer targets than both sets share.
            if adding:
                elbv2.register_targets(
                    TargetGroupArn=group["TargetGroupArn"], Targets=[_param(t) for t in adding]
                )
            if removing:
                elbv2.deregister_targets(
                    TargetGroupArn=group["TargetGroupArn"], Targets=[_param(t) for t in removing]
                )
        return PendingChange(f"elbv2-targets+{len(adding)}-{len(removing)}", True, APPLIED)

    def _targets_health(self, ref: BackendRef, targets: Sequence[str]) -> Mapping[str, str]:
        group = self._target_group(ref)
        words: dict[str, str] = {}
        for described in self._health(ref, group["TargetGroupArn"], targets):
            target_id = str(described["Target"]["Id"])
            word = _health_word(described["TargetHealth"])
            # A target registered on several ports is healthy only if it is on every one.
            if words.get(target_id, "healthy") == "healthy":
                words[target_id] = word
        return words

    # --- listeners ------------------------------------------------------------------------

    def _listener(self, ref: BackendRef) -> Mapping[str, Any]:
        if _is_arn(ref.name):
            what = f"ELBv2: read listener {ref.name}"
            elbv2 = self._elbv2(ref, what)
            with translated(what):
                listener: Mapping[str, Any] = elbv2.describe_listeners(ListenerArns=[ref.name])[
                    "Listeners"
                ][0]
            return listener
        balancer, port = _balancer_and_port(ref.name)
        return self._listener_on_port(ref, balancer, port)

    def _listener_on_port(self, ref: BackendRef, balancer: str, port: int) -> Mapping[str, Any]:
        what = f"ELBv2: find listener {balancer}:{port}"
        elbv2 = self._elbv2(ref, what)
        with translated(what):
            found = elbv2.describe_load_balancers(Names=[balancer])["LoadBalancers"][0]
            pages = elbv2.get_paginator("describe_listeners").paginate(
                LoadBalancerArn=found["LoadBalancerArn"]
            )
            listeners = [listener for page in pages for listener in page["Listeners"]]
        for listener in listeners:
            if listener["Port"] == port:
                return dict(listener)
        ports = ", ".join(str(p) for p in sorted(int(item["Port"]) for item in listeners))
        raise NotFound(
            f"{what}: load balancer {balancer} has no listener on port {port} "
            f"(its listeners: {ports or 'none'})"
        )

    def _set_weights(
        self, ref: BackendRef, current: Sequence[BackendTarget], new: Sequence[BackendTarget]
    ) -> PendingChange:
        what = f"ELBv2: set forward weights of listener {ref.name}"
        weights = [_weight(what, t) for t in new]
        listener = self._listener(ref)
        index, action = _forward_action(ref, listener)
        _require_current(what, _weights(action), [_by_name(t) for t in current])
        arns = self._group_arns(ref, [t.target for t in new])
        forward = _with_weights(
            action, [(arns[t.target], w) for t, w in zip(new, weights, strict=True)]
        )
        actions = [_resendable(a) for a in listener["DefaultActions"]]
        actions[index] = forward
        elbv2 = self._elbv2(ref, what)
        with translated(what):
            elbv2.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=actions)
        return PendingChange(f"elbv2-listener-weights-{len(new)}", True, APPLIED)

    def _group_arns(self, ref: BackendRef, targets: Sequence[str]) -> dict[str, str]:
        """Each target group, named by name or ARN, with its ARN."""
        arns = {target: target for target in targets if _is_arn(target)}
        names = [target for target in targets if not _is_arn(target)]
        if names:
            what = f"ELBv2: find target groups {', '.join(names)}"
            elbv2 = self._elbv2(ref, what)
            with translated(what):
                found = elbv2.describe_target_groups(Names=names)["TargetGroups"]
            arns.update({str(g["TargetGroupName"]): str(g["TargetGroupArn"]) for g in found})
            missing = [name for name in names if name not in arns]
            if missing:
                raise NotFound(f"{what}: not found: {', '.join(missing)}")
        return arns


# --- reading what AWS returned ------------------------------------------------------------


def _target(described: Mapping[str, Any]) -> BackendTarget:
    target = described["Target"]
    zone = target.get("AvailabilityZone")
    return BackendTarget(
        target=str(target["Id"]),
        capacity=1.0,
        port=int(target["Port"]) if target.get("Port") is not None else None,
        # Kept so undo registers an IP target outside the VPC in the same zone ("all").
        settings=(("availability_zone", str(zone)),) if zone else (),
    )


def _forward_action(ref: BackendRef, listener: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    actions = listener.get("DefaultActions") or []
    for index, action in enumerate(actions):
        if action.get("Type") == "forward":
            return index, dict(action)
    kinds = ", ".join(str(a.get("Type")) for a in actions) or "none"
    raise PermanentError(
        f"ELBv2: listener {ref.name}: its default action is not a forward ({kinds}); "
        "backend.switch only moves forward weights"
    )


def _forwarded(action: Mapping[str, Any]) -> list[tuple[str, int]]:
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
    if groups:
        return [(str(g["TargetGroupArn"]), int(g.get("Weight", 1))) for g in groups]
    return [(str(action["TargetGroupArn"]), 1)] if action.get("TargetGroupArn") else []


def _weights(action: Mapping[str, Any]) -> tuple[BackendTarget, ...]:
    return tuple(
        BackendTarget(target=_group_name(arn), capacity=float(weight))
        for arn, weight in _forwarded(action)
    )


def _health_word(health: Mapping[str, Any]) -> str:
    state = str(health.get("State", "unknown"))
    reason, description = health.get("Reason"), health.get("Description")
    if state == "healthy" or not reason:
        return state
    return f"{state} ({reason}: {description})" if description else f"{state} ({reason})"


def _group_health(described: Sequence[Mapping[str, Any]]) -> str:
    """A target group serves if any of its targets is healthy."""
    if not described:
        return "no registered targets"
    words = sorted({_health_word(d["TargetHealth"]) for d in described})
    return "healthy" if "healthy" in words else f"no healthy target: {'; '.join(words)}"


# --- building what AWS is sent -------------------------------------------------------------


def _param(target: BackendTarget) -> dict[str, Any]:
    param: dict[str, Any] = {"Id": target.target}
    if target.port is not None:
        param["Port"] = target.port
    zone = dict(target.settings).get("availability_zone")
    if zone:
        param["AvailabilityZone"] = zone
    return param


def _with_weights(action: Mapping[str, Any], weights: list[tuple[str, int]]) -> dict[str, Any]:
    """The forward action with new target groups and weights; stickiness and the rest kept."""
    forward = copy.deepcopy(dict(action))
    forward.pop("TargetGroupArn", None)  # a single-group shorthand; ForwardConfig says it all
    config = dict(forward.get("ForwardConfig") or {})
    config["TargetGroups"] = [{"TargetGroupArn": arn, "Weight": w} for arn, w in weights]
    forward["ForwardConfig"] = config
    return forward


def _resendable(action: Mapping[str, Any]) -> dict[str, Any]:
    """An action as described, fit to send back: AWS never returns an OIDC client secret."""
    sent = copy.deepcopy(dict(action))
    oidc = sent.get("AuthenticateOidcConfig")
    if isinstance(oidc, dict) and "ClientSecret" not in oidc:
        oidc["UseExistingClientSecret"] = True
    return sent


# --- checks and names ---------------------------------------------------------------------


def _require_elbv2(ref: BackendRef) -> None:
    if ref.provider != "aws" or ref.kind not in ("target_group", "listener"):
        raise PermanentError(
            f"ELBv2: {ref.name}: ELBv2 switches target groups and listeners, not {ref.kind}"
        )


def _require_current(
    what: str, live: Sequence[BackendTarget], current: Sequence[BackendTarget]
) -> None:
    if sorted(t.key() for t in live) == sorted(t.key() for t in current):
        return
    raise Conflict(
        f"{what}: the backends changed since drill read them (drill read {_show(current)}, "
        f"now {_show(live)}); nothing applied"
    )


def _require_unit_capacity(what: str, new: Sequence[BackendTarget]) -> None:
    weighted = [t.target for t in new if t.capacity != 1.0]
    if weighted:
        raise PermanentError(
            f"{what}: targets of a target group carry no weight (capacity must be 1): "
            f"{', '.join(weighted)}; to weigh target groups, switch the listener"
        )


def _weight(what: str, target: BackendTarget) -> int:
    if not (float(target.capacity).is_integer() and 0 <= target.capacity <= MAX_WEIGHT):
        raise PermanentError(
            f"{what}: weight of {target.target} must be a whole number from 0 to {MAX_WEIGHT}, "
            f"not {target.capacity:g}"
        )
    return int(target.capacity)


def _by_name(target: BackendTarget) -> BackendTarget:
    if not _is_arn(target.target):
        return target
    return BackendTarget(_group_name(target.target), target.capacity, target.port, target.settings)


def _show(targets: Sequence[BackendTarget]) -> str:
    shown = [f"{t.target}{f':{t.port}' if t.port else ''}@{t.capacity:g}" for t in targets]
    return ", ".join(sorted(shown)) or "(none)"


def _balancer_and_port(name: str) -> tuple[str, int]:
    balancer, _, port = name.rpartition(":")
    if not balancer or not port.isdigit():
        raise PermanentError(
            f"ELBv2: listener {name!r}: name a listener ARN or load-balancer-name:port"
        )
    return balancer, int(port)


def _group_name(arn: str) -> str:
    """ "arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID" -> NAME."""
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) >= 2 else arn


def _is_arn(name: str) -> bool:
    return name.startswith("arn:")


def _region(ref: BackendRef) -> str | None:
    """The plan's region, else the one in an ARN, else (None) the credential chain's."""
    if ref.region:
        return ref.region
    parts = ref.name.split(":")
    return parts[3] if _is_arn(ref.name) and len(parts) > 3 and parts[3] else None
