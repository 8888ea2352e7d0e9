"""Loading the rules file (YAML) into a :class:`~notifier.rules.ruleset.RuleSet`, every error naming its line.

The file is composed into YAML nodes first, so every value keeps the line it came from; it is then
validated with pydantic and checked against the contracts and the notifier's subscriptions. All problems
are collected and raised together as one :class:`RulesError`::

    rules.yaml line 12: rules[1] (hot-sites) when[0].gt: '80' is not a number (write it without quotes)
    rules.yaml line 15: rules[1] (hot-sites) channels: 'pager' is not a channel (known: log, ops-hook, sns)

The format is described in ``docs/notifier.md`` and shown by the packaged ``rules.example.yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from pydantic import ValidationError

from notifier.ports import SecretReader
from notifier.rules.check import Loc, Problem, RuleChecker, problem, where
from notifier.rules.ruleset import RuleSet, WebhookTarget
from notifier.rules.spec import RuleFileSpec
from shared.manifest import Subscription
from shared.service import StartupError


class RulesError(StartupError):
    """The rules file cannot be used; ``problems`` lists every reason, each with its line."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"{self.source} line {p.line}: {p.where}{': ' if p.where else ''}{p.message}"
            for p in self.problems
        ]


def load_rules(
    path: Path,
    *,
    subscriptions: Sequence[Subscription],
    webhooks: Mapping[str, WebhookTarget] | None = None,
    environ: Mapping[str, str] | None = None,
    secret_arns: SecretReader | None = None,
) -> RuleSet:
    """Read and validate the rules file at ``path``.

    Args:
        path: the YAML file.
        subscriptions: what the notifier consumes; every rule must match a subscribed type and version.
        webhooks: webhook targets from settings; they replace targets of the same name in the file.
        environ: where ``secret_env`` is looked up (default ``os.environ``).
        secret_arns: reads ``secret_arn`` secrets (Secrets Manager); without it they are a problem.

    Raises:
        RulesError: listing every problem with its line.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(source, [Problem(1, "", f"cannot read the rules file: {exc}")]) from exc
    return parse_rules(
        text,
        source=source,
        subscriptions=subscriptions,
        webhooks=webhooks,
        environ=environ,
        secret_arns=secret_arns,
    )


def parse_rules(
    text: str,
    *,
    source: str = "<rules>",
    subscriptions: Sequence[Subscription],
    webhooks: Mapping[str, WebhookTarget] | None = None,
    environ: Mapping[str, str] | None = None,
    secret_arns: SecretReader | None = None,
) -> RuleSet:
    """Validate rules given as YAML text; see :func:`load_rules`."""
    lines: dict[Loc, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise RulesError(source, [Problem(line, "", f"not valid YAML: {exc.problem or exc}")]) from exc
    if node is None:
        raise RulesError(source, [Problem(1, "", "the file is empty: expected a mapping with `rules:`")])
    problems: list[Problem] = []  # duplicate keys and the like: reported with the rest
    document = _construct(node, (), lines, problems)
    try:
        spec = RuleFileSpec.model_validate(document)
    except ValidationError as exc:
        problems += [problem(e["loc"], _message(e["msg"]), lines, document) for e in exc.errors()]
        raise RulesError(source, problems) from exc
    checker = RuleChecker(
        spec, lines, document, subscriptions, environ if environ is not None else os.environ, secret_arns
    )
    ruleset = checker.build(webhooks or {}, source)
    problems += checker.problems
    if problems:
        raise RulesError(source, problems)
    return ruleset


def _message(text: str) -> str:
    return text.removeprefix("Value error, ")


_SCALARS = yaml.constructor.SafeConstructor()


def _construct(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[Problem]) -> Any:
    """Plain data from a YAML node, recording each value's line under its location."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _SCALARS.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                problems.append(Problem(key_node.start_mark.line + 1, where(loc), "keys must be text"))
                continue
            if key in out:
                problems.append(Problem(key_node.start_mark.line + 1, where(loc), f"duplicate key {key!r}"))
                continue
            out[key] = _construct(value_node, (*loc, key), lines, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), lines, problems) for i, item in enumerate(node.value)]
    return _SCALARS.construct_object(node)
