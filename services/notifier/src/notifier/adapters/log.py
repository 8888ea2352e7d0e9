"""The ``log`` channel: an alert as one structured log line (``alert``), for local runs and the demo.

It never fails: the log is the service's own stdout.
"""

from __future__ import annotations

import structlog

from notifier.model import Notification
from notifier.rules.ruleset import LOG

log = structlog.get_logger()

_LEVELS = {"info": "info", "warning": "warning", "critical": "error"}


class LogChannel:
    """Writes each notification as an ``alert`` log event, at a level following its severity."""

    @property
    def name(self) -> str:
        return LOG

    def send(self, notification: Notification) -> None:
        alert = notification.alert
        getattr(log, _LEVELS.get(alert.severity, "warning"))(
            "alert",
            rule=alert.rule,
            severity=alert.severity,
            subject=alert.subject,
            message=alert.message,
            key=alert.key,
            delivery_id=notification.delivery_id,
        )
