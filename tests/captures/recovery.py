"""Make the recovery captures: ``siocli listen --reconnect --record`` against socket.io 4.8
with connection state recovery (tests/servers/recovery.js), through the relay that cuts the
connection mid-stream (tests/faults/relay.py). Writes tests/data/captures/recovery-*.jsonl.

Usage (from the repository): .venv/bin/python -m tests.captures.recovery

- ``recovery-websocket``, ``recovery-polling``: cut after a few ticks, recovered.
- ``recovery-expired``: the server keeps a session 300 ms (maxDisconnectionDuration) and the
  client comes back after 1 s: not recovered.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.faults.relay import run_relay
from tests.realservers import run_server

OUT = Path(__file__).parent.parent / "data" / "captures"
SCENARIOS = {
    "recovery-websocket": ("websocket", {}),
    "recovery-polling": ("polling", {}),
    "recovery-expired": ("websocket", {"maxDisconnectionDuration": 300}),
}


def make(name: str, transport: str, server_options: dict[str, object]) -> None:
    options = {"tickEvery": 50, "pingInterval": 200, "pingTimeout": 200, **server_options}
    with run_server("recovery", **options) as server, run_relay(server.port, b"tick") as relay:
        url = f"http://127.0.0.1:{relay.port}"
        command = [sys.executable, "-m", "siocli", "listen", url, "tick", "--count", "10"]
        command += ["--reconnect", "--reconnect-delay", "1", "--transport", transport]
        command += ["--record", str(OUT / f"{name}.jsonl"), "--json"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        seen = 0
        for line in process.stdout:
            seen += '"type":"event"' in line
            if seen == 3:
                relay.arm()
                seen += 1
        assert process.wait(30) == 0, name


if __name__ == "__main__":
    for name, (transport, server_options) in SCENARIOS.items():
        make(name, transport, server_options)
        print(f"wrote {OUT / name}.jsonl")
