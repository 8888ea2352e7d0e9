"""Tests of loading the rules file: typed rules out, or every problem with its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from notifier.bootstrap import EXAMPLE_RULES
from notifier.manifest import MANIFEST
from notifier.rules.loader import RulesError, load_rules, parse_rules
from notifier.rules.ruleset import AbsenceRule, AnyOf, Condition, EventRule, RateRule, WebhookTarget

HEAD = """\
version: 1
defaults:
  channels: [log]
rules:
"""


def _parse(rules: str, *, head: str = HEAD, environ: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse_rules(
        head + textwrap.dedent(rules),
        source="rules.yaml",
        subscriptions=MANIFEST.consumes,
        environ=environ or {},
    )


def _errors(rules: str, *, head: str = HEAD) -> list[str]:
    with pytest.raises(RulesError) as caught:
        _parse(rules, head=head)
    return caught.value.lines()


def test_the_packaged_example_loads() -> None:
    """The example covers the seed domains: a threshold, an absence, a trade, a cat and the DLQ alert."""
    path = Path(__file__).parents[1] / "src" / "notifier" / EXAMPLE_RULES
    rules = load_rules(path, subscriptions=MANIFEST.consumes)
    kinds = {r.name: (r.kind, r.match.type) for r in rules.rules}
    assert kinds == {
        "co2-high-tokyo": ("event", "sensor.reading"),
        "device-silent": ("absence", "sensor.reading"),
        "trade-involving-lal": ("event", "trade.completed"),
        "cat-injured": ("event", "cat.sighting"),
        "injured-cats-cluster": ("rate", "cat.sighting"),
        "dlq-not-empty": ("event", "ops.dlq_depth"),
    }
    assert {t for r in rules.rules for t in [r.match.type]} <= {s.type for s in MANIFEST.consumes}


def test_a_rule_is_typed_with_defaults_applied() -> None:
    """Conditions, templates, durations and defaults become a typed EventRule, with the rule's line."""
    rules = _parse(
        """\
        - name: hot
          match: {type: sensor.reading}
          when:
            - {path: data.quantity.value, gt: 80}
            - any:
                - {path: data.site_id, in: [S1, S2]}
                - {path: data.device_id, exists: true}
          subject: "{data.device_id}"
          message: "{data.device_id} reads {data.quantity.value}"
          cooldown: 1m30s
        """
    )
    [rule] = rules.rules
    assert isinstance(rule, EventRule)
    assert (rule.name, rule.match.type, rule.match.versions) == ("hot", "sensor.reading", (2,))
    assert (rule.severity, rule.cooldown_s, rule.channels, rule.line) == ("warning", 90.0, ("log",), 5)
    first, second = rule.when
    assert isinstance(first, Condition) and (str(first.path), first.op, first.value) == (
        "data.quantity.value",
        "gt",
        80,
    )
    assert isinstance(second, AnyOf)
    assert [(str(c.path), c.op, c.value) for c in second.conditions if isinstance(c, Condition)] == [
        ("data.site_id", "in", ("S1", "S2")),
        ("data.device_id", "exists", True),
    ]


def test_an_absence_rule() -> None:
    """``kind: absence`` with ``after`` and a subject; its message uses the silence's fields."""
    rules = _parse(
        """\
        - name: quiet
          kind: absence
          match: {type: sensor.reading, versions: [2]}
          subject: "{data.device_id}"
          after: 10m
          message: "{subject} silent for {silent_for} since {last_seen} ({rule})"
        """
    )
    [rule] = rules.absence_rules
    assert isinstance(rule, AbsenceRule) and rule.after_s == 600.0


def test_a_rate_rule() -> None:
    """``kind: rate`` with ``count`` and ``within``; its message uses the event's and the window's fields."""
    rules = _parse(
        """\
        - name: busy
          kind: rate
          match: {type: cat.sighting}
          subject: "{data.municipality_code}"
          count: 3
          within: 1h
          message: "{rate.count} in {data.municipality_name} within {rate.within} from {rate.window_start}"
        """
    )
    [rule] = rules.rate_rules
    assert isinstance(rule, RateRule) and (rule.count, rule.within_s) == (3, 3600.0)
    assert rule.window_start(7200.0 + 3599.9) == 7200.0


