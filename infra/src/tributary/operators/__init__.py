"""Operator tooling behind ``tributary topology|status|dlq|replay``: functions over injected boto3 clients.

- :mod:`~tributary.operators.target`: what the commands act on (a local stack's ``stack.json``, or an AWS
  account where queue URLs come from ``<bus>-<service>`` names), and the clients to reach it.
- :mod:`~tributary.operators.letters`: a dead letter as an operator sees it, and selecting letters by
  filters (``type=…``, ``reason~…``) and time.
- :mod:`~tributary.operators.ratelimit`: the token bucket every mover shares.
- :mod:`~tributary.operators.batches`: SQS and EventBridge batch calls handled entry by entry.
- :mod:`~tributary.operators.scan`: receive, hold, release: how a queue is read without consuming it.
- :mod:`~tributary.operators.redrive`, :mod:`~tributary.operators.movetask`: DLQ redrive, filtered or not,
  message by message or with ``StartMessageMoveTask`` where the endpoint offers it.
- :mod:`~tributary.operators.dlq`: peek and purge.
- :mod:`~tributary.operators.replay`: re-publishing archived events.
- :mod:`~tributary.operators.health`: topology, queue depths, oldest ages and worker health.
- :mod:`~tributary.operators.commands`: the thin typer layer.
"""

from __future__ import annotations
