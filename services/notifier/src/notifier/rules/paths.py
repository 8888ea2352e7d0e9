"""Dotted field paths into an event, and message templates made of them.

A path names a value of the envelope: ``id``, ``type``, ``source``, ``time``, ``data.value``,
``data.location.lat``. A segment may end in ``[*]`` (every element of a list) or ``[<n>]`` (one element), so
``data.movements[*].to_team`` yields every movement's destination team. Resolving a path yields *all* the
values it reaches, so a condition over a ``[*]`` path holds when any one of them satisfies it.

A template is text with ``{path}`` placeholders (``{{`` and ``}}`` are literal braces). Rendering looks each
path up in the event; nothing else is evaluated: no attribute access, indexing beyond the path grammar,
format specs or conversions, so a rule file cannot make the notifier reveal anything but event fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_SEGMENT = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9_]*)(?P<index>\[(?:\*|[0-9]+)\])?")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
MISSING = "-"
"""How a template renders a path that reaches no value (an absent optional field, an empty list)."""


class PathError(ValueError):
    """A path or template is not well formed."""


@dataclass(frozen=True)
class Segment:
    """One step of a path: a key, optionally followed by ``[*]`` (``index`` -1) or ``[n]``."""

    name: str
    index: int | None = None


@dataclass(frozen=True)
class FieldPath:
    """A parsed dotted path, e.g. ``data.movements[*].from_team``."""

    text: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> FieldPath:
        """Parse ``text``.

        Raises:
            PathError: if a segment is not ``name``, ``name[*]`` or ``name[<n>]``.
        """
        if not text:
            raise PathError("a path is empty")
        segments = []
        for part in text.split("."):
            match = _SEGMENT.fullmatch(part)
            if not match:
                raise PathError(f"{text!r} is not a dotted path (bad segment {part!r})")
            index = match["index"]
            segments.append(
                Segment(match["name"], None if index is None else -1 if index == "[*]" else int(index[1:-1]))
            )
        return cls(text, tuple(segments))

    @property
    def fans_out(self) -> bool:
        """Whether the path may reach several values (it has a ``[*]``)."""
        return any(s.index == -1 for s in self.segments)

    def values(self, document: Mapping[str, Any]) -> list[Any]:
        """Every value the path reaches in ``document``; empty when it reaches none."""
        return list(_walk(document, self.segments))

    def __str__(self) -> str:
        return self.text


def _walk(node: Any, segments: tuple[Segment, ...]) -> Iterator[Any]:
    if not segments:
        yield node
        return
    head, rest = segments[0], segments[1:]
    if not isinstance(node, Mapping) or head.name not in node:
        return
    value = node[head.name]
    if head.index is None:
        yield from _walk(value, rest)
    elif isinstance(value, list | tuple):
        if head.index == -1:
            for item in value:
                yield from _walk(item, rest)
        elif head.index < len(value):
            yield from _walk(value[head.index], rest)


@dataclass(frozen=True)
class Template:
    """Text with ``{path}`` placeholders, rendered from an event's fields only."""

    text: str
    parts: tuple[str | FieldPath, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse ``text``.

        Raises:
            PathError: on an unbalanced brace or a placeholder that is not a path.
        """
        parts: list[str | FieldPath] = []
        literal: list[str] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            literal.append(text[position : match.start()])
            position = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                literal.append(token[0])
            elif match.group(1) is None:
                raise PathError(f"unbalanced {token!r} at character {match.start() + 1} (write {token * 2})")
            else:
                parts.extend(["".join(literal), FieldPath.parse(match.group(1).strip())])
                literal = []
        literal.append(text[position:])
        parts.append("".join(literal))
        return cls(text, tuple(p for p in parts if p != ""))

    @property
    def paths(self) -> list[FieldPath]:
        return [p for p in self.parts if isinstance(p, FieldPath)]

    def render(self, document: Mapping[str, Any]) -> str:
        """The text with each placeholder replaced by the values its path reaches, joined by ``", "``."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                values = part.values(document)
                out.append(", ".join(_text(v) for v in values) if values else MISSING)
        return "".join(out)


def _text(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    if isinstance(value, Mapping | list | tuple):
        return "{…}" if isinstance(value, Mapping) else f"[{len(value)} items]"
    return str(value)
