"""Headless Chromium for the tests where a browser is the client (CORS preflights, the
browser bundle of socket.io-client)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    """The browser: a test that needs it fails without it (.ci/run installs it)."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is needed: .ci/run installs it (apt-get install chromium)")
    return path


@contextmanager
def browser(url: str) -> Iterator[None]:
    """Headless Chromium on ``url``, with a profile of its own; stopped on exit."""
    with tempfile.TemporaryDirectory() as profile:
        process = subprocess.Popen(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: its helpers stop with it
        )
        try:
            yield
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
