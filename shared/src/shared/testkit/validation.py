"""Asserting on pydantic rejections by where they point, so tests check that every error names its field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError


def error_locs(model: type[BaseModel], data: Any) -> list[tuple[int | str, ...]]:
    """The ``loc`` of every error raised validating ``data`` against ``model``.

    Raises:
        AssertionError: if ``data`` is valid.
    """
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [error["loc"] for error in exc.errors()]
    raise AssertionError(f"{model.__name__} accepted {data!r}")
