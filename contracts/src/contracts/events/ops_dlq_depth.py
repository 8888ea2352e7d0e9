"""``ops.dlq_depth``: a service's dead-letter queue holds messages.

Seed 003's DLQ alarms, as an event: a watcher observes a worker's DLQ and reports how many messages it holds
and how old the oldest is. In AWS a CloudWatch alarm on the DLQ's ``ApproximateNumberOfMessagesVisible``
goes to EventBridge and is reshaped into this contract; locally the stack's watcher emits the same shape.
The notifier consumes it like any other event, so operators are alerted through the same channels.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from contracts.fields import EventTime, Text
from contracts.registry import contract

SERVICE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
QUEUE_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$"


@contract("ops.dlq_depth", 1)
class OpsDlqDepthV1(BaseModel):
    """How full one service's DLQ was when observed.

    ``oldest_age_s`` is unknown (``None``) where the endpoint offers no age metric; ``alarm`` names the
    CloudWatch alarm when the observation came from one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = Field(pattern=SERVICE_NAME_PATTERN, examples=["graph_writer"])
    queue: str = Field(pattern=QUEUE_NAME_PATTERN, examples=["tributary-archiver-dlq"])
    depth: int = Field(ge=0)
    oldest_age_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    observed_at: EventTime
    alarm: Text | None = Field(default=None, min_length=1, max_length=255)
