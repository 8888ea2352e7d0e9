"""Entrypoint: ``python -m notifier.main`` runs the notifier until SIGTERM.

A rules file or settings it cannot run are refused at start-up: every problem, with its line, goes to
stderr (and the log), and the process exits with status 2.
"""

from __future__ import annotations

import sys

import structlog
from pydantic import ValidationError
from pydantic_settings import SettingsError

from notifier.bootstrap import NotifierSettings, StartupError, build
from notifier.manifest import MANIFEST
from notifier.rulefile import RulesError
from shared.logging import configure_logging
from shared.runner import run_worker
from shared.summaries import validation_problems

log = structlog.get_logger()

EXIT_CONFIG = 2


def main() -> None:
    try:
        settings = NotifierSettings()  # queue URLs and the rest come from the environment
    except ValidationError as exc:  # each field and why, never its value (webhook secrets live here)
        problems = "\n".join(validation_problems(exc, limit=20))
        print(f"notifier: refusing to start: invalid settings:\n{problems}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    except SettingsError as exc:  # names the field and the source, not the value
        print(f"notifier: refusing to start: invalid settings: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    configure_logging(settings.service, settings.log_level)
    try:
        service = build(settings)
    except (RulesError, StartupError) as exc:
        log.error("startup_refused", problems=exc.lines() if isinstance(exc, RulesError) else [str(exc)])
        print(f"notifier: refusing to start:\n{exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    log.info("rules_loaded", source=service.notifier.rules.source, rules=len(service.notifier.rules.rules))
    service.watch.start()
    try:
        run_worker(
            settings,
            queue=service.queue,
            handler=service.notifier,
            api=service.api,
            consumes=MANIFEST.consumes,
        )
    finally:
        service.watch.stop()
        service.close()


if __name__ == "__main__":
    main()
