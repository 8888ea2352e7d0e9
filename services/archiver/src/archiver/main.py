"""Entrypoint: ``python -m archiver.main`` runs the archiver's worker until SIGTERM."""

from __future__ import annotations

from shared.runner import run_worker

from archiver.bootstrap import ArchiverSettings, build


def main() -> None:
    settings = ArchiverSettings()  # type: ignore[call-arg]  # bucket and queue URLs come from the environment
    queue, writer = build(settings)
    run_worker(settings, queue=queue, handler=writer)


if __name__ == "__main__":
    main()
