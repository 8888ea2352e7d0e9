"""Webhook secrets from Secrets Manager (moto) and from a file: read at load, never shown in problems."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from notifier.adapters.secrets import SecretsManagerReader
from notifier.manifest import MANIFEST
from notifier.ports import SecretUnavailable
from notifier.rules.loader import RulesError, parse_rules

RULES = (
    "defaults: {{channels: [hook]}}\nwebhooks:\n  hook: {{url: 'https://hooks.example/x', {secret}}}\n"
    "rules: []\n"
)


def test_a_secret_arn_is_read_from_secrets_manager(aws: None) -> None:
    """``secret_arn:`` resolves through the reader; the target signs with the secret's string."""
    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn = client.create_secret(Name="tributary/hooks/ops", SecretString="s3cret-from-sm")["ARN"]
    rules = parse_rules(
        RULES.format(secret=f"secret_arn: '{arn}'"),
        subscriptions=MANIFEST.consumes,
        secret_arns=SecretsManagerReader(client),
    )
    assert rules.webhooks["hook"].secret == "s3cret-from-sm"
    assert "s3cret" not in repr(rules.webhooks["hook"])


def test_a_missing_secret_is_a_problem_naming_the_arn(aws: None) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    with pytest.raises(SecretUnavailable, match="ResourceNotFoundException"):
        SecretsManagerReader(client)(arn)
    with pytest.raises(RulesError, match=f"webhooks.hook.secret_arn: cannot read {arn}"):
        parse_rules(
            RULES.format(secret=f"secret_arn: '{arn}'"),
            subscriptions=MANIFEST.consumes,
            secret_arns=SecretsManagerReader(client),
        )


def test_a_secret_file_is_read_and_an_unreadable_one_is_a_problem(tmp_path: Path) -> None:
    """``secret_file:`` holds the secret (trailing newline dropped); a missing file is named, not echoed."""
    path = tmp_path / "hook.secret"
    path.write_text("file-secret\n", encoding="utf-8")
    rules = parse_rules(RULES.format(secret=f"secret_file: '{path}'"), subscriptions=MANIFEST.consumes)
    assert rules.webhooks["hook"].secret == "file-secret"
    with pytest.raises(RulesError, match="secret_file: cannot read the secret file: FileNotFoundError"):
        parse_rules(
            RULES.format(secret=f"secret_file: '{tmp_path / 'none'}'"), subscriptions=MANIFEST.consumes
        )
