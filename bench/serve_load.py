"""``siocli serve`` under load, against python-socketio's server (uvicorn), in one run.

    python bench/serve_load.py              # 1,000 WebSocket clients, 10 events/s each, 30 s
    python bench/serve_load.py --quick      # 200 clients, 8 s
    python bench/serve_load.py --json       # the results as JSON on stdout
    python bench/serve_load.py --profile    # siocli serve under cProfile (figures not comparable)

Each server runs alone, one after the other, as a child process on 127.0.0.1; the load
comes from separate generator processes (``--generators``, 2 by default), each holding its
share of the clients: Engine.IO 4 WebSocket sessions (``EIO=4&transport=websocket``) that
answer pings, CONNECT ``/``, then send ``42<id>["ping",{...}]`` events asking for acks, at
``--rate`` events/s with jitter, timing every ack. The servers' CPU time and memory come
from ``/proc/<pid>/stat`` and ``/proc/<pid>/status``: no extra dependency. See bench/README.md
("siocli serve under load") for what each figure means. The exit status is 0 whatever the
figures; it is 1 only when a server cannot be started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from decode_cli import show_command  # noqa: E402

PROFILE_FILE = BENCH_DIR / ".corpus" / "serve.prof"  # bench/.corpus/ is gitignored
CLK_TCK = os.sysconf("SC_CLK_TCK")

HOST = "127.0.0.1"
PATH = "/socket.io/"
TEXT = "hello from the load generator"  # in every event, so that a payload has some body
CONNECT_CONCURRENCY = 50  # handshakes in flight per generator: no listen-backlog overflow
CONNECT_TIMEOUT = 60.0  # seconds for a generator to open all its sessions
GRACE = 5.0  # seconds to wait for the window's last acks after the sending stops
SAMPLE_EVERY = 0.5  # seconds between two RSS samples of the server


# --- the load generator (a child process: --generator SPEC) -----------------------------------


class _Client(asyncio.BufferedProtocol):
    """One Engine.IO 4 WebSocket session, on websockets' sans-I/O client protocol: cheaper
    per message than its asyncio client (no task, no queue, and reads into the generator's
    buffer rather than a fresh 256 KiB bytes object each), so that the generator costs less
    CPU than the server it loads."""

    def __init__(self, gen: _Generator, index: int) -> None:
        from websockets.client import ClientProtocol

        self.gen = gen
        self.index = index
        self.ws = ClientProtocol(gen.uri)
        self.transport: asyncio.Transport | None = None
        self.joined: asyncio.Future[None] = gen.loop.create_future()
        self.pending: dict[int, float] = {}  # ack id -> when the event was written
        self.next_id = 0
        self.due = 0.0  # when the next event is planned (loop time)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.gen.read_buffer  # one for all: each read is consumed at once

    def buffer_updated(self, nbytes: int) -> None:
        from websockets.frames import Frame, Opcode

        self.ws.receive_data(bytes(self.gen.read_buffer[:nbytes]))
        for event in self.ws.events_received():
            if not isinstance(event, Frame):  # the handshake's response
                if self.ws.handshake_exc is not None:
                    self._fail(f"handshake: {self.ws.handshake_exc}")
            elif event.opcode is Opcode.TEXT:
                self._message(str(event.data, "utf-8"))
            elif event.opcode in (Opcode.BINARY, Opcode.CONT):
                self.gen.errors["unexpected binary or fragmented frame"] += 1
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.gen.stopping:
            self.gen.disconnects += 1
        self._fail("connection lost")

    def _fail(self, reason: str) -> None:
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(reason))

    def _flush(self) -> None:
        if self.transport is None:
            return
        for chunk in self.ws.data_to_send():
            if chunk:
                self.transport.write(chunk)

    def _send(self, text: str) -> None:
        self.ws.send_text(text.encode())
        self._flush()

    def _message(self, text: str) -> None:
        if text == "2":
            self._send("3")  # Engine.IO 4: the server pings, the client answers
        elif text.startswith("43"):
            self._ack(text)
        elif text.startswith("0"):
            self._send("40")  # the open packet: CONNECT to '/'
        elif text.startswith("40"):
            if not self.joined.done():
                self.joined.set_result(None)
        else:
            self.gen.errors[f"unexpected packet {text[:2]!r}"] += 1

    def _ack(self, text: str) -> None:
        now = self.gen.loop.time()
        gen = self.gen
        bracket = text.find("[", 2)
        try:
            ack_id = int(text[2:bracket])
            sent = self.pending.pop(ack_id)
        except (ValueError, KeyError):
            gen.errors["ack with an unknown id"] += 1
            return
        args = gen.loads(text[bracket:])
        if not (
            len(args) == 1
            and isinstance(args[0], dict)
            and args[0].get("seq") == ack_id
            and args[0].get("client") == self.index
        ):
            gen.errors["ack with other args than the event's"] += 1
        if gen.w0 <= now < gen.w1:
            gen.arrived += 1  # whenever its event was sent: the server's work in the window
        if gen.w0 <= sent < gen.w1:
            gen.acked += 1
            gen.latencies.append(now - sent)

    def tick(self) -> None:
        """Send the next event, and plan the one after (mean 1/rate, +-50% jitter)."""
        gen = self.gen
        if self.transport is None or gen.stopping:
            return
        now = gen.loop.time()
        if now >= gen.w1:
            return  # the window is over: no more events
        ack_id = self.next_id
        self.next_id += 1
        self.pending[ack_id] = now
        self._send(f'42{ack_id}["ping",{{"seq":{ack_id},"client":{self.index},"text":"{TEXT}"}}]')
        if gen.w0 <= now:
            gen.sent += 1
            gen.lags.append(now - self.due)
        # planned from the plan, not from now: a late tick does not lower the rate
        self.due += gen.interval * gen.random.uniform(0.5, 1.5)
        gen.loop.call_at(self.due, self.tick)


class _Generator:
    """One generator process: its clients, its counters, its window."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from websockets.uri import parse_uri

        self.loads: Callable[[str], Any] = json.loads
        with contextlib.suppress(ImportError):
            import orjson

            self.loads = orjson.loads  # a smaller share of the generators' CPU
        self.spec = spec
        self.loop = asyncio.get_running_loop()
        self.uri = parse_uri(f"ws://{HOST}:{spec['port']}{PATH}?EIO=4&transport=websocket")
        self.interval = 1 / spec["rate"]
        self.random = random.Random(spec["seed"])
        self.clients: list[_Client] = []
        self.read_buffer = memoryview(bytearray(65536))
        self.errors: Counter[str] = Counter()
        self.disconnects = 0
        self.connect_failures = 0
        self.stopping = False
        self.w0 = self.w1 = float("inf")
        self.sent = 0
        self.acked = 0
        self.arrived = 0
        self.latencies: list[float] = []
        self.lags: list[float] = []

    async def open(self) -> float:
        """Opens every session (CONNECT answered); returns the seconds it took."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        began = time.monotonic()

        async def one(index: int) -> None:
            client = _Client(self, index)
            async with gate:
                try:
                    await self.loop.create_connection(lambda: client, HOST, self.spec["port"])
                    await asyncio.wait_for(client.joined, 30)
                except (OSError, asyncio.TimeoutError) as exc:
                    self.connect_failures += 1
                    self.errors[f"connect: {type(exc).__name__}"] += 1
                    return
            self.clients.append(client)

        first = self.spec["first"]
        await asyncio.wait_for(
            asyncio.gather(*(one(first + i) for i in range(self.spec["clients"]))),
            CONNECT_TIMEOUT,
        )
        return time.monotonic() - began

    async def run(self, start: float, w0: float, w1: float) -> dict[str, float]:
        """Sends from ``start`` (wall clock) to ``w1``; counts what is sent in [w0, w1)."""
        offset = self.loop.time() - time.time()
        begin, self.w0, self.w1 = start + offset, w0 + offset, w1 + offset
        for client in self.clients:
            client.due = begin + self.random.uniform(0, self.interval)
            self.loop.call_at(client.due, client.tick)
        cpu: dict[str, float] = {}
        self.loop.call_at(self.w0, lambda: cpu.setdefault("w0", _own_cpu()))
        self.loop.call_at(self.w1, lambda: cpu.setdefault("w1", _own_cpu()))
        await asyncio.sleep(max(0.0, self.w1 - self.loop.time()))
        until = self.loop.time() + GRACE
        while self.loop.time() < until and any(
            sent < self.w1 for c in self.clients for sent in c.pending.values()
        ):
            await asyncio.sleep(0.05)
        self.stopping = True
        return cpu

    def close(self) -> None:
        for client in self.clients:
            if client.transport is not None:
                client.transport.close()


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _generate(spec: dict[str, Any]) -> None:
    gen = _Generator(spec)
    took = await gen.open()
    print(json.dumps({"connected": len(gen.clients), "seconds": took}), flush=True)
    line = await gen.loop.run_in_executor(None, sys.stdin.readline)
    go = json.loads(line)
    cpu = await gen.run(go["start"], go["w0"], go["w1"])
    unanswered = sum(1 for c in gen.clients for sent in c.pending.values() if sent >= gen.w0)
    gen.close()
    print(
        json.dumps(
            {
                "connected": len(gen.clients),
                "connect_failures": gen.connect_failures,
                "disconnects": gen.disconnects,
                "errors": dict(gen.errors),
                "sent": gen.sent,
                "acked": gen.acked,
                "arrived": gen.arrived,
                "unanswered": unanswered,
                "latencies": [round(x, 6) for x in gen.latencies],
                "lags": [round(x, 6) for x in gen.lags],
                "cpu_seconds": cpu.get("w1", 0.0) - cpu.get("w0", 0.0),
            }
        ),
        flush=True,
    )


# --- the servers ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def siocli_command(port: int, *, profile: bool, human: bool) -> list[str]:
    cmd = [sys.executable]
    if profile:
        cmd += ["-m", "cProfile", "-o", str(PROFILE_FILE)]
    cmd += ["-m", "siocli", "serve", "--host", HOST, "--port", str(port)]
    return cmd if human else [*cmd, "--json"]


def psio_command(port: int) -> list[str]:
    return [sys.executable, str(BENCH_DIR / "psio_echo.py"), str(port)]


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if process.poll() is not None:
            raise RuntimeError(f"exited with status {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"not listening on {HOST}:{port} after {timeout:.0f} s")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (fields 14 and 15 of /proc/<pid>/stat), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def waited_seconds(pid: int) -> float:
    """How long ``pid`` was ready to run but waited for a CPU (the second field of
    /proc/<pid>/schedstat, in ns): other work on the machine taking the cores."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak so far) of ``pid``, in MiB."""
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) / 1024
    return {"rss": found["VmRSS"], "peak": found["VmHWM"]}


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def _sleep_until(wall: float) -> None:
    time.sleep(max(0.0, wall - time.time()))


