"""The console in a real browser: headless Chromium loads it while events flow and a poisoned message
dead-letters, and the page shows both.

The stack's description names the console (``console_url``: ``tributary up`` and every local stack serve
one); on a given stack that names none, the test serves one from the description itself. Each look is a
fresh headless Chromium that runs the page's scripts for a few seconds of virtual time, then dumps its DOM
or shoots it. The screenshots stay in the test's tmp folder and are copied to ``test-artifacts/console/``
at the repository root (the path is printed; ``-s`` shows it).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.testkit.waiting import wait_for
from tests.support.browser import Browser
from tributary.client import StackClient
from tributary.console.server import ConsoleServer
from tributary.console.source import StackSource
from tributary.producers import domain_events

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
POISONED = "timeseries_writer"  # no other test of the session stack counts this DLQ


@pytest.fixture(scope="module")
def console_url(stack_description: dict[str, Any]) -> Iterator[str]:
    """The stack's own console, or one served here for a stack that names none."""
    if stack_description.get("console_url"):
        yield stack_description["console_url"]
        return
    server = ConsoleServer(StackSource(lambda: stack_description))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Browser:
    return Browser()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory, emulator_name: str) -> Iterator[Path]:
    """Where screenshots go; each is copied to test-artifacts/console/<emulator>-<name> afterwards."""
    folder = tmp_path_factory.mktemp(f"console-{emulator_name}")
    yield folder
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for shot in sorted(folder.glob("*.png")):
        shutil.copy2(shot, ARTIFACTS / f"{emulator_name}-{shot.name}")
    print(f"\nconsole screenshots: {folder} and {ARTIFACTS}")


def metric(dom: str, element_id: str) -> int | None:
    """The count a topology box shows (``<text id=…><tspan class="big">1,234</tspan>``)."""
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*><tspan class="big">([0-9,]+)<', dom)
    return int(match.group(1).replace(",", "")) if match else None


class Flow:
    """Publishes the demo domains' events through ingest in small requests until stopped."""

    def __init__(self, stack: StackClient) -> None:
        self._stack = stack
        self._stop = threading.Event()
        self.ids: list[str] = []
        self._thread = threading.Thread(target=self._run, name="flow", daemon=True)

    def _run(self) -> None:
        events = domain_events(40, seed=23)
        while not self._stop.is_set():
            for start in range(0, len(events), 10):  # ~10 events/s: the session stack is shared
                result = self._stack.publish(events[start : start + 10])
                self.ids += [item["id"] for item in result.accepted]
                if self._stop.wait(1.0):
                    return

    def __enter__(self) -> Flow:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


@dataclass(frozen=True)
class Poison:
    """A message no worker can read, and its marker (the event id it claims)."""

    marker: str
    body: str


@pytest.fixture
def poison(stack: StackClient) -> Iterator[Poison]:
    """A poison message to send to POISONED's queue; afterwards its letter is deleted from the DLQ, so the
    shared stack's DLQs are left as the test found them (also when it failed)."""
    marker = f"poison-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"detail-type": "sensor.reading.v1", "detail": {"id": marker, "type": 7}})
    yield Poison(marker=marker, body=body)
    _remove(stack.aws("sqs"), stack.description["queues"][POISONED]["dlq_url"], body)


def test_numbers_move_as_events_arrive_and_a_poisoned_dlq_shows_its_reason(
    stack: StackClient, console_url: str, browser: Browser, shots: Path, poison: Poison
) -> None:
    """Accepted and stored counts on the page grow while events flow; a poison message sent to
    timeseries_writer's queue shows up in the page's dead letters with its reason and redrive command."""
    first = browser.dom(console_url + "/")
    accepted_before = metric(first, "m-accepted-total")
    stored_before = metric(first, "m-processed-archiver")
    assert accepted_before is not None and stored_before is not None, "the topology did not draw"
    browser.screenshot(console_url + "/", shots / "1-before.png")

    sqs = stack.aws("sqs")
    marker = poison.marker
    with Flow(stack) as flow:
        sqs.send_message(QueueUrl=stack.description["queues"][POISONED]["url"], MessageBody=poison.body)

        def moved() -> tuple[int, int] | None:
            dom = browser.dom(console_url + "/")
            accepted, stored = metric(dom, "m-accepted-total"), metric(dom, "m-processed-archiver")
            grew = accepted and stored and accepted > accepted_before and stored > stored_before
            return (accepted, stored) if grew else None

        what = f"the page's counts to grow from {accepted_before} accepted, {stored_before} stored"
        assert wait_for(moved, timeout_s=180, interval_s=1, what=what)
        browser.screenshot(console_url + "/", shots / "2-flowing.png")

        def dead_letter_shown() -> str | None:
            dom = browser.dom(console_url + "/")
            block = re.search(rf'id="dlq-{POISONED}".*?</table>', dom, flags=re.DOTALL)
            return block.group(0) if block and marker in block.group(0) else None

        what = f"the page to show the dead letter {marker} of {POISONED}"
        block = wait_for(dead_letter_shown, timeout_s=180, interval_s=1, what=what)
        assert "permanent" in block and "ContractError" in block
        assert f"tributary dlq redrive {POISONED}" in block and f"--filter id={marker}" in block
        traced = next(iter(flow.ids), None)
    assert traced, "ingest accepted nothing"

    query = f"/?node=device:dev-0000&metric=temperature&span=1440&bucket=1h&trace={traced}"
    if stack.description.get("traces"):

        def waterfall() -> str | None:
            dom = browser.dom(console_url + query)
            return dom if 'class="wf-row"' in dom and "archiver" in dom.split('id="trace"', 1)[-1] else None

        assert wait_for(waterfall, timeout_s=120, interval_s=1, what=f"a trace waterfall of {traced}")

    panels: dict[str, bool] = {}

    def drawn() -> bool:
        """Both of the device's panels (the series store may lag the trace the page was waited on for)."""
        dom = browser.dom(console_url + query)
        panels.update(graph='class="gnode center"' in dom, series='class="series-line"' in dom)
        return all(panels.values())

    what = "dev-0000's graph neighbourhood and temperature chart to be drawn"
    assert wait_for(drawn, timeout_s=60, interval_s=1, what=what, seen=lambda: f"drawn: {panels}")
    browser.screenshot(console_url + query, shots / "3-dead-letters-trace-graph-series.png")


def _remove(sqs: Any, url: str, body: str, timeout_s: float = 60) -> None:
    """Delete the poison letter from the DLQ once it is there (releasing whatever else was read); a letter
    that never arrives (the test failed before) is given ``timeout_s``."""

    def gone() -> bool:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        found = False
        for message in got:
            if message["Body"] == body:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                found = True
            else:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return found

    deadline = time.monotonic() + timeout_s
    while not gone() and time.monotonic() < deadline:
        pass  # gone() waits up to a second per receive
