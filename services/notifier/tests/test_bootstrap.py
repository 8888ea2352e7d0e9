"""Tests of the wiring: settings pick the rules, the state store and the channels."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from notifier.adapters.dynamodb import DynamoStateStore
from notifier.adapters.log import LogChannel
from notifier.adapters.sns import SnsChannel
from notifier.adapters.webhook import WebhookChannel
from notifier.bootstrap import NotifierSettings, build, build_channels, build_store, load, rules_path
from notifier.handler import Notifier
from notifier.rules.loader import RulesError
from shared.service import Service, StartupError

WEBHOOK_RULES = """\
defaults: {channels: [ops, log]}
webhooks:
  ops: {url: "http://127.0.0.1:9/ops", secret_env: OPS_SECRET, allow_private: true}
rules:
  - {name: cats, match: {type: cat.sighting}, message: "{data.cat_id}"}
"""


def _notifier(service: Service) -> Notifier:
    assert isinstance(service.handler, Notifier)
    return service.handler


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A worker's environment without AWS endpoints, its data under tmp_path."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "TRIBUTARY_TOPIC_ALERTS_ARN", "TRIBUTARY_RULES_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("TRIBUTARY_QUEUE_URL", "http://127.0.0.1:1/queue")
    monkeypatch.setenv("TRIBUTARY_DLQ_URL", "http://127.0.0.1:1/dlq")
    monkeypatch.setenv("TRIBUTARY_DATA_DIR", str(tmp_path))
    return tmp_path


def _rules(tmp_path: Path, text: str = WEBHOOK_RULES) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_defaults_run_the_example_rules_on_sqlite_and_sns(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The packaged example, SQLite state under the data folder, SNS to the provisioned topic, log."""
    monkeypatch.setenv(
        "TRIBUTARY_TOPIC_ALERTS_ARN", "arn:aws:sns:us-east-1:000000000000:tributary-notifier-alerts"
    )
    settings = NotifierSettings()  # type: ignore[call-arg]
    assert settings.service == "notifier" and rules_path(settings).name == "rules.example.yaml"
    assert (settings.state_backend, settings.batch_max_wait_ms, settings.absence_interval_s) == (
        "sqlite",
        200,
        30,
    )
    service = build(settings)
    assert (env / "notifier-state.sqlite3").exists() and service.name == "notifier"
    assert set(_notifier(service)._channels) == {"sns", "log"}
    service.close()
    with httpx.Client() as http:
        channels = build_channels(settings, load(settings), http)
    assert isinstance(channels["sns"], SnsChannel) and isinstance(channels["log"], LogChannel)
    assert channels["sns"].topic_arn.endswith(":tributary-notifier-alerts")


def test_sns_without_a_topic_is_refused_at_start(env: Path) -> None:
    """Rules that use sns need ``TRIBUTARY_TOPIC_ALERTS_ARN``; the error names the rules and the setting."""
    with pytest.raises(
        StartupError, match=r"rules co2-high-tokyo, .* deliver to sns, but TRIBUTARY_TOPIC_ALERTS"
    ):
        build(NotifierSettings())  # type: ignore[call-arg]


def test_webhook_rules_need_no_topic(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rules file of webhooks: a WebhookChannel per target, secret from the environment, no SNS."""
    monkeypatch.setenv("TRIBUTARY_RULES_FILE", str(_rules(env)))
    monkeypatch.setenv("OPS_SECRET", "s3cret")
    monkeypatch.setenv("TRIBUTARY_WEBHOOK_ATTEMPTS", "5")
    settings = NotifierSettings()  # type: ignore[call-arg]
    service = build(settings)
    assert set(_notifier(service)._channels) == {"ops", "log"}
    service.close()
    with httpx.Client() as http:
        ops = build_channels(settings, load(settings), http)["ops"]
    assert isinstance(ops, WebhookChannel) and ops._attempts == 5


def test_webhooks_from_settings_override_the_file(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``TRIBUTARY_WEBHOOKS`` (JSON) replaces a target of the same name; its secret stays out of repr."""
    monkeypatch.setenv("TRIBUTARY_RULES_FILE", str(_rules(env)))
    hooks = {"ops": {"url": "http://127.0.0.1:10/other", "secret": "from-settings"}}
    monkeypatch.setenv("TRIBUTARY_WEBHOOKS", json.dumps(hooks))
    settings = NotifierSettings()  # type: ignore[call-arg]
    assert "from-settings" not in repr(settings)
    service = build(settings)
    assert _notifier(service).rules.webhooks["ops"].url == "http://127.0.0.1:10/other"
    service.close()


def test_an_invalid_rules_file_is_refused(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``build`` raises the RulesError with the file's lines."""
    monkeypatch.setenv("TRIBUTARY_RULES_FILE", str(_rules(env, "rules:\n  - {name: x}\n")))
    with pytest.raises(RulesError, match=r"rules\.yaml line 2: rules\[0\] \(x\) match: Field required"):
        build(NotifierSettings())  # type: ignore[call-arg]


def test_dynamodb_is_chosen_by_a_setting(env: Path, monkeypatch: pytest.MonkeyPatch, aws: None) -> None:
    """``TRIBUTARY_STATE_BACKEND=dynamodb`` (what a stack on MiniStack or AWS sets): the DynamoDB store on
    ``TRIBUTARY_STATE_TABLE``, created when ``TRIBUTARY_STATE_TABLE_CREATE`` says so; no SQLite file."""
    monkeypatch.setenv("TRIBUTARY_RULES_FILE", str(_rules(env)))
    monkeypatch.setenv("OPS_SECRET", "s3cret")
    monkeypatch.setenv("TRIBUTARY_STATE_BACKEND", "dynamodb")
    monkeypatch.setenv("TRIBUTARY_STATE_TABLE", "notifier-state-test")
    monkeypatch.setenv("TRIBUTARY_STATE_TABLE_CREATE", "true")
    store, close = build_store(NotifierSettings())  # type: ignore[call-arg]
    assert isinstance(store, DynamoStateStore) and store.table == "notifier-state-test"
    assert store.recent(limit=1) == []
    assert not (env / "notifier-state.sqlite3").exists()
    close()
    build(NotifierSettings()).close()  # type: ignore[call-arg]  # the whole service builds on it too