def measure(
    name: str, command: list[str], port: int, args: argparse.Namespace, log: Any
) -> dict[str, Any]:
    """Start one server, load it, stop it; everything measured about it."""
    log(f"{name}: {show_command(command)}")
    with tempfile.TemporaryFile() as stderr:
        server = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT, start_new_session=True
        )
        _pin(server.pid, args.server_cpus)
        result: dict[str, Any] = {"name": name, "command": show_command(command)}
        try:
            found = _load(name, server, port, args, result, log)
        finally:
            _stop(server)
            stderr.seek(0)
            result["stderr"] = stderr.read().decode(errors="replace")[-2000:]
    result.update(found)
    result["events_per_s"] = result["sent"] / result["window_seconds"]
    log(
        f"{name}: {result['cpu_percent']:.0f}% CPU, p50 {result['latency_ms']['p50']:.2f} ms, "
        f"p99 {result['latency_ms']['p99']:.2f} ms, {result['acked']:,}/{result['sent']:,} acks"
    )
    return result


def _load(
    name: str,
    server: subprocess.Popen[bytes],
    port: int,
    args: argparse.Namespace,
    result: dict[str, Any],
    log: Any,
) -> dict[str, Any]:
    """The generators' run against ``server``, and what /proc says about it meanwhile."""
    generators: list[subprocess.Popen[str]] = []
    try:
        _wait_listening(port, server)
        time.sleep(1.0)  # imports settled
        result["rss_idle_mib"] = memory_mib(server.pid)["rss"]
        share, extra = divmod(args.clients, args.generators)
        first = 0
        for number in range(args.generators):
            count = share + (1 if number < extra else 0)
            spec = {"port": port, "clients": count, "first": first, "rate": args.rate}
            spec["seed"] = args.seed + number
            first += count
            generators.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--generator", json.dumps(spec)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
            )
            _pin(generators[-1].pid, args.load_cpus)
        opened = [json.loads(_read_line(g)) for g in generators]
        result["connected"] = sum(o["connected"] for o in opened)
        result["connect_seconds"] = max(o["seconds"] for o in opened)
        log(f"{name}: {result['connected']} sessions open in {result['connect_seconds']:.1f} s")
        start = time.time() + 0.5
        w0 = start + args.warmup
        w1 = w0 + args.duration
        for g in generators:
            assert g.stdin is not None
            g.stdin.write(json.dumps({"start": start, "w0": w0, "w1": w1}) + "\n")
            g.stdin.flush()
        _sleep_until(w0)
        cpu0, load0 = cpu_seconds(server.pid), os.getloadavg()[0]
        wait0 = waited_seconds(server.pid)
        samples = []
        while time.time() < w1 - SAMPLE_EVERY / 2:
            samples.append(memory_mib(server.pid)["rss"])
            _sleep_until(min(w1, time.time() + SAMPLE_EVERY))
        _sleep_until(w1)
        cpu1, load1 = cpu_seconds(server.pid), os.getloadavg()[0]
        wait1 = waited_seconds(server.pid)
        reports = [json.loads(_read_line(g)) for g in generators]
        memory = memory_mib(server.pid)
        for g in generators:
            g.wait(10)
    finally:
        for g in generators:
            if g.poll() is None:
                g.kill()
                g.wait()
    latencies = sorted(x for r in reports for x in r["latencies"])
    lags = sorted(x for r in reports for x in r["lags"])
    errors: Counter[str] = Counter()
    for r in reports:
        errors.update(r["errors"])
    return dict(
        window_seconds=w1 - w0,
        cpu_seconds=cpu1 - cpu0,
        cpu_percent=100 * (cpu1 - cpu0) / (w1 - w0),
        cpu_wait_percent=100 * (wait1 - wait0) / (w1 - w0),
        rss_steady_mib=statistics.median(samples),
        rss_end_mib=memory["rss"],
        rss_peak_mib=memory["peak"],
        sent=sum(r["sent"] for r in reports),
        acked=sum(r["acked"] for r in reports),
        arrived=sum(r["arrived"] for r in reports),
        unanswered=sum(r["unanswered"] for r in reports),
        connect_failures=sum(r["connect_failures"] for r in reports),
        disconnects=sum(r["disconnects"] for r in reports),
        errors=dict(errors),
        latency_ms={
            "p50": 1000 * _percentile(latencies, 0.50),
            "p99": 1000 * _percentile(latencies, 0.99),
            "max": 1000 * (latencies[-1] if latencies else float("nan")),
        },
        generators=[
            {
                "cpu_percent": 100 * r["cpu_seconds"] / (w1 - w0),
                "lag_p99_ms": 1000 * _percentile(sorted(r["lags"]), 0.99),
            }
            for r in reports
        ],
        send_lag_ms={"p50": 1000 * _percentile(lags, 0.5), "p99": 1000 * _percentile(lags, 0.99)},
        loadavg=[load0, load1],
    )


