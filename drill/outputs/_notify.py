"""Posting a finished run's summary to each notification target, one after the other."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from drill import __version__
from drill.clock import Clock
from drill.outputs._delivery import Delivery, Log, Request, deliver
from drill.outputs._payloads import slack_payload, webhook_payload
from drill.outputs._targets import NotifyTarget
from drill.report import RunReport
from providers.protocols import HttpClient

NotifyOn = Literal["always", "failure"]


def should_notify(report: RunReport, notify_on: NotifyOn) -> bool:
    """``failure``: every outcome but ``passed`` (a missed target is worth a message too)."""
    return notify_on == "always" or report.outcome != "passed"


def send_notifications(
    report: RunReport,
    report_location: str | None,
    targets: Sequence[NotifyTarget],
    http: HttpClient,
    log: Log,
    *,
    clock: Clock,
) -> list[Delivery]:
    """Post to every target; log each result (a warning when it failed). Never raises."""
    deliveries = []
    for target in targets:
        delivery = deliver(target.kind, _request(target, report, report_location), http, clock)
        _log_delivery(log, delivery)
        deliveries.append(delivery)
    return deliveries


def _request(target: NotifyTarget, report: RunReport, report_location: str | None) -> Request:
    build = slack_payload if target.kind == "slack" else webhook_payload
    body = json.dumps(build(report, report_location), ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"drill/{__version__}",
    }
    return Request("POST", target.url.reveal(), headers, body)


def _log_delivery(log: Log, delivery: Delivery) -> None:
    if delivery.ok:
        log.info("notification sent", target=delivery.target, detail=delivery.detail)
    else:
        log.warning("notification failed", target=delivery.target, detail=delivery.detail)
