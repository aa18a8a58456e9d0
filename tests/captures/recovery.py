"""Make the recovery captures: ``siocli listen --reconnect --record`` against socket.io 4.8
with connection state recovery (tests/servers/recovery.js), through the relay that cuts the
connection mid-stream (tests/faults/relay.py). Writes tests/data/captures/recovery-*.jsonl.

Also socket.io-client 4.8 (tests/clients/recovery_client.js) against ``siocli serve
--recover 30`` through the same relay, captured with tcpdump on lo (as root):
tests/data/captures/serve-recovery-*.pcap.

Usage (from the repository): .venv/bin/python -m tests.captures.recovery [NAME...]

- ``recovery-websocket``, ``recovery-polling``: cut after a few ticks, recovered.
- ``recovery-expired``: the server keeps a session 300 ms (maxDisconnectionDuration) and the
  client comes back after 1 s: not recovered.
- ``serve-recovery-websocket``, ``serve-recovery-polling``: the Node client recovers.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.faults.relay import Relay, run_relay
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
        cut_after_three_events(subprocess.Popen(command, stdout=subprocess.PIPE, text=True), relay)


def cut_after_three_events(client: subprocess.Popen[str], relay: Relay) -> None:
    """Arm the relay once the client said it got three events; wait for the client."""
    assert client.stdout is not None
    seen = 0
    for line in client.stdout:
        seen += '"type":"event"' in line
        if seen == 3:
            relay.arm()
            seen += 1
    assert client.wait(30) == 0


def make_pcap(name: str, transport: str) -> None:
    serve = [sys.executable, "-m", "siocli", "serve", "--port", "0", "--recover", "30"]
    serve += ["--emit-every", "0.05 tick", "--json", "--ping-interval", "200"]
    serve += ["--ping-timeout", "200"]
    server = subprocess.Popen(serve, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(json.loads(server.stdout.readline())["url"].rsplit(":", 1)[1])
        with run_relay(port, b"tick") as relay:
            capture = [shutil.which("tcpdump") or "tcpdump", "-i", "lo", "-U", "--immediate-mode"]
            capture += ["-s", "0", "-w", str(OUT / f"{name}.pcap"), "tcp", "port", str(relay.port)]
            tcpdump = subprocess.Popen(
                capture,
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
            )
            assert tcpdump.stderr is not None
            assert b"listening on" in tcpdump.stderr.readline()
            spec = {"url": f"http://127.0.0.1:{relay.port}", "transports": [transport]}
            spec |= {"count": 10, "reconnectionDelay": 1000}
            node = [shutil.which("node") or "node", str(CLIENTS / "recovery_client.js")]
            client = subprocess.Popen([*node, json.dumps(spec)], stdout=subprocess.PIPE, text=True)
            cut_after_three_events(client, relay)
            tcpdump.send_signal(signal.SIGINT)
            tcpdump.communicate(timeout=10)
    finally:
        server.terminate()
        server.wait(10)


CLIENTS = Path(__file__).parent.parent / "clients"

if __name__ == "__main__":
    only = set(sys.argv[1:])  # names to make (default: all)
    for name, (transport, server_options) in SCENARIOS.items():
        if not only or name in only:
            make(name, transport, server_options)
            print(f"wrote {OUT / name}.jsonl")
    for transport in ("websocket", "polling"):
        name = f"serve-recovery-{transport}"
        if not only or name in only:
            make_pcap(name, transport)
            print(f"wrote {OUT / name}.pcap")
