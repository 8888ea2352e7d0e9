"""Test helpers every package's tests share, installed with ``shared`` (no import from the repository root).

One valid sample event per contract version (``samples``, files under ``events/``) and envelopes built from
them (``envelopes``), ``sensor.reading`` v1/v2 twins (``readings``), pydantic error locations
(``validation``), an EMF line checker (``emf``), polling for an end state (``waiting``), the variables a
service's settings read (``settings_env``) and moto's in-process AWS sealed off from real stacks (``aws``).
A queue whose receives follow a script on a hand-moved clock, for the worker's timing (``scripted``).
In-memory fakes of the runtime's ports are in :mod:`shared.testing`.
"""