def _pin(pid: int, cpus: list[int]) -> None:
    if cpus:
        os.sched_setaffinity(pid, cpus)


def _read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"a generator exited with status {process.wait()}")
    return line


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGINT, as Ctrl-C (so that cProfile writes its file); SIGKILL if that is not enough."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def profile_text(limit: int = 40) -> str:
    """The profile by own time (by cumulative time, a server's top is its event loop)."""
    out = io.StringIO()
    pstats.Stats(str(PROFILE_FILE), stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def run(args: argparse.Namespace, log: Any) -> dict[str, Any]:
    from siocli import __version__

    servers = {
        "siocli": lambda port: siocli_command(port, profile=args.profile, human=args.human),
        "python-socketio": psio_command,
    }
    if args.only:
        servers = {args.only: servers[args.only]}
    if args.profile:
        PROFILE_FILE.parent.mkdir(exist_ok=True)
        PROFILE_FILE.unlink(missing_ok=True)  # a stale profile is not shown as this run's
    report: dict[str, Any] = {
        "environment": {
            "siocli": __version__,
            "python": platform.python_version(),
            "platform": platform.system(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "loadavg_before": list(os.getloadavg()),
        },
        "load": {
            "clients": args.clients,
            "rate": args.rate,
            "duration": args.duration,
            "warmup": args.warmup,
            "generators": args.generators,
            "server_cpus": args.server_cpus,
            "generator_cpus": args.load_cpus,
        },
        "profiled": args.profile,
        "view": "human" if args.human else "json",
        "servers": {},
    }
    for name, command in servers.items():
        port = _free_port()
        try:
            report["servers"][name] = measure(name, command(port), port, args, log)
        except RuntimeError as exc:
            report["servers"][name] = {"name": name, "note": f"failed: {exc}"}
    if args.profile and PROFILE_FILE.exists():
        report["profile"] = profile_text()
    return report


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return "<0.01x" if a / b < 0.01 else f"{a / b:.2f}x"


ROWS = [  # label, how to read it from a server's result, format, with a ratio
    ("CPU (% of one core)", lambda s: s["cpu_percent"], "{:.1f}", True),
    ("CPU seconds in the window", lambda s: s["cpu_seconds"], "{:.2f}", False),
    ("CPU per ack (us)", lambda s: 1e6 * s["cpu_seconds"] / s["arrived"], "{:.1f}", True),
    ("waiting for a CPU (%)", lambda s: s["cpu_wait_percent"], "{:.1f}", False),
    ("RSS idle (MiB)", lambda s: s["rss_idle_mib"], "{:.1f}", True),
    ("RSS steady (MiB, median)", lambda s: s["rss_steady_mib"], "{:.1f}", True),
    ("RSS peak (MiB, VmHWM)", lambda s: s["rss_peak_mib"], "{:.1f}", True),
    ("ack latency p50 (ms)", lambda s: s["latency_ms"]["p50"], "{:.2f}", True),
    ("ack latency p99 (ms)", lambda s: s["latency_ms"]["p99"], "{:.2f}", True),
    ("ack latency max (ms)", lambda s: s["latency_ms"]["max"], "{:.2f}", True),
    ("events sent in the window", lambda s: s["sent"], "{:,}", False),
    ("their acks received", lambda s: s["acked"], "{:,}", False),
    ("acks arriving in the window", lambda s: s["arrived"], "{:,}", False),
    ("events/s", lambda s: s["events_per_s"], "{:,.0f}", False),
    ("sessions open", lambda s: s["connected"], "{:,}", False),
    ("connect failures", lambda s: s["connect_failures"], "{:,}", False),
    ("disconnects", lambda s: s["disconnects"], "{:,}", False),
    ("errors", lambda s: sum(s["errors"].values()), "{:,}", False),
]


def render(report: dict[str, Any]) -> str:
    env, load = report["environment"], report["load"]
    servers = report["servers"]
    names = list(servers)
    lines = [
        f"siocli serve under load: {env['siocli']}, Python {env['python']}, {env['platform']} "
        f"{env['machine']}, {env['cpus']} CPUs, load average before "
        f"{env['loadavg_before'][0]:.2f}",
        f"{load['clients']:,} WebSocket clients x {load['rate']:g} events/s with acks, "
        f"{load['duration']:g} s window after {load['warmup']:g} s warm-up, "
        f"{load['generators']} generator processes; siocli serve's output ({report['view']} "
        "view) to /dev/null",
        (
            f"servers on CPU {load['server_cpus']}, generators on CPU {load['generator_cpus']}"
            if load["server_cpus"]
            else "servers and generators on any CPU (not pinned)"
        ),
    ]
    if report["profiled"]:
        lines.append("PROFILED RUN: siocli serve under cProfile; its figures are not comparable")
    lines.append("")
    ratio = len(names) == 2 and all("note" not in s for s in servers.values())
    header = f"{'':30}" + "".join(f"{n:>17}" for n in names)
    header += f"{'siocli/psio':>13}" if ratio else ""
    lines += [header, "-" * len(header)]
    for s in servers.values():
        if "note" in s:
            lines.append(f"  {s['name']}: {s['note']}")
    for label, value, fmt, with_ratio in ROWS:
        cells = [value(s) if "note" not in s else None for s in servers.values()]
        row = f"  {label:28}" + "".join(f"{'-' if c is None else fmt.format(c):>17}" for c in cells)
        if ratio and with_ratio:
            row += f"{_ratio(cells[0], cells[1]):>13}"
        lines.append(row)
    lines += ["", "LOAD GENERATORS (the limit would show as ~100% CPU or a send lag in ms)"]
    for s in servers.values():
        if "note" in s:
            continue
        gens = ", ".join(
            f"{g['cpu_percent']:.0f}% CPU (lag p99 {g['lag_p99_ms']:.1f} ms)"
            for g in s["generators"]
        )
        lines.append(
            f"  {s['name']:16} {gens}; load average {s['loadavg'][0]:.2f} -> {s['loadavg'][1]:.2f}"
        )
        if s["errors"]:
            lines.append(f"  {'':16} errors: {s['errors']}")
        if s["stderr"].strip():
            lines.append(f"  {'':16} stderr: {s['stderr'].strip()[-300:]}")
    lines += [
        "",
        "CPU = utime+stime of the server process over the window (/proc/<pid>/stat) / window; "
        "waiting for a CPU = time runnable but not running (/proc/<pid>/schedstat) / window; "
        "RSS from /proc/<pid>/status; ack latency = event written -> its ack read, in the "
        "generator; ratios: siocli / python-socketio (below 1: siocli uses less).",
    ]
    if "profile" in report:
        lines += ["", "PROFILE of siocli serve (cProfile, by own time)", report["profile"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, help="WebSocket clients (default 1000)")
    parser.add_argument("--rate", type=float, default=10.0, help="events/s per client")
    parser.add_argument("--duration", type=float, help="measured seconds (default 30)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--generators", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not put the server and the generators apart"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200 clients, 8 s")
    parser.add_argument("--only", choices=["siocli", "python-socketio"])
    parser.add_argument(
        "--human", action="store_true", help="siocli serve's terminal view instead of --json"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="run siocli serve under cProfile, show the top"
    )
    parser.add_argument("--generator", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generator:
        asyncio.run(_generate(json.loads(args.generator)))
        return 0
    args.clients = args.clients or (200 if args.quick else 1000)
    args.duration = args.duration or (8.0 if args.quick else 30.0)
    # the server on one CPU, the generators on the others: they do not take its core
    cpus = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cpus) >= 2
    args.server_cpus, args.load_cpus = (cpus[:1], cpus[1:]) if pin else ([], [])

    def log(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    report = run(args, log)
    print(json.dumps(report, indent=2) if args.json else render(report))
    failed = any("note" in s for s in report["servers"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
