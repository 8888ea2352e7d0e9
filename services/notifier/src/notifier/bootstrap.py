"""The only place the notifier reads settings and builds clients.

``TRIBUTARY_RULES_FILE`` names the rules file (default: the packaged ``rules.example.yaml``).
``TRIBUTARY_STATE_BACKEND`` picks the state store: ``sqlite`` (default: a file under
``TRIBUTARY_DATA_DIR``) or ``dynamodb`` (table ``TRIBUTARY_STATE_TABLE``, on whatever endpoint
``AWS_ENDPOINT_URL`` names: AWS, MiniStack). The SNS channel publishes to ``TRIBUTARY_TOPIC_ALERTS_ARN``,
which provisioning passes for the manifest's ``alerts`` topic; webhook targets come from the rules file
and from ``TRIBUTARY_WEBHOOKS`` (JSON: ``{"name": {"url": …, "secret": …}}``), which wins on a name clash.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Literal

import httpx
import structlog
from pydantic import BaseModel, Field, SecretStr

from notifier.absence import AbsenceWatch
from notifier.adapters.dynamodb import DynamoStateStore
from notifier.adapters.log import LogChannel
from notifier.adapters.secrets import SecretsManagerReader
from notifier.adapters.sns import SnsChannel
from notifier.adapters.sqlite import SqliteStateStore
from notifier.adapters.webhook import WebhookChannel
from notifier.api import build_api
from notifier.handler import DEFAULT_FUTURE_TOLERANCE_S, Notifier
from notifier.manifest import MANIFEST
from notifier.model import DEFAULT_RETENTION_S
from notifier.ports import NotificationChannel, NotificationStateStore
from notifier.rules.loader import load_rules
from notifier.rules.ruleset import LOG, SNS, RuleSet, WebhookTarget
from shared import aws
from shared.observe import traced
from shared.service import Service, StartupError
from shared.settings import WorkerSettings
from shared.sqs import worker_queue

EXAMPLE_RULES = "rules.example.yaml"
ALERTS_TOPIC_ENV = "TRIBUTARY_TOPIC_ALERTS_ARN"


log = structlog.get_logger()

CHANNEL_NAMES = {SNS: "SNS", LOG: "log"}  # as traces name them; other channels are webhooks


class WebhookSetting(BaseModel):
    """A webhook target given in settings."""

    url: str
    secret: SecretStr
    allow_private: bool = False


class NotifierSettings(WorkerSettings):
    """The notifier's settings (``TRIBUTARY_*``): small, prompt batches; alerts should not wait."""

    service: str = MANIFEST.name
    visibility_timeout_s: int = MANIFEST.queue.visibility_timeout_s
    batch_max_events: int = 100
    batch_max_wait_ms: int = 200
    rules_file: Path | None = None
    state_backend: Literal["sqlite", "dynamodb"] = "sqlite"
    state_file: str = "notifier-state.sqlite3"
    state_table: str = "tributary-notifier-state"
    state_table_create: bool = False
    retention_s: float = Field(default=DEFAULT_RETENTION_S, ge=3600)
    topic_alerts_arn: str | None = None
    webhooks: dict[str, WebhookSetting] = Field(default_factory=dict)
    webhook_attempts: int = Field(default=3, ge=1, le=10)
    webhook_backoff_s: float = Field(default=0.5, ge=0)
    webhook_max_backoff_s: float = Field(default=10.0, ge=0)
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    absence_interval_s: float = Field(default=30.0, gt=0)
    sighting_future_tolerance_s: float = Field(default=DEFAULT_FUTURE_TOLERANCE_S, ge=0)


def rules_path(settings: NotifierSettings) -> Path:
    """The rules file in force: the setting, else the packaged example."""
    return settings.rules_file or Path(str(files("notifier") / EXAMPLE_RULES))


