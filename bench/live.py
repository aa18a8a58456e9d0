"""``siocli listen`` against a flood of events, beside python-socketio, websockets and Node.

    python bench/live.py            # 100,000 events, best of 3 (~2 min)
    python bench/live.py --quick    # 30,000 events, best of 2, 10 start-ups (~40 s)
    python bench/live.py --json     # the results as JSON on stdout
    python bench/live.py --profile  # adds a cProfile of siocli listen on each transport

A local server (bench/live_server.py, "the blaster") sends N pre-encoded
``42["tick",{...}]`` events as fast as the transport takes them, over WebSocket and over
long-polling (16 packets per poll response, the most python-socketio's client accepts, and
``--poll-batch`` per response). Every client runs as a child process, one after the other,
interleaved over the runs: ``siocli listen URL --json --count N > /dev/null``,
python-socketio's ``AsyncClient`` and a bare ``websockets`` client counting frames
(bench/live_clients.py), and socket.io-client 4 (bench/live_node_client.js). The blaster
times each session from its answer to the client's CONNECT to the client's DISCONNECT: the
steady-state rate; the wall-clock time of the whole command (start-up included) is shown
beside it. See bench/README.md. The exit status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import decode_cli  # noqa: E402
from live_server import tick  # noqa: E402

SERVER = BENCH_DIR / "live_server.py"
CLIENTS = BENCH_DIR / "live_clients.py"
NODE_CLIENT = BENCH_DIR / "live_node_client.js"
NODE_MODULES = ROOT / "node" / "node_modules"

PSIO_MAX_PACKETS = 16  # python-engineio's Payload.max_decode_packets: more drops the session

# Targets (informational), from issue 4.
WS_VS_PSIO = 3.0  # WebSocket: siocli >= 3x python-socketio
WS_VS_FLOOR = 0.5  # WebSocket: siocli >= 0.5x the bare websockets client
POLL_VS_PSIO = 3.0  # polling: siocli >= 3x python-socketio
POLL_VS_NODE = 0.8  # polling: siocli >= 0.8x socket.io-client
STARTUP_OVER_PYTHON_MS = 170.0  # `listen ws://...` <= `python -c pass` + 170 ms (medians)


class Blaster:
    """A running bench/live_server.py: its URL, and the record of each finished session."""

    def __init__(self, events: int, batch: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), json.dumps({"events": events, "batch": batch})],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=decode_cli.child_env(),
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the blaster did not start")
        self.url = f"http://127.0.0.1:{json.loads(line)['port']}"
        self.records: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.records.put(json.loads(line))

    def record(self, timeout: float = 2.0) -> dict[str, Any] | None:
        """The next session's record, or ``None`` if the session did not end cleanly."""
        try:
            return self.records.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> None:
        while not self.records.empty():
            self.records.get_nowait()

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def node_available() -> str | None:
    """Why the Node client cannot run, or ``None``."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (NODE_MODULES / "socket.io-client").is_dir():
        return "node/node_modules/socket.io-client is missing (.ci/run installs it)"
    return None


def clients(transport: str, url: str, events: int) -> list[tuple[str, str, list[str]]]:
    """``(key, label, command)`` of every client measured on ``transport``."""
    siocli = decode_cli.siocli_command()
    target = (url.replace("http://", "ws://") if transport == "websocket" else url) + "/"
    rows = [
        (
            "siocli",
            "siocli listen --json",
            [*siocli, "listen", target, "--json", "--count", str(events)],
        ),
        (
            "psio",
            "python-socketio AsyncClient",
            [sys.executable, str(CLIENTS), "psio", url, str(events), transport],
        ),
    ]
    if transport == "websocket":
        bare = [sys.executable, str(CLIENTS), "bare", url, str(events)]
        rows.append(("floor", "websockets, frames counted (floor)", bare))
    node = shutil.which("node") or "node"
    rows.append(
        ("node", "Node socket.io-client 4", [node, str(NODE_CLIENT), url, str(events), transport])
    )
    return rows


def measure(
    name: str, transport: str, batch: int, events: int, repeats: int, log: Any
) -> dict[str, Any]:
    """Every client ``repeats`` times (interleaved) against one blaster: the best run."""
    missing_node = node_available()
    blaster = Blaster(events, batch)
    try:
        commands = clients(transport, blaster.url, events)
        runs: dict[str, list[dict[str, Any]]] = {key: [] for key, _, _ in commands}
        for run in range(repeats):
            log(f"  {name}: run {run + 1} of {repeats} ...")
            for key, _, cmd in commands:
                if not (key == "node" and missing_node):
                    runs[key].append(run_once(blaster, cmd, events))
    finally:
        blaster.close()
    rows: dict[str, dict[str, Any]] = {}
    for key, label, cmd in commands:
        row: dict[str, Any] = {"label": label, "command": decode_cli.show_command(cmd)}
        row["runs"] = runs[key]
        good = [r for r in runs[key] if "events_per_s" in r]
        if key == "node" and missing_node:
            row["note"] = f"skipped: {missing_node}"
        elif not good:
            row["note"] = runs[key][0]["failed"]
        else:
            best = max(good, key=lambda r: r["events_per_s"])
            row.update({k: best[k] for k in ("events_per_s", "steady_s", "wall_s", "maxrss_mib")})
            row["overhead_s"] = best["wall_s"] - best["steady_s"]
        rows[key] = row
    for row in rows.values():
        for base in ("psio", "floor", "node"):
            row[f"vs_{base}"] = _ratio(
                row.get("events_per_s"), rows.get(base, {}).get("events_per_s")
            )
    return {"name": name, "transport": transport, "batch": batch, "rows": rows}


def run_once(blaster: Blaster, cmd: list[str], events: int) -> dict[str, Any]:
    """One run of a client: its steady rate (the blaster's record) and wall-clock time."""
    blaster.drain()
    child = decode_cli.run_child(cmd, env=decode_cli.child_env())
    record = blaster.record()
    result: dict[str, Any] = {"wall_s": child.seconds, "maxrss_mib": child.maxrss_mib}
    if child.status != 0 or record is None or not record.get("seconds"):
        tail = child.stderr.strip().splitlines()[-1:] or ["no message"]
        result["failed"] = f"exit status {child.status}: {tail[0]}"
    else:
        result["steady_s"] = record["seconds"]
        result["events_per_s"] = events / record["seconds"]
        result["end"] = record["end"]
    return result


def check_output(url: str, transport: str, events: int) -> str:
    """One more run of siocli listen, reading its output: every event once, in order."""
    import orjson

    cmd = clients(transport, url, events)[0][2]
    seen: list[int] = []
    other: list[str] = []

    def read(stream: Any) -> None:
        for line in stream:
            record = orjson.loads(line)
            if record["type"] == "event" and record["event"] == "tick":
                seen.append(record["args"][0]["n"])
            else:
                other.append(record["type"])

    child = decode_cli.run_child(cmd, env=decode_cli.child_env(), on_stdout=read)
    if child.status != 0:
        return f"siocli listen over {transport}: exit status {child.status}"
    ok = seen == list(range(events))
    return (
        f"siocli listen over {transport}: {len(seen):,} tick events for {events:,} sent, "
        + ("in order" if ok else "DIFFER (missing, repeated or out of order)")
        + f"; other lines: {', '.join(other) or 'none'}"
    )


def measure_startup(runs: int, log: Any) -> dict[str, Any]:
    """``python -c pass`` against ``siocli listen`` on a closed port (start-up, the first
    connect attempt, the error, exit), from the non-editable install of decode_cli."""
    try:
        bindir = decode_cli.startup_venv(log)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return {"note": f"skipped: {exc}", "rows": {}}
    python, siocli = str(bindir / "python"), str(bindir / "siocli")
    commands: dict[str, tuple[str, list[str], dict[str, str]]] = {
        "python": ("python -c pass", [python, "-c", "pass"], {})
    }
    for scheme in ("ws", "http"):
        url = f"{scheme}://127.0.0.1:1/"
        commands[scheme] = (
            f"siocli listen {url} --timeout 0.1",
            [siocli, "listen", url, "--timeout", "0.1"],
            {},
        )
    refused = 3  # ExitStatus.CONNECT_FAILED: port 1 refuses the connection
    return decode_cli.time_startup(commands, runs, log, {"ws": refused, "http": refused})


def run(
    *,
    quick: bool = False,
    events: int | None = None,
    repeats: int | None = None,
    poll_batch: int = 1000,
    startup_runs: int | None = None,
    check: bool = True,
    with_profile: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Measure everything; the report as a dict (:func:`render` prints it)."""

    def log(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    events = events or (30_000 if quick else 100_000)
    repeats = repeats or (2 if quick else 3)
    runs = startup_runs or (10 if quick else 20)
    scenarios = [
        ("WebSocket", "websocket", PSIO_MAX_PACKETS),
        (f"polling, {PSIO_MAX_PACKETS} packets per response", "polling", PSIO_MAX_PACKETS),
        (f"polling, {poll_batch:,} packets per response", "polling", poll_batch),
    ]
    results = []
    checks = []
    for name, transport, batch in scenarios:
        log(f"live: {name} ({events:,} events, best of {repeats}) ...")
        results.append(measure(name, transport, batch, events, repeats, log))
        if check and (transport == "websocket" or batch != PSIO_MAX_PACKETS):
            blaster = Blaster(events, batch)
            try:
                checks.append(check_output(blaster.url, transport, events))
            finally:
                blaster.close()
    log("live: start-up ...")
    startup = measure_startup(runs, log)

    ws, small, large = (r["rows"] for r in results)
    many, most = f"{poll_batch:,}/poll", f"{PSIO_MAX_PACKETS}/poll"
    wanted = [
        (f"WebSocket: >= {WS_VS_PSIO:g}x python-socketio", ws["siocli"]["vs_psio"], WS_VS_PSIO),
        (f"WebSocket: >= {WS_VS_FLOOR:g}x websockets floor", ws["siocli"]["vs_floor"], WS_VS_FLOOR),
        # "Any number of packets per poll": python-socketio takes 16 at most, so its figure
        # is the one at 16; the same server behaviour for both follows.
        (
            f"polling {many}: >= {POLL_VS_PSIO:g}x python-socketio (at {most}, its most)",
            _ratio(large["siocli"].get("events_per_s"), small["psio"].get("events_per_s")),
            POLL_VS_PSIO,
        ),
        (f"polling {many}: >= {POLL_VS_NODE:g}x Node", large["siocli"]["vs_node"], POLL_VS_NODE),
        (
            f"polling {most}, both: >= {POLL_VS_PSIO:g}x python-socketio",
            small["siocli"]["vs_psio"],
            POLL_VS_PSIO,
        ),
        (f"polling {most}: >= {POLL_VS_NODE:g}x Node", small["siocli"]["vs_node"], POLL_VS_NODE),
    ]
    targets = [
        decode_cli.target_row(f"siocli {label}", v, need, "x", False) for label, v, need in wanted
    ]
    targets.append(
        decode_cli.target_row(
            f"listen ws:// start-up <= python -c pass + {STARTUP_OVER_PYTHON_MS:g} ms",
            startup["rows"].get("ws", {}).get("over_python_ms"),
            STARTUP_OVER_PYTHON_MS,
            "ms",
            True,
        )
    )
    report: dict[str, Any] = {
        "environment": {
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "platform": platform.platform(terse=True),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "siocli": decode_cli.show_command(decode_cli.siocli_command()),
        },
        "events": events,
        "event_example": tick(0),
        "repeats": repeats,
        "scenarios": results,
        "startup": startup,
        "targets": targets,
        "checks": checks,
    }
    if with_profile:
        report["profiles"] = profiles(events, poll_batch, log)
    return report


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value and base else None


def profiles(events: int, poll_batch: int, log: Any) -> dict[str, str]:
    """A cProfile of siocli listen on each transport (bench/.corpus/listen-*.prof)."""
    out = {}
    for transport, batch in (("websocket", PSIO_MAX_PACKETS), ("polling", poll_batch)):
        log(f"live: cProfile of siocli listen over {transport} ...")
        blaster = Blaster(events, batch)
        try:
            args = clients(transport, blaster.url, events)[0][2][len(decode_cli.siocli_command()) :]
            out[transport] = decode_cli.profile(args, f"listen-{transport}")
        finally:
            blaster.close()
    return out


# --- output ----------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    env = report["environment"]
    lines = [
        f"siocli listen, live: {env['siocli']}, {env['python']}, {env['platform']} "
        f"{env['machine']}, {env['cpus']} CPUs",
        f"{report['events']:,} events from bench/live_server.py, each like "
        f"{report['event_example']}, best of {report['repeats']}; output to /dev/null",
    ]
    for scenario in report["scenarios"]:
        polling = scenario["transport"] == "polling"
        bases = ("psio", "node") if polling else ("psio", "floor", "node")
        names = {"psio": "vs psio", "floor": "vs floor", "node": "vs Node"}
        lines += ["", f"{scenario['name'].upper()}"]
        header = (
            f"{'':38} {'events/s':>9} {'steady s':>9} {'wall s':>7} {'start+exit':>10} "
            f"{'peak RSS':>9}" + "".join(f" {names[b]:>9}" for b in bases)
        )
        lines += [header, "-" * len(header)]
        for row in scenario["rows"].values():
            if row.get("events_per_s") is None:
                lines.append(f"  {row['label']:36} {row.get('note', '')}")
                continue
            ratios = "".join(
                f" {row[f'vs_{b}']:>8.2f}x" if row[f"vs_{b}"] else f" {'-':>9}" for b in bases
            )
            lines.append(
                f"  {row['label']:36} {row['events_per_s']:>9,.0f} {row['steady_s']:>9.3f} "
                f"{row['wall_s']:>7.3f} {row['overhead_s']:>8.3f} s {row['maxrss_mib']:>5.1f} MiB"
                + ratios
            )
    lines += ["", *decode_cli.startup_lines(report["startup"], width=48)]
    lines += ["", *decode_cli.target_lines(report["targets"], width=72)]
    if report["checks"]:
        lines += ["", "CHECKS"] + [f"  {c}" for c in report["checks"]]
    lines += [
        "",
        "events/s = events / steady seconds: from the blaster's answer to the client's CONNECT "
        "to its DISCONNECT (or close); wall s: the whole command, start-up and exit included; "
        "start+exit = wall - steady.",
    ]
    for transport, text in report.get("profiles", {}).items():
        lines += ["", f"PROFILE of siocli listen over {transport} (cProfile)", text]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="30,000 events, best of 2")
    parser.add_argument("--events", type=int, metavar="N", help="events per session")
    parser.add_argument("--repeat", type=int, metavar="R", help="runs per client")
    parser.add_argument(
        "--poll-batch", type=int, default=1000, metavar="B", help="packets per poll response"
    )
    parser.add_argument("--startup-runs", type=int, metavar="N", help="runs per start-up figure")
    parser.add_argument("--no-check", action="store_true", help="skip the output check")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--profile", action="store_true", help="append cProfiles of listen")
    args = parser.parse_args(argv)
    report = run(
        quick=args.quick,
        events=args.events,
        repeats=args.repeat,
        poll_batch=args.poll_batch,
        startup_runs=args.startup_runs,
        check=not args.no_check,
        with_profile=args.profile,
        quiet=args.json,
    )
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
