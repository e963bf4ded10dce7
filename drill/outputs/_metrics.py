"""A finished run's numbers, pushed to a Prometheus Pushgateway in the text exposition format.

The grouping key is ``job=drill, plan, mode`` and the push is a PUT, so each run replaces all
series of the previous run of that plan and mode: a step that no longer exists, or an RTO
that was not measured this time, leaves no stale value behind for alerts to read. A sandbox
run's key adds ``sandbox=true``: a rehearsal never replaces the series of the real drills.

Series (all gauges; ``drill_rpo_seconds``/``drill_rto_seconds`` are absent when not measured)::

    drill_success                      1 when the run passed (outcome "passed"), else 0
    drill_exit_code                    the process exit code (0, 1, 3, 4, 130)
    drill_rpo_seconds / _target_       measured RPO (from data when a probe read it), and its target
    drill_rpo_from_data_seconds        RPO from the recovered data (heartbeats), when measured
    drill_rpo_from_backup_seconds      RPO from backup metadata (backup start times), when measured
    drill_rto_seconds / _target_       measured RTO, and its target
    drill_rto_users_served_seconds     RTO as users see it (probes); absent when not measured
    drill_probe_success_ratio{probe}   share of a probe's attempts answered as expected
    drill_probe_downtime_seconds{probe}   client-observed time without a success
    drill_step_duration_seconds{step,phase}   steps that ran
    drill_rollback_seconds             how long the drill's rollback took (undo, read-back,
                                       rollback phase); absent when nothing was rolled back
    drill_rollback_verified            1 when every object read back as drill found it, else 0
    drill_last_run_timestamp_seconds   when the run finished (Unix time)
    drill_run_info{run_id,service,tier,outcome}   always 1; links an alert to the run

A gateway URL may carry basic-auth credentials (``https://user:pw@host``); they are sent as an
``Authorization`` header and masked in every message.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from drill.clock import Clock
from drill.errors import UsageError
from drill.outputs._delivery import Delivery, Log, Request, deliver
from drill.redact import redact_url
from providers.protocols import HttpClient

if TYPE_CHECKING:
    from drill.report import Objective, RunReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_RAN = frozenset({"passed", "failed", "timed_out", "interrupted"})

Labels = Mapping[str, str]


@dataclass(frozen=True)
class _Gauge:
    name: str
    help: str
    samples: list[tuple[Labels, float]]


def check_pushgateway_url(url: str) -> str:
    """``url`` if it can be a Pushgateway address; else UsageError (for the flag's value)."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise UsageError(f"--pushgateway {redact_url(url)}: not an http(s) URL")
    return url


def push_metrics(
    report: RunReport, gateway_url: str, http: HttpClient, log: Log, *, clock: Clock
) -> Delivery:
    """PUT the run's series under its grouping key; log the result. Never raises."""
    try:
        target = pushgateway_url(gateway_url, report)
    except ValueError:
        delivery = Delivery("pushgateway", False, "pushgateway: the gateway URL is not valid")
    else:
        label = f"pushgateway {redact_url(target)}"
        delivery = deliver("pushgateway", _request(target, gateway_url, report), http, clock, label)
    if delivery.ok:
        log.info("metrics pushed", target="pushgateway", detail=delivery.detail)
    else:
        log.warning("metrics push failed", target="pushgateway", detail=delivery.detail)
    return delivery


def _request(target: str, gateway_url: str, report: RunReport) -> Request:
    headers = {"Content-Type": CONTENT_TYPE, **_basic_auth(gateway_url)}
    body = metrics_text(report).encode("utf-8")
    return Request("PUT", target, headers, body, secrets=_credentials(gateway_url))


def _credentials(url: str) -> tuple[str, ...]:
    password = urlsplit(url).password
    return (password, unquote(password)) if password else ()


def _basic_auth(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.username is None:
        return {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}


def pushgateway_url(gateway_url: str, report: RunReport) -> str:
    """``<gateway>/metrics/job/drill/plan/<plan>/mode/<mode>`` (a sandbox run's ending
    ``/sandbox/true``), without credentials.

    Raises ValueError when ``gateway_url`` is not a URL.
    """
    parts = urlsplit(gateway_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    grouping = {"job": "drill", "plan": report.plan, "mode": report.mode}
    if report.sandbox:
        grouping["sandbox"] = "true"
    path = (
        parts.path.rstrip("/") + "/metrics" + "".join(_segment(k, v) for k, v in grouping.items())
    )
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, path, parts.query, ""))


def _segment(label: str, value: str) -> str:
    # The gateway splits the path on "/", so such values (and the empty one) go base64url.
    if value and "/" not in value:
        return f"/{label}/{quote(value, safe='')}"
    encoded = base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii")
    return f"/{label}@base64/{encoded or '='}"


# --- the exposition text ----------------------------------------------------------------------


def metrics_text(report: RunReport) -> str:
    """Every series of ``report`` with HELP and TYPE lines; metrics without samples left out."""
    return "".join(_render(gauge) for gauge in _gauges(report) if gauge.samples)


# In the order they are written; HELP text is what a person sees in the Prometheus UI.
_HELP = {
    "drill_success": "1 if every step passed and RPO and RTO were within target, else 0.",
    "drill_exit_code": "Exit code of the run (0 passed, 1 target missed, 3 step failed, "
    "4 rollback incomplete, 130 interrupted).",
    "drill_rpo_seconds": "Measured RPO: t0 minus the recovery point (from data when a probe "
    "read one, else from backup metadata).",
    "drill_rpo_from_data_seconds": "RPO from data: t0 minus the oldest heartbeat the recovered "
    "data holds.",
    "drill_rpo_from_backup_seconds": "RPO from backup metadata: t0 minus the oldest backup start "
    "time the recovery used.",
    "drill_rpo_target_seconds": "RPO target of the plan's tier.",
    "drill_rto_seconds": "Measured RTO: when the last verify step passed, minus t0.",
    "drill_rto_target_seconds": "RTO target of the plan's tier.",
    "drill_rto_users_served_seconds": "RTO as users see it: t0 to the first of the probe "
    "successes in a row that lasted to the end of verify.",
    "drill_probe_success_ratio": "Share of a probe's attempts answered as expected.",
    "drill_probe_downtime_seconds": "Time a probe saw no success, from the run's start to the "
    "end of verify.",
    "drill_step_duration_seconds": "Duration of each step that ran.",
    "drill_rollback_seconds": "How long the rollback took: undo, read-back and rollback phase.",
    "drill_rollback_verified": "1 if every object the run changed read back, after the "
    "rollback, as drill found it; 0 if one differs or could not be read back.",
    "drill_last_run_timestamp_seconds": "When the run finished (Unix time).",
    "drill_run_info": "Always 1: the run's id, service, tier and outcome.",
}


def _gauges(report: RunReport) -> list[_Gauge]:
    samples = {
        "drill_success": _one(1.0 if report.outcome == "passed" else 0.0),
        "drill_exit_code": _one(report.exit_code),
        "drill_rpo_seconds": _measured(report.rpo),
        "drill_rpo_from_data_seconds": _maybe(report.rpo.from_data_s),
        "drill_rpo_from_backup_seconds": _maybe(report.rpo.from_backup_s),
        "drill_rpo_target_seconds": _one(report.rpo.target_s),
        "drill_rto_seconds": _measured(report.rto),
        "drill_rto_target_seconds": _one(report.rto.target_s),
        "drill_rto_users_served_seconds": _optional(report.rto.users_served_s),
        "drill_probe_success_ratio": _per_probe(report, "success_ratio"),
        "drill_probe_downtime_seconds": _per_probe(report, "downtime_s"),
        "drill_step_duration_seconds": _step_samples(report),
        "drill_rollback_seconds": _one(report.rollback.duration_s) if report.rollback else [],
        "drill_rollback_verified": _rollback_verified(report),
        "drill_last_run_timestamp_seconds": _one(report.finished_at.timestamp()),
        "drill_run_info": [(_run_info(report), 1.0)],
    }
    return [_Gauge(name, help_text, samples[name]) for name, help_text in _HELP.items()]


def _one(value: float) -> list[tuple[Labels, float]]:
    return [({}, float(value))]


def _run_info(report: RunReport) -> Labels:
    return {
        "run_id": report.run_id,
        "service": report.service,
        "tier": report.tier,
        "outcome": report.outcome,
    }


def _measured(objective: Objective) -> list[tuple[Labels, float]]:
    return _maybe(objective.measured_s)


def _maybe(value: float | None) -> list[tuple[Labels, float]]:
    return [] if value is None else [({}, value)]


def _rollback_verified(report: RunReport) -> list[tuple[Labels, float]]:
    if report.rollback is None:
        return []
    return _one(1.0 if report.rollback.verified is True else 0.0)


def _optional(value: float | None) -> list[tuple[Labels, float]]:
    return [] if value is None else [({}, value)]


def _per_probe(report: RunReport, figure: str) -> list[tuple[Labels, float]]:
    values = ((probe.name, getattr(probe, figure)) for probe in report.probes)
    return [({"probe": name}, float(value)) for name, value in values if value is not None]


def _step_samples(report: RunReport) -> list[tuple[Labels, float]]:
    # One sample per (step, phase): the gateway rejects a push that repeats a series.
    samples: dict[tuple[str, str], float] = {}
    for step in report.steps:
        if step.status in _RAN and step.duration_s is not None:
            samples.setdefault((step.id, step.phase), step.duration_s)
    return [({"step": step, "phase": phase}, value) for (step, phase), value in samples.items()]


def _render(gauge: _Gauge) -> str:
    lines = [
        f"# HELP {gauge.name} {_escape_help(gauge.help)}",
        f"# TYPE {gauge.name} gauge",
        *(f"{gauge.name}{_labels(labels)} {_number(value)}" for labels, value in gauge.samples),
    ]
    return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    pairs = ",".join(f'{name}="{_escape_label(value)}"' for name, value in labels.items())
    return "{" + pairs + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)
