"""Real Socket.IO servers for the integration tests, started on 127.0.0.1.

``node4`` (socket.io 4.8, Engine.IO 4), ``node2`` (socket.io 2.5, Engine.IO 3) and ``psio``
(python-socketio under uvicorn): the same behaviour in all three (tests/servers/README.md).
Also python-socketio's client running their scenario (:func:`python_client`), and a plain
HTTP server of a test's own on a free port (:func:`http_server`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
SERVERS = Path(__file__).parent / "servers"
CLIENTS = Path(__file__).parent / "clients"
NODE_MODULES = ROOT / "node" / "node_modules"
KINDS = ("node4", "node2", "psio")
EIO = {"node4": 4, "node2": 3, "psio": 4}


@dataclass
class RunningServer:
    kind: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def eio(self) -> int:
        return EIO[self.kind]

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it stops answering anything, heartbeats included."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)


def node() -> str:
    """The node command, with the reference packages installed: a test that needs them
    fails without them (a skipped test would pass for nothing)."""
    path = shutil.which("node")
    if path is None or not NODE_MODULES.is_dir():
        pytest.fail(f"node and {NODE_MODULES} are needed: .ci/run installs them")
    return path


def _command(kind: str, options: dict[str, object]) -> list[str]:
    spec = json.dumps(options)
    if kind == "psio":
        return [sys.executable, str(SERVERS / "psio.py"), spec]
    return [node(), str(SERVERS / f"{kind}.js"), spec]


@contextmanager
def run_server(kind: str, **options: object) -> Iterator[RunningServer]:
    """Start a server of ``kind``; stop it on exit."""
    process = subprocess.Popen(
        _command(kind, {"port": 0, **options}),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {kind} server did not start")
        yield RunningServer(kind, json.loads(line)["port"], process)
    finally:
        if process.stdout is not None:
            process.stdout.close()
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:  # uvicorn waits for a long-poll it holds
                process.kill()
                process.wait(5)


def python_client(url: str, transport: str) -> list[dict[str, Any]]:
    """python-socketio's client through the servers' scenario
    (tests/clients/psio_recorded_client.py): what it observed, one record a line."""
    done = subprocess.run(
        [sys.executable, str(CLIENTS / "psio_recorded_client.py"), url, transport],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on 127.0.0.1 and a free port, in a thread: its base URL
    (``http://127.0.0.1:PORT``); stopped on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
