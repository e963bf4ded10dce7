"""What a finished run sends out: notifications (Slack, a JSON webhook) and Pushgateway metrics.

Everything here runs after the report is written and only reads it. A delivery that fails is
returned as a ``Delivery`` with ``ok=False`` and logged; nothing here raises for a remote
failure, so a notification can never change a run's exit code. Webhook URLs are secrets: they
are held in ``Secret`` and never appear in a ``Delivery``, a log event or an exception message.

Must not: import ``drill.cli``, the executor, the plan or step layers, or an SDK; read the
clock or the environment on its own (both are passed in); write anything but HTTP requests.

Each name loads with its module when first used.
"""

from typing import TYPE_CHECKING

from drill.lazy import lazy_exports

if TYPE_CHECKING:
    from drill.outputs._delivery import Delivery, TargetKind
    from drill.outputs._metrics import (
        check_pushgateway_url,
        metrics_text,
        push_metrics,
        pushgateway_url,
    )
    from drill.outputs._notify import NotifyOn, send_notifications, should_notify
    from drill.outputs._payloads import (
        WEBHOOK_SCHEMA,
        WebhookPayload,
        slack_payload,
        webhook_payload,
    )
    from drill.outputs._targets import (
        SLACK_URL_ENV,
        WEBHOOK_URL_ENV,
        NotifyTarget,
        Secret,
        notify_targets,
    )

__all__ = [
    "SLACK_URL_ENV",
    "WEBHOOK_SCHEMA",
    "WEBHOOK_URL_ENV",
    "Delivery",
    "NotifyOn",
    "NotifyTarget",
    "Secret",
    "TargetKind",
    "WebhookPayload",
    "check_pushgateway_url",
    "metrics_text",
    "notify_targets",
    "push_metrics",
    "pushgateway_url",
    "send_notifications",
    "should_notify",
    "slack_payload",
    "webhook_payload",
]

# Each name loads with its module when first used: `drill run` checks its destinations before
# it starts and needs the payloads and the report models only once the run is over.
if not TYPE_CHECKING:  # type checkers see the imports above, and flag unknown names
    __getattr__ = lazy_exports(
        __name__,
        {
            "Delivery": "_delivery",
            "NotifyOn": "_notify",
            "NotifyTarget": "_targets",
            "SLACK_URL_ENV": "_targets",
            "Secret": "_targets",
            "TargetKind": "_delivery",
            "WEBHOOK_SCHEMA": "_payloads",
            "WEBHOOK_URL_ENV": "_targets",
            "WebhookPayload": "_payloads",
            "check_pushgateway_url": "_metrics",
            "metrics_text": "_metrics",
            "notify_targets": "_targets",
            "push_metrics": "_metrics",
            "pushgateway_url": "_metrics",
            "send_notifications": "_notify",
            "should_notify": "_notify",
            "slack_payload": "_payloads",
            "webhook_payload": "_payloads",
        },
    )
