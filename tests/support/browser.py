"""Headless Chromium from the command line: a page's DOM after its scripts ran, and screenshots.

Each look starts a fresh browser (``--headless``, no sandbox, no GPU, no network but what the page asks
for) with ``--virtual-time-budget``: the browser runs the page's timers and fetches for that much virtual
time, then dumps or shoots. Debian's ``chromium`` package provides it (``make chromium`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


class BrowserError(RuntimeError):
    """Chromium is missing or a look failed."""


def find_chromium() -> str:
    """The Chromium binary.

    Raises:
        BrowserError: none installed (``make chromium``, or ``apt-get install -y chromium``).
    """
    found = shutil.which("chromium") or next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)
    if found is None:
        raise BrowserError("no chromium on this machine: run `make chromium` (apt-get install -y chromium)")
    return found


class Browser:
    """Headless looks at pages. ``budget_ms`` is the virtual time each look lets the page run."""

    def __init__(
        self, *, budget_ms: int = 2500, size: tuple[int, int] = (1400, 2400), timeout_s: float = 120
    ):
        self._binary = find_chromium()
        self._budget_ms = budget_ms
        self._size = size
        self._timeout_s = timeout_s

    def _run(self, url: str, *extra: str) -> str:
        with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
            args = [
                self._binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={self._size[0]},{self._size[1]}",
                f"--virtual-time-budget={self._budget_ms}",
                *extra,
                url,
            ]
            try:
                done = subprocess.run(
                    args, capture_output=True, text=True, timeout=self._timeout_s, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise BrowserError(f"chromium took over {self._timeout_s:.0f} s on {url}") from exc
        if done.returncode != 0:
            raise BrowserError(f"chromium exited {done.returncode} on {url}: {done.stderr[-500:]}")
        return done.stdout

    def dom(self, url: str) -> str:
        """The page's DOM (HTML, inline SVG included) once its scripts ran for the budget."""
        return self._run(url, "--dump-dom")

    def screenshot(self, url: str, path: Path) -> Path:
        """A PNG of the page after the budget."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._run(url, f"--screenshot={path}")
        if not path.exists() or path.stat().st_size == 0:
            raise BrowserError(f"chromium wrote no screenshot of {url}")
        return path
