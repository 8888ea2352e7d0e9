"""Entrypoint: ``python -m ingest.main`` serves the API with uvicorn on ``TRIBUTARY_HTTP_HOST:PORT``."""

from __future__ import annotations

import uvicorn

from ingest.bootstrap import IngestSettings, build_app
from shared.httpserver import server_options
from shared.logging import configure_logging


def main() -> None:
    settings = IngestSettings()
    configure_logging(settings.service, settings.log_level)
    uvicorn.run(
        build_app(settings),
        host=settings.http_host,
        port=settings.http_port or 8080,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=20,
        **server_options(settings.server_limits()),
    )


if __name__ == "__main__":
    main()