def test_webhooks_take_their_secret_from_the_environment() -> None:
    """``secret_env`` is read at load; settings' targets replace the file's of the same name."""
    head = HEAD.replace(
        "rules:",
        "webhooks:\n  ops:\n    url: https://hooks.example.com/a?token=x\n    secret_env: OPS_SECRET\n"
        "  team:\n    url: http://127.0.0.1:9/b\n    secret: inline\n    allow_private: true\nrules:",
    )
    text = head + "  - {name: r, match: {type: cat.sighting}, message: m, channels: [ops, team]}\n"
    rules = parse_rules(
        text,
        subscriptions=MANIFEST.consumes,
        environ={"OPS_SECRET": "s3cret"},
        webhooks={"team": WebhookTarget(name="team", url="http://127.0.0.1:10/c", secret="from-settings")},
    )
    assert rules.webhooks["ops"].secret == "s3cret"
    assert rules.webhooks["team"].url == "http://127.0.0.1:10/c"
    assert "s3cret" not in repr(rules.webhooks["ops"])


BAD_RULES = [
    (
        "unknown-field",
        """\
        - name: hot
          match: {type: sensor.reading}
          when:
            - {path: data.vaule, gt: 80}
          message: m
        """,
        "rules.yaml line 8: rules[0] (hot) when[0].path: data.vaule is not a field of sensor.reading v2 "
        "(data has: device_id, metric, quality, quantity, site_id)",
    ),
    (
        "ordering-on-text",
        """\
        - name: hot
          match: {type: sensor.reading}
          when:
            - {path: data.site_id, gt: 3}
          message: m
        """,
        "rules.yaml line 8: rules[0] (hot) when[0].gt: data.site_id is string: gt compares numbers only",
    ),
    (
        "quoted-number",
        """\
        - name: hot
          match: {type: sensor.reading}
          when:
            - {path: data.value, gt: "80"}
          message: m
        """,
        "rules.yaml line 8: rules[0] (hot) when[0].gt: '80' is not a number (write it without quotes)",
    ),
    (
        "two-operators",
        """\
        - name: hot
          match: {type: sensor.reading}
          when:
            - {path: data.value, gt: 80, lt: 90}
          message: m
        """,
        "rules.yaml line 8: rules[0] (hot) when[0]: a condition needs exactly one of eq, ne, gt, ge, lt, le,"
        " in, exists (found: gt, lt)",
    ),
    (
        "unknown-operator",
        """\
        - name: hot
          match: {type: sensor.reading}
          when:
            - {path: data.value, above: 80}
          message: m
        """,
        "rules.yaml line 8: rules[0] (hot) when[0].above: Extra inputs are not permitted",
    ),
    (
        "unsubscribed-type",
        """\
        - name: orders
          match: {type: order.placed}
          message: m
        """,
        "rules.yaml line 6: rules[0] (orders) match.type: 'order.placed' is not an event type the notifier"
        " consumes (cat.sighting, ops.dlq_depth, sensor.reading, trade.completed)",
    ),
    (
        "unsubscribed-version",
        """\
        - name: v2
          match: {type: sensor.reading, versions: [1, 2]}
          message: m
        """,
        "rules.yaml line 6: rules[0] (v2) match.versions: the notifier does not consume sensor.reading v1"
        " (it handles v2; older versions are upcast to it before rules see them)",
    ),
    (
        "unknown-channel",
        """\
        - name: hot
          match: {type: sensor.reading}
          message: m
          channels: [pager]
        """,
        "rules.yaml line 8: rules[0] (hot) channels: 'pager' is not a channel (known: log, sns)",
    ),
    (
        "bad-template",
        """\
        - name: hot
          match: {type: sensor.reading}
          message: "{data.value reads"
        """,
        "rules.yaml line 7: rules[0] (hot) message: unbalanced '{' at character 1 (write {{)",
    ),
    (
        "template-field",
        """\
        - name: hot
          match: {type: sensor.reading}
          subject: "{data.device}"
          message: m
        """,
        "rules.yaml line 7: rules[0] (hot) subject: data.device is not a field of sensor.reading v2"
        " (data has: device_id, metric, quality, quantity, site_id)",
    ),
    (
        "list-index-on-scalar",
        """\
        - name: trade
          match: {type: trade.completed}
          when:
            - {path: "data.season[*]", eq: x}
          message: m
        """,
        "rules.yaml line 8: rules[0] (trade) when[0].path: data.season[*]: season of trade.completed v1"
        " is not a list",
    ),
    (
        "rate-without-count",
        """\
        - name: busy
          kind: rate
          within: 10m
          match: {type: cat.sighting}
          message: m
        """,
        "rules.yaml line 5: rules[0] (busy): a rate rule needs `count:` (how many events in one window raise"
        " an alert)",
    ),
    (
        "rate-without-window",
        """\
        - name: busy
          kind: rate
          count: 5
          match: {type: cat.sighting}
          message: m
        """,
        "rules.yaml line 5: rules[0] (busy): a rate rule needs `within:` (the window's length), e.g. 10m",
    ),
    (
        "count-on-an-event-rule",
        """\
        - name: busy
          count: 5
          match: {type: cat.sighting}
          message: m
        """,
        "rules.yaml line 5: rules[0] (busy): `count:` and `within:` belong to rate rules (kind: rate)",
    ),
    (
        "rate-unknown-window-field",
        """\
        - name: busy
          kind: rate
          count: 5
          within: 10m
          match: {type: cat.sighting}
          message: "{rate.total}"
        """,
        "rules.yaml line 10: rules[0] (busy) message: {rate.total}: the window's fields are rate.count,"
        " rate.within, rate.window_start",
    ),
    (
        "window-field-in-an-event-rule",
        """\
        - name: busy
          match: {type: cat.sighting}
          message: "{rate.count}"
        """,
        "rules.yaml line 7: rules[0] (busy) message: rate.count is not a field of cat.sighting v1 (the event"
        " has: data, id, ingested_at, source, time, trace, type, version)",
    ),
    (
        "absence-without-after",
        """\
        - name: quiet
          kind: absence
          match: {type: sensor.reading}
          subject: "{data.device_id}"
          message: m
        """,
        "rules.yaml line 5: rules[0] (quiet): an absence rule needs `after:` (how long a subject may stay"
        " silent), e.g. 10m",
    ),
    (
        "absence-message-field",
        """\
        - name: quiet
          kind: absence
          after: 5m
          match: {type: sensor.reading}
          subject: "{data.device_id}"
          message: "{data.value}"
        """,
        "rules.yaml line 10: rules[0] (quiet) message: {data.value}: an absence message may use only subject,"
        " last_seen, silent_for, rule",
    ),
    (
        "after-on-event-rule",
        """\
        - name: hot
          match: {type: sensor.reading}
          after: 5m
          message: m
        """,
        "rules.yaml line 5: rules[0] (hot): `after:` belongs to absence rules (kind: absence)",
    ),
    (
        "bad-duration",
        """\
        - name: hot
          match: {type: sensor.reading}
          cooldown: 10 minutes
          message: m
        """,
        "rules.yaml line 7: rules[0] (hot) cooldown: '10 minutes' is not a duration (use e.g. 90s, 10m,"
        " 1h30m, or seconds)",
    ),
    (
        "bad-name",
        """\
        - name: Hot Rule
          match: {type: sensor.reading}
          message: m
        """,
        "rules.yaml line 5: rules[0] (Hot Rule) name: String should match pattern"
        " '^[a-z0-9][a-z0-9_.-]{0,63}$'",
    ),
    (
        "duplicate-name",
        """\
        - {name: hot, match: {type: sensor.reading}, message: m}
        - {name: hot, match: {type: cat.sighting}, message: m}
        """,
        "rules.yaml line 6: rules[1] (hot) name: another rule is already named 'hot'",
    ),
    (
        "duplicate-key",
        """\
        - name: hot
          match: {type: sensor.reading}
          message: m
          message: n
        """,
        "rules.yaml line 8: rules[0]: duplicate key 'message'",
    ),
    (
        "missing-message",
        """\
        - name: hot
          match: {type: sensor.reading}
        """,
        "rules.yaml line 5: rules[0] (hot) message: Field required",
    ),
]


