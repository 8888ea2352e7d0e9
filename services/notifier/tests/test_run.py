"""Tests of the notifier under the services' entry point (``python -m shared.run notifier``): a rules file or
settings it cannot run are refused before anything starts, and a refusal never echoes a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRIBUTARY_"))}
    base |= {
        "TRIBUTARY_QUEUE_URL": "http://127.0.0.1:1/queue",
        "TRIBUTARY_DLQ_URL": "http://127.0.0.1:1/dlq",
        "TRIBUTARY_DATA_DIR": str(tmp_path),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return subprocess.run(
        [sys.executable, "-m", "shared.run", "notifier"],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_invalid_rules_file_exits_2_naming_each_line(tmp_path: Path) -> None:
    """Every problem goes to stderr with its line, and to the log as ``startup_refused``; exit status 2."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "defaults: {channels: [log]}\nrules:\n"
        "  - name: hot\n    match: {type: sensor.reading}\n    when:\n      - {path: data.temp, gt: 80}\n"
        "    message: m\n"
        "  - name: orders\n    match: {type: order.placed}\n    message: m\n",
        encoding="utf-8",
    )
    result = _run(tmp_path, TRIBUTARY_RULES_FILE=str(rules))
    assert result.returncode == 2
    assert result.stderr.splitlines()[1:] == [
        f"{rules} line 6: rules[0] (hot) when[0].path: data.temp is not a field of sensor.reading v2"
        " (data has: device_id, metric, quality, quantity, site_id)",
        f"{rules} line 9: rules[1] (orders) match.type: 'order.placed' is not an event type the notifier"
        " consumes (cat.sighting, ops.dlq_depth, sensor.reading, trade.completed)",
    ]
    [logged] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (logged["event"], logged["level"], len(logged["problems"])) == ("startup_refused", "error", 2)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TRIBUTARY_TOPIC_ALERTS_ARN is not set"),
        ({"TRIBUTARY_STATE_BACKEND": "postgres"}, "invalid setting TRIBUTARY_STATE_BACKEND (literal_error)"),
        ({"TRIBUTARY_WEBHOOKS": "{not json"}, "invalid settings"),
    ],
    ids=["sns-without-topic", "unknown-backend", "bad-webhooks-json"],
)
def test_settings_it_cannot_run_exit_2(tmp_path: Path, env: dict[str, str], message: str) -> None:
    """The example rules without a topic, an unknown backend, malformed JSON: refused with the reason."""
    result = _run(tmp_path, **env)
    assert result.returncode == 2
    assert "notifier: refusing to start" in result.stderr and message in result.stderr


def test_a_refused_setting_is_named_never_echoed(tmp_path: Path) -> None:
    """A webhook whose secret is given but whose URL is missing: the variable is named, the secret is not."""
    hooks = json.dumps({"ops": {"secret": "hunter2-secret"}})
    result = _run(tmp_path, TRIBUTARY_WEBHOOKS=hooks, TRIBUTARY_MAX_ATTEMPTS="many")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "notifier: refusing to start:",
        "invalid setting TRIBUTARY_MAX_ATTEMPTS (int_parsing)",
        "missing setting TRIBUTARY_WEBHOOKS.ops.url",
    ]
    assert "hunter2" not in result.stderr + result.stdout and "many" not in result.stderr