def load(settings: NotifierSettings) -> RuleSet:
    """The validated rules (raises :class:`~notifier.rules.loader.RulesError` naming lines)."""
    extra = {
        name: WebhookTarget(
            name=name, url=w.url, secret=w.secret.get_secret_value(), allow_private=w.allow_private
        )
        for name, w in settings.webhooks.items()
    }
    return load_rules(
        rules_path(settings),
        subscriptions=MANIFEST.consumes,
        webhooks=extra,
        secret_arns=lambda arn: SecretsManagerReader(aws.client("secretsmanager"))(arn),
    )


def build_store(settings: NotifierSettings) -> tuple[NotificationStateStore, Callable[[], None]]:
    """The configured state store, its client built here, and how to release it."""
    if settings.state_backend == "dynamodb":
        dynamodb = aws.client("dynamodb")
        dynamo = DynamoStateStore(
            client=dynamodb,
            api=aws.lean_api("dynamodb", enabled=settings.aws_lean_calls, like=dynamodb),
            table=settings.state_table,
            retention_s=settings.retention_s,
        )
        if settings.state_table_create:
            dynamo.ensure_table()
        return dynamo, lambda: None
    sqlite = SqliteStateStore(settings.data_dir / settings.state_file, retention_s=settings.retention_s)
    return sqlite, sqlite.close


def build_channels(
    settings: NotifierSettings, rules: RuleSet, http: httpx.Client
) -> dict[str, NotificationChannel]:
    """A channel for every name the rules use.

    Raises:
        StartupError: a rule delivers to ``sns`` but no topic ARN is set.
    """
    channels: dict[str, NotificationChannel] = {LOG: LogChannel()}
    if SNS in rules.channels:
        if not settings.topic_alerts_arn:
            users = ", ".join(r.name for r in rules.rules if SNS in r.channels)
            raise StartupError(
                f"rules {users} deliver to sns, but {ALERTS_TOPIC_ENV} is not set: provisioning creates the"
                f" topic tributary-{MANIFEST.name}-alerts and passes its ARN; set it, or use other channels"
            )
        channels[SNS] = SnsChannel(client=aws.client("sns"), topic_arn=settings.topic_alerts_arn)
    for name, target in rules.webhooks.items():
        channels[name] = WebhookChannel(
            target=target,
            client=http,
            attempts=settings.webhook_attempts,
            backoff_s=settings.webhook_backoff_s,
            max_backoff_s=settings.webhook_max_backoff_s,
        )
    return channels


def build(settings: NotifierSettings) -> Service:
    """The queue, the batch handler, the absence timer and the read API, wired to real adapters.

    Raises:
        RulesError: the rules file is invalid.
        StartupError: the settings lack something the rules need.
    """
    rules = load(settings)
    log.info("rules_loaded", source=rules.source, rules=len(rules.rules))
    http = httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False)
    try:
        channels = build_channels(settings, rules, http)
        store, close_store = build_store(settings)
    except BaseException:
        http.close()
        raise
    dynamodb = settings.state_backend == "dynamodb"
    notifier = Notifier(
        rules=rules,
        store=traced(store, store="DynamoDB" if dynamodb else "SQLite", aws=dynamodb),
        channels={
            name: traced(channel, store=CHANNEL_NAMES.get(name, f"webhook:{name}"), aws=name == SNS)
            for name, channel in channels.items()
        },
        lease_s=settings.visibility_timeout_s,
        future_tolerance_s=settings.sighting_future_tolerance_s,
        clock=time.time,
    )
    return Service(
        name=MANIFEST.name,
        settings=settings,
        queue=worker_queue(settings),
        handler=notifier,
        consumes=MANIFEST.consumes,
        api=build_api(store=store, rules=rules),
        tasks=[
            AbsenceWatch(
                notifier=notifier,
                store=store,
                interval_s=settings.absence_interval_s,
                max_attempts=settings.max_attempts,
            )
        ],
        closers=[http.close, close_store],
    )
