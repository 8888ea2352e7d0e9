"""The shape of the rules file, as pydantic models: what :mod:`notifier.rules.loader` validates first.

Only the file's *shape* is checked here (keys, types, one operator per condition, durations). What needs
context (contracts, subscriptions, channels, environment) is checked by the loader afterwards.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from notifier.egress import literal, refusal
from notifier.rules.ruleset import CHANNEL_NAME_PATTERN, OPS, RULE_NAME_PATTERN, Op, Severity, parse_duration


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number (write it without quotes)")
    return value


def _scalar(value: Any) -> str | int | float | bool | None:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError(f"{value!r} is not a single value (text, a number, true/false or null)")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Number = Annotated[Any, BeforeValidator(_number)]
Scalar = Annotated[Any, BeforeValidator(_scalar)]
ChannelName = Annotated[str, Field(pattern=CHANNEL_NAME_PATTERN)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ConditionSpec(_Spec):
    """``{path: data.value, gt: 80}``: a path and exactly one operator; or ``{any: [conditions]}``."""

    path: StrictStr | None = None
    any: list[ConditionSpec] | None = Field(default=None, min_length=1)
    eq: Scalar = None
    ne: Scalar = None
    gt: Number | None = None
    ge: Number | None = None
    lt: Number | None = None
    le: Number | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in", min_length=1)
    exists: StrictBool | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> ConditionSpec:
        given = [op for op in OPS if _field(op) in self.model_fields_set]
        if self.any is not None:
            if given or self.path is not None:
                raise ValueError("`any:` stands alone: put the path and operator in each of its conditions")
            return self
        if self.path is None:
            raise ValueError("a condition needs `path:` (or is an `any:` list)")
        if len(given) != 1:
            found = ", ".join(given) or "none"
            raise ValueError(f"a condition needs exactly one of {', '.join(OPS)} (found: {found})")
        return self

    def operation(self) -> tuple[Op, Any]:
        """The condition's operator and its value (a tuple for ``in``)."""
        op = next(op for op in OPS if _field(op) in self.model_fields_set)
        value = getattr(self, _field(op))
        return op, tuple(value) if op == "in" else value


def _field(op: str) -> str:
    return "in_" if op == "in" else op


class MatchSpec(_Spec):
    """``{type: sensor.reading, versions: [1]}``; no versions: every version the notifier consumes."""

    type: StrictStr
    versions: list[StrictInt] | None = Field(default=None, min_length=1)


class RuleSpec(_Spec):
    """One rule as written in the file."""

    name: str = Field(pattern=RULE_NAME_PATTERN)
    kind: Literal["event", "rate", "absence"] = "event"
    match: MatchSpec
    when: list[ConditionSpec] = Field(default_factory=list)
    subject: StrictStr | None = None
    severity: Severity | None = None
    message: StrictStr = Field(min_length=1, max_length=2000)
    cooldown: Duration | None = None
    channels: list[ChannelName] | None = None
    after: Duration | None = None
    count: StrictInt | None = Field(default=None, ge=1, le=1_000_000)
    within: Duration | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> RuleSpec:
        if self.kind == "rate":
            if self.count is None:
                raise ValueError("a rate rule needs `count:` (how many events in one window raise an alert)")
            if self.within is None or self.within <= 0:
                raise ValueError("a rate rule needs `within:` (the window's length), e.g. 10m")
        elif self.count is not None or self.within is not None:
            raise ValueError("`count:` and `within:` belong to rate rules (kind: rate)")
        if self.kind == "absence":
            if self.after is None or self.after <= 0:
                raise ValueError(
                    "an absence rule needs `after:` (how long a subject may stay silent), e.g. 10m"
                )
            if self.subject is None:
                raise ValueError(
                    "an absence rule needs `subject:` (whose silence it watches), e.g. '{data.device_id}'"
                )
        elif self.after is not None:
            raise ValueError("`after:` belongs to absence rules (kind: absence)")
        return self


class WebhookSpec(_Spec):
    """``{url: https://…, secret_arn: arn:aws:secretsmanager:…}`` on AWS; locally ``secret_env: NAME``,
    ``secret_file: path`` or ``secret:`` (tests only). ``allow_private: true`` lets it post to loopback and
    private addresses (never to link-local or metadata ones)."""

    url: StrictStr
    secret: StrictStr | None = Field(default=None, min_length=1, repr=False)
    secret_env: StrictStr | None = None
    secret_file: StrictStr | None = None
    secret_arn: StrictStr | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:secretsmanager:[^\s]+$")
    allow_private: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        return url

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookSpec:
        given = [
            s for s in (self.secret, self.secret_env, self.secret_file, self.secret_arn) if s is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "a webhook needs exactly one of `secret_arn:` (Secrets Manager), `secret_env:` (an"
                " environment variable), `secret_file:` or `secret:`"
            )
        return self

    @model_validator(mode="after")
    def _allowed_address(self) -> WebhookSpec:
        address = literal(urlsplit(self.url).hostname or "")
        why = refusal(address, allow_private=self.allow_private) if address is not None else None
        if why is not None:
            raise ValueError(f"the url's host {why}")
        return self


class DefaultsSpec(_Spec):
    """What rules that leave them out get."""

    severity: Severity = "warning"
    cooldown: Duration = 300.0
    channels: list[ChannelName] = Field(default_factory=list)


class RuleFileSpec(_Spec):
    """The whole file."""

    version: Literal[1] = 1
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec)
    webhooks: dict[Annotated[str, Field(pattern=CHANNEL_NAME_PATTERN)], WebhookSpec] = Field(
        default_factory=dict
    )
    rules: list[RuleSpec] = Field(default_factory=list)
