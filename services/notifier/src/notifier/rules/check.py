"""Checking a rules file beyond its shape, and pointing at the line of each problem.

:class:`RuleChecker` turns the validated :class:`~notifier.rules.spec.RuleFileSpec` into typed rules while
collecting every problem that needs context: the contracts (does the path exist? is it a number?), the
notifier's subscriptions, the channels defined, the environment (webhook secrets). Each problem carries the
line of the YAML node it is about, found from the node's location (``("rules", 1, "when", 0, "gt")``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notifier.ports import SecretReader, SecretUnavailable
from notifier.rules.fields import ANY, FieldCheckError, field_types
from notifier.rules.paths import FieldPath, PathError, Template
from notifier.rules.ruleset import (
    ABSENCE_FIELDS,
    BUILTIN_CHANNELS,
    ORDERING,
    RATE_FIELDS,
    AbsenceRule,
    AnyOf,
    Condition,
    EventRule,
    Match,
    RateRule,
    Rule,
    RuleSet,
    WebhookTarget,
)
from notifier.rules.spec import ConditionSpec, RuleFileSpec, RuleSpec, WebhookSpec
from shared.manifest import Subscription

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the rules file, and where."""

    line: int
    where: str
    message: str


def line_of(loc: Loc, lines: Mapping[Loc, int]) -> int:
    """The line of the deepest recorded node on ``loc``'s path (a missing key: its parent's line)."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def where(loc: Loc, document: Any = None) -> str:
    """``rules[1] (hot-sites) when[0].gt`` for ``("rules", 1, "when", 0, "gt")``."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if loc[:i] == ("rules",) and isinstance(document, dict):
                name = _rule_name(document, part)
                out += f" ({name})" if name else ""
        else:
            out += ("." if out and not out.endswith(")") else " " if out else "") + part
    return out


def _rule_name(document: dict[str, Any], index: int) -> str | None:
    rules = document.get("rules")
    if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
        name = rules[index].get("name")
        return name if isinstance(name, str) else None
    return None


def problem(loc: Sequence[str | int], message: str, lines: Mapping[Loc, int], document: Any) -> Problem:
    """A problem at ``loc`` (a pydantic error's ``loc``, or the checker's own)."""
    loc = tuple(loc)
    return Problem(line_of(loc, lines), where(loc, document), message)


