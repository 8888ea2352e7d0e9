"""The graph's shape: labels, relationships, node ids, the rows a batch writes and what reads return.

Every node has a global id ``<prefix>:<domain key>`` (``device:dev-0042``, ``team:LAL``): the prefix names
its label, so ids stay unique across labels (Neptune's ``~id`` is global) and a reader can tell a node's
label from its id alone. Ids and every other value come from events and only ever travel as query
parameters.

The key is percent-encoded beyond ``[A-Za-z0-9._:~-]``. Contract ids only hold those characters, so for them
the id is the key as it is; for anything else the encoding keeps ids injective and plain ASCII, because
FalkorDB's index trims surrounding whitespace and control characters (so ``"a "`` and ``"a"`` would look
alike) and does not find keys of 8 KiB or more.

Rows are plain frozen dataclasses of scalars. A "version" is the event's ``time`` in epoch milliseconds with
its event id as the tie-break, so the newest of two events always wins whatever order they arrive in;
``latest`` marks the one row per entity in a batch that may update that entity's "latest" properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

LABELS: dict[str, str] = {
    "device": "Device",
    "site": "Site",
    "cat": "Cat",
    "municipality": "Municipality",
    "player": "Player",
    "team": "Team",
    "customer": "Customer",
    "product": "Product",
}
"""Node id prefix → label."""

RELATIONSHIPS: dict[str, tuple[str, str]] = {
    "LOCATED_AT": ("Device", "Site"),
    "SEEN_IN": ("Cat", "Municipality"),
    "TRADED_TO": ("Player", "Team"),
    "LEFT": ("Player", "Team"),
    "PURCHASED": ("Customer", "Product"),
}
"""Relationship type → (label of its start node, label of its end node)."""

NODE_PROPERTIES: dict[str, tuple[str, ...]] = {
    "Device": (
        "device_id",
        "device_type",
        "model",
        "firmware",
        "lat",
        "lon",
        "site_id",
        "registered_at",
        "last_seen",
    ),
    "Site": ("site_id",),
    "Cat": ("cat_id", "status", "ear_tipped", "municipality_code", "last_seen"),
    "Municipality": ("municipality_code", "name"),
    "Player": ("player_id", "name", "team", "team_since"),
    "Team": ("team",),
    "Customer": ("customer_id",),
    "Product": ("product_id",),
}
"""The public properties of each label, as reads return them (version bookkeeping stays internal)."""

MAX_DEPTH = 3
MAX_ID_LENGTH = 1024


class InvalidNodeId(ValueError):
    """A node id without a known ``<prefix>:`` or without a key after it."""


def node_id(prefix: str, key: str) -> str:
    """The global id of the node with domain key ``key`` under ``prefix`` (``device``, ``team``...).

    Raises:
        InvalidNodeId: unknown prefix, empty key, or an id longer than :data:`MAX_ID_LENGTH`.
    """
    if prefix not in LABELS:
        raise InvalidNodeId(f"unknown node id prefix {prefix!r}")
    id_ = f"{prefix}:{quote(key, safe='._:~-')}"
    if not key or len(id_) > MAX_ID_LENGTH:
        raise InvalidNodeId(f"node key must be 1 to about {MAX_ID_LENGTH} characters, not {len(key)}")
    return id_


def label_of(node_id_: str) -> str:
    """The label a node id names.

    Raises:
        InvalidNodeId: the id has no known prefix or no key.
    """
    prefix, sep, key = node_id_.partition(":")
    if not sep or not key or prefix not in LABELS:
        known = ", ".join(f"{p}:" for p in LABELS)
        raise InvalidNodeId(f"node id {node_id_!r} must be <prefix>:<key> with a prefix of {known}")
    return LABELS[prefix]


# -- rows (what a batch writes) ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Version:
    """Orders the events that update one entity: the event time, then the event id."""

    ms: int
    event_id: str

    def params(self) -> dict[str, Any]:
        return {"v": self.ms, "eid": self.event_id}


@dataclass(frozen=True, kw_only=True)
class DevicePlacement:
    """``device.registered``: (Device)-[:LOCATED_AT]->(Site), and the device's attributes."""

    device_id: str
    site_id: str
    device_type: str
    model: str | None
    firmware: str | None
    lat: float | None
    lon: float | None
    at: str
    version: Version
    latest: bool = True


@dataclass(frozen=True, kw_only=True)
class DeviceSeen:
    """``sensor.reading``: the device was seen at ``at`` (only the newest per device is kept)."""

    device_id: str
    at: str
    version: Version


@dataclass(frozen=True, kw_only=True)
class CatSighting:
    """``cat.sighting``: (Cat)-[:SEEN_IN {sighting_id, at, status}]->(Municipality)."""

    sighting_id: str
    cat_id: str
    municipality_code: str
    status: str
    ear_tipped: bool
    at: str
    version: Version
    latest: bool = True


@dataclass(frozen=True, kw_only=True)
class MunicipalityName:
    """A municipality's name as the newest sighting that named it says."""

    municipality_code: str
    name: str
    version: Version


@dataclass(frozen=True, kw_only=True)
class PlayerMove:
    """One movement of a ``trade.completed``: (Player)-[:TRADED_TO]->(Team) and (Player)-[:LEFT]->(Team)."""

    player_id: str
    player_name: str
    from_team: str
    to_team: str
    latest: bool = True


@dataclass(frozen=True, kw_only=True)
class Trade:
    """``trade.completed``: its movements, all at the trade's time."""

    trade_id: str
    season: str
    at: str
    version: Version
    moves: tuple[PlayerMove, ...]


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    """One line of an order: (Customer)-[:PURCHASED {order_id, line}]->(Product)."""

    line: int
    product_id: str
    quantity: int
    unit_price: str


@dataclass(frozen=True, kw_only=True)
class Order:
    """``order.placed``: a customer bought the lines' products."""

    order_id: str
    customer_id: str
    shop_id: str
    currency: str
    at: str
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, kw_only=True)
class GraphBatch:
    """Everything one batch of events writes, grouped by kind, ``latest`` flags set across the batch."""

    placements: tuple[DevicePlacement, ...] = ()
    seen: tuple[DeviceSeen, ...] = ()
    sightings: tuple[CatSighting, ...] = ()
    municipality_names: tuple[MunicipalityName, ...] = ()
    trades: tuple[Trade, ...] = ()
    orders: tuple[Order, ...] = ()

    def __len__(self) -> int:
        return sum(len(rows) for rows in vars(self).values())


# -- what reads return ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Node:
    """A node: its global id, label and public properties (absent ones omitted)."""

    id: str
    label: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Neighbor:
    """A node reached from another, and in how few hops."""

    id: str
    label: str
    hops: int


@dataclass(frozen=True, kw_only=True)
class GraphCounts:
    """Nodes per label and relationships per type (every known one, zeros included)."""

    nodes: dict[str, int]
    relationships: dict[str, int]

    @property
    def total_nodes(self) -> int:
        return sum(self.nodes.values())

    @property
    def total_relationships(self) -> int:
        return sum(self.relationships.values())
