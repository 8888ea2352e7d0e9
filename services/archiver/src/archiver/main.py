"""Entrypoint: ``python -m archiver.main`` runs the archiver's worker until SIGTERM."""

from __future__ import annotations

from archiver.bootstrap import ArchiverSettings, build
from shared.runner import run_worker


def main() -> None:
    settings = ArchiverSettings()  # type: ignore[call-arg]  # bucket and queue URLs come from the environment
    queue, writer = build(settings)
    run_worker(settings, queue=queue, handler=writer)


if __name__ == "__main__":
    main()