class RuleChecker:
    """Turns a validated spec into typed rules, collecting every problem beyond the file's shape."""

    def __init__(
        self,
        spec: RuleFileSpec,
        lines: Mapping[Loc, int],
        document: Any,
        subscriptions: Sequence[Subscription],
        environ: Mapping[str, str],
        secret_arns: SecretReader | None = None,
    ) -> None:
        self.spec = spec
        self.lines = lines
        self.document = document
        self.environ = environ
        self.secret_arns = secret_arns
        self.subscribed: dict[str, tuple[int, ...]] = {}
        for sub in subscriptions:  # the runtime upcasts older versions: rules see only the newest
            self.subscribed[sub.type] = (max({*self.subscribed.get(sub.type, ()), *sub.versions}),)
        self.problems: list[Problem] = []

    def fail(self, loc: Loc, message: str) -> None:
        self.problems.append(problem(loc, message, self.lines, self.document))

    def build(self, extra_webhooks: Mapping[str, WebhookTarget], source: str) -> RuleSet:
        built = {  # a target the settings replace need not resolve its secret here
            name: self.webhook(name, w)
            for name, w in self.spec.webhooks.items()
            if name not in extra_webhooks
        }
        webhooks = {k: v for k, v in built.items() if v is not None} | dict(extra_webhooks)
        rules: list[Rule] = []
        names: set[str] = set()
        for i, rule in enumerate(self.spec.rules):
            if rule.name in names:
                self.fail(("rules", i, "name"), f"another rule is already named {rule.name!r}")
            names.add(rule.name)
            typed = self.rule(i, rule, set(webhooks))
            if typed is not None:
                rules.append(typed)
        return RuleSet(rules=tuple(rules), webhooks=webhooks, source=source)

    def webhook(self, name: str, spec: WebhookSpec) -> WebhookTarget | None:
        if name in BUILTIN_CHANNELS:
            self.fail(("webhooks", name), f"{name!r} is a built-in channel: name the webhook otherwise")
            return None
        secret = self.secret(name, spec)
        if secret is None:
            return None
        return WebhookTarget(name=name, url=spec.url, secret=secret, allow_private=spec.allow_private)

    def secret(self, name: str, spec: WebhookSpec) -> str | None:
        """The webhook's signing secret, from where the spec says; problems name the place, never a value."""
        if spec.secret_env is not None:
            secret = self.environ.get(spec.secret_env)
            if not secret:
                self.fail(
                    ("webhooks", name, "secret_env"), f"environment variable {spec.secret_env} is not set"
                )
            return secret or None
        if spec.secret_file is not None:
            try:
                secret = Path(spec.secret_file).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                self.fail(
                    ("webhooks", name, "secret_file"), f"cannot read the secret file: {type(exc).__name__}"
                )
                return None
            if not secret:
                self.fail(("webhooks", name, "secret_file"), "the secret file is empty")
            return secret or None
        if spec.secret_arn is not None:
            if self.secret_arns is None:
                self.fail(("webhooks", name, "secret_arn"), "no Secrets Manager access configured")
                return None
            try:
                return self.secret_arns(spec.secret_arn)
            except SecretUnavailable as exc:
                self.fail(("webhooks", name, "secret_arn"), str(exc))
                return None
        return spec.secret

    def rule(self, i: int, spec: RuleSpec, webhooks: set[str]) -> Rule | None:
        before = len(self.problems)
        loc: Loc = ("rules", i)
        match = self.match(loc, spec)
        channels = tuple(spec.channels if spec.channels is not None else self.spec.defaults.channels)
        known = sorted({*BUILTIN_CHANNELS, *webhooks})
        if not channels:
            self.fail((*loc, "channels"), "no channels: set `channels:` here or under `defaults:`")
        for c in channels:
            if c not in known:
                self.fail((*loc, "channels"), f"{c!r} is not a channel (known: {', '.join(known)})")
        when = tuple(self.condition((*loc, "when", j), c, match) for j, c in enumerate(spec.when))
        subject = self.template((*loc, "subject"), spec.subject or "*", match, None)
        message = self.template(
            (*loc, "message"),
            spec.message,
            match,
            ABSENCE_FIELDS if spec.kind == "absence" else None,
            extra=RATE_FIELDS if spec.kind == "rate" else (),
        )
        if len(self.problems) > before or match is None or subject is None or message is None:
            return None
        common: dict[str, Any] = {
            "name": spec.name,
            "match": match,
            "when": when,
            "subject": subject,
            "severity": spec.severity or self.spec.defaults.severity,
            "message": message,
            "cooldown_s": spec.cooldown if spec.cooldown is not None else self.spec.defaults.cooldown,
            "channels": channels,
            "line": line_of(loc, self.lines),
        }
        if spec.kind == "absence":
            assert spec.after is not None  # the spec requires `after` for absence rules
            return AbsenceRule(after_s=spec.after, **common)
        if spec.kind == "rate":
            assert spec.count is not None and spec.within is not None  # the spec requires both
            return RateRule(count=spec.count, within_s=spec.within, **common)
        return EventRule(**common)

    def match(self, loc: Loc, spec: RuleSpec) -> Match | None:
        type_ = spec.match.type
        subscribed = self.subscribed.get(type_)
        if subscribed is None:
            known = ", ".join(sorted(self.subscribed))
            self.fail(
                (*loc, "match", "type"), f"{type_!r} is not an event type the notifier consumes ({known})"
            )
            return None
        versions = tuple(sorted(set(spec.match.versions))) if spec.match.versions else subscribed
        missing = [v for v in versions if v not in subscribed]
        if missing:
            self.fail(
                (*loc, "match", "versions"),
                f"the notifier does not consume {type_} v{', v'.join(map(str, missing))}"
                f" (it handles v{subscribed[0]}; older versions are upcast to it before rules see them)",
            )
            return None
        return Match(type=type_, versions=versions)

    def path(self, loc: Loc, text: str, match: Match | None) -> tuple[FieldPath | None, set[str]]:
        try:
            path = FieldPath.parse(text)
        except PathError as exc:
            self.fail(loc, str(exc))
            return None, set()
        types: set[str] = set()
        for version in match.versions if match else ():
            try:
                types |= field_types(path, match.type, version)  # type: ignore[union-attr]
            except FieldCheckError as exc:
                self.fail(loc, str(exc))
                return None, set()
        return path, types

    def condition(self, loc: Loc, spec: ConditionSpec, match: Match | None) -> Condition | AnyOf:
        if spec.any is not None:
            return AnyOf(tuple(self.condition((*loc, "any", k), c, match) for k, c in enumerate(spec.any)))
        op, value = spec.operation()
        path, types = self.path((*loc, "path"), spec.path or "", match)
        if path is not None and op in ORDERING and types and not types & {"number", "integer", ANY}:
            self.fail((*loc, op), f"{path} is {'/'.join(sorted(types))}: {op} compares numbers only")
        return Condition(path or FieldPath.parse("id"), op, value)

    def template(
        self,
        loc: Loc,
        text: str,
        match: Match | None,
        fields: Sequence[str] | None,
        *,
        extra: Sequence[str] = (),
    ) -> Template | None:
        """Parse a template; its paths must be ``fields`` when given, else ``extra`` or the event's."""
        try:
            template = Template.parse(text)
        except PathError as exc:
            self.fail(loc, str(exc))
            return None
        for path in template.paths:
            if fields is not None:
                if path.text not in fields:
                    self.fail(loc, f"{{{path}}}: an absence message may use only {', '.join(fields)}")
            elif path.text in extra:
                continue
            elif extra and path.text.startswith("rate."):
                self.fail(loc, f"{{{path}}}: the window's fields are {', '.join(extra)}")
            elif self.path(loc, path.text, match)[0] is None:
                return None
        return template
