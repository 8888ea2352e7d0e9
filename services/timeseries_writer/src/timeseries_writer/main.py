"""Entrypoint: ``python -m timeseries_writer.main`` runs the worker and its read API until SIGTERM."""

from __future__ import annotations

from shared.runner import run_worker
from timeseries_writer.api import create_app
from timeseries_writer.bootstrap import SeriesSettings, build
from timeseries_writer.manifest import MANIFEST


def main() -> None:
    settings = SeriesSettings()  # type: ignore[call-arg]  # queue URLs come from the environment
    service = build(settings)
    api = create_app(service.reader, limits=service.limits, store_name=service.store_name)
    try:
        run_worker(settings, queue=service.queue, handler=service.writer, api=api, consumes=MANIFEST.consumes)
    finally:
        service.close()


if __name__ == "__main__":
    main()
