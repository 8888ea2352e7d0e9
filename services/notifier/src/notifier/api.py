"""The notifier's read API, served beside ``/healthz``: the notification log and the rules in force.

- ``GET /v1/alerts?limit=50``: the latest notifications, newest first, with their status (``sent``,
  ``suppressed``, ``failed``, ``abandoned``, ``pending``) and the channels each reached.
- ``GET /v1/rules``: each rule's name, kind, type, versions, severity, cooldown and channels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from fastapi import FastAPI, HTTPException, Query

from notifier.domain import iso
from notifier.ports import NotificationStateStore
from notifier.rules.ruleset import AbsenceRule, RateRule, RuleSet
from shared.errors import RetryableError


def build_api(
    *, store: NotificationStateStore, rules: RuleSet, clock: Callable[[], float] = time.time
) -> FastAPI:
    """The FastAPI app over ``store`` and ``rules``."""
    app = FastAPI(title="Tributary notifier", version="1")

    @app.get("/v1/alerts")
    def alerts(limit: int = Query(default=50, ge=1, le=1000)) -> dict[str, Any]:
        try:
            records = store.recent(limit=limit, now=clock())
        except RetryableError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from exc
        return {
            "alerts": [
                {
                    "rule": r.rule,
                    "key": r.key,
                    "subject": r.subject,
                    "severity": r.severity,
                    "message": r.message,
                    "status": r.status,
                    "channels": list(r.channels),
                    "sent": sorted(r.sent),
                    "attempts": r.attempts,
                    "error": r.error,
                    "created_at": iso(r.created_at),
                    "updated_at": iso(r.updated_at),
                }
                for r in records
            ]
        }

    @app.get("/v1/rules")
    def list_rules() -> dict[str, Any]:
        return {
            "source": PurePath(rules.source).name,  # the file's name: no server paths in answers
            "rules": [
                {
                    "name": r.name,
                    "kind": r.kind,
                    "type": r.match.type,
                    "versions": list(r.match.versions),
                    "severity": r.severity,
                    "cooldown_s": r.cooldown_s,
                    "channels": list(r.channels),
                    **({"after_s": r.after_s} if isinstance(r, AbsenceRule) else {}),
                    **({"count": r.count, "within_s": r.within_s} if isinstance(r, RateRule) else {}),
                }
                for r in rules.rules
            ],
        }

    return app
