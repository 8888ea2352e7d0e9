"""Entrypoint: ``python -m graph_writer.main`` runs graph_writer's worker and read API until SIGTERM."""

from __future__ import annotations

from graph_writer.bootstrap import GraphWriterSettings, build
from graph_writer.manifest import MANIFEST
from shared.logging import configure_logging
from shared.runner import run_worker


def main() -> None:
    settings = GraphWriterSettings()  # type: ignore[call-arg]  # queue URLs come from the environment
    configure_logging(settings.service, settings.log_level)  # the store's start-up logs are JSON lines too
    service = build(settings)
    try:
        run_worker(
            settings, queue=service.queue, handler=service.writer, api=service.api, consumes=MANIFEST.consumes
        )
    finally:
        service.close()


if __name__ == "__main__":
    main()