@pytest.mark.parametrize(
    ("rules", "error"), [(r, e) for _, r, e in BAD_RULES], ids=[i for i, _, _ in BAD_RULES]
)
def test_invalid_rules_name_their_line_and_reason(rules: str, error: str) -> None:
    """Each kind of mistake is refused with ``rules.yaml line N: <where>: <reason>``."""
    assert _errors(rules) == [error]


def test_every_problem_is_reported_at_once() -> None:
    """Problems in several rules come together, sorted by line."""
    errors = _errors(
        """\
        - name: a
          match: {type: order.placed}
          message: m
        - name: b
          match: {type: sensor.reading}
          message: m
          channels: [nope]
        """
    )
    assert [e.split(":")[0] for e in errors] == ["rules.yaml line 6", "rules.yaml line 11"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "rules.yaml line 1: the file is empty: expected a mapping with `rules:`"),
        ("rules: [\n  {name: a\n", "rules.yaml line 3: not valid YAML: "),
        ("version: 2\nrules: []\n", "rules.yaml line 1: version: Input should be 1"),
        ("rules: {}\n", "rules.yaml line 1: rules: Input should be a valid list"),
        ("- a\n- b\n", "rules.yaml line 1: Input should be a valid dictionary or instance of RuleFileSpec"),
        ("{1: x}\n", "rules.yaml line 1: keys must be text"),
        (
            "defaults: {channels: [log]}\nwebhooks:\n  hook: {url: ftp://x, secret: s}\nrules: []\n",
            "rules.yaml line 3: webhooks.hook.url: 'ftp://x' is not an http(s) URL",
        ),
        (
            "webhooks:\n  hook: {url: http://x, secret_env: NOT_SET}\nrules: []\n",
            "rules.yaml line 2: webhooks.hook.secret_env: environment variable NOT_SET is not set",
        ),
        (
            "webhooks:\n  sns: {url: http://x, secret: s}\nrules: []\n",
            "rules.yaml line 2: webhooks.sns: 'sns' is a built-in channel: name the webhook otherwise",
        ),
        (
            "webhooks:\n  hook: {url: http://x}\nrules: []\n",
            "rules.yaml line 2: webhooks.hook: a webhook needs exactly one of `secret_arn:` (Secrets"
            " Manager), `secret_env:` (an environment variable), `secret_file:` or `secret:`",
        ),
        (
            "webhooks:\n  hook: {url: 'http://169.254.169.254/x', secret: s, allow_private: true}\n"
            "rules: []\n",
            "rules.yaml line 2: webhooks.hook: the url's host 169.254.169.254 is a link-local or cloud"
            " metadata address",
        ),
        (
            "webhooks:\n  hook: {url: 'http://10.0.0.1/x', secret: s}\nrules: []\n",
            "rules.yaml line 2: webhooks.hook: the url's host 10.0.0.1 is a loopback or private address (set"
            " allow_private: true on the webhook to allow it)",
        ),
        (
            "rules:\n  - {name: a, match: {type: cat.sighting}, message: m}\n",
            "rules.yaml line 2: rules[0] (a) channels: no channels: set `channels:` here or under"
            " `defaults:`",
        ),
    ],
    ids=[
        "empty",
        "not-yaml",
        "version",
        "rules-not-a-list",
        "not-a-mapping",
        "non-text-key",
        "webhook-url",
        "webhook-secret-env",
        "webhook-builtin-name",
        "webhook-no-secret",
        "webhook-metadata-address",
        "webhook-private-address",
        "no-channels",
    ],
)
def test_invalid_files_name_their_line(text: str, error: str) -> None:
    """File-level problems point at their line too."""
    with pytest.raises(RulesError) as caught:
        parse_rules(text, source="rules.yaml", subscriptions=MANIFEST.consumes, environ={})
    assert caught.value.lines()[0].startswith(error)


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    """A missing file is a RulesError too, naming the path."""
    with pytest.raises(RulesError, match=r"missing\.yaml line 1: cannot read the rules file"):
        load_rules(tmp_path / "missing.yaml", subscriptions=MANIFEST.consumes)
