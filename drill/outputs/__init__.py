"""What a finished run sends out: notifications (Slack, a JSON webhook) and Pushgateway metrics.

Everything here runs after the report is written and only reads it. A delivery that fails is
returned as a ``Delivery`` with ``ok=False`` and logged; nothing here raises for a remote
failure, so a notification can never change a run's exit code. Webhook URLs are secrets: they
are held in ``Secret`` and never appear in a ``Delivery``, a log event or an exception message.

Must not: import ``drill.cli``, the executor, the plan or step layers, or an SDK; read the
clock or the environment on its own (both are passed in); write anything but HTTP requests.
"""

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
