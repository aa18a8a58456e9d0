"""``siocli proxy`` against a direct connection, in the same run.

    python bench/proxy.py            # latency 10 s, throughput 100,000 events x3, memory 120 s
    python bench/proxy.py --quick    # latency 5 s, 30,000 events x2, memory 30 s
    python bench/proxy.py --json     # the results as JSON on stdout

The server is the tests' socket.io 4 application (tests/servers/node4.js); the client is
socket.io-client 4 over WebSocket (bench/proxy_client.js), once connected directly and once
through ``siocli proxy`` (its live view written to a file, or ``--json`` to a file).

- Added latency: ``hello`` with an ack, 1,000 a second; each round trip timed by the client.
  The added latency is the proxy's percentile minus the direct one (the proxy is crossed
  twice per round trip: the figure covers both directions).
- Throughput: the server emits N ``tick`` events at once (``burst``); the client times their
  arrival. Ratio: through the proxy / direct (target >= 0.5 with the live view on).
- Memory: the latency load through the proxy for ``--memory-seconds``; the resident set
  size of the proxy and its view worker, sampled every second after a warm-up. The
  issue's target is a 10-minute run growing by less than 16 MiB; the default here is
  shorter (say ``--memory-seconds 600``).

The exit status is 0 whatever the figures: the targets are printed, never enforced.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SERVER = ROOT / "tests" / "servers" / "node4.js"
CLIENT = BENCH_DIR / "proxy_client.js"
TARGET_P50_MS, TARGET_P99_MS = 1.0, 5.0
TARGET_THROUGHPUT = 0.5
TARGET_GROWTH_MIB = 16.0


@contextlib.contextmanager
def node_server() -> Iterator[str]:
    process = subprocess.Popen(
        [_node(), str(SERVER), json.dumps({"port": 0})], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = json.loads(process.stdout.readline())["port"]
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def proxy(target: str, view: Path, *options: str) -> Iterator[tuple[str, int]]:
    """``siocli proxy`` with its live view written to ``view``: (its URL, its pid)."""
    siocli = shutil.which("siocli", path=str(Path(sys.executable).parent)) or "siocli"
    with open(view, "w") as out:
        process = subprocess.Popen(
            [siocli, "proxy", target, "--listen", "0", *options],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            match = re.search(r"(http://127\.0\.0\.1:\d+) →", process.stderr.readline())
            assert match, "the proxy did not start"
            yield match.group(1), process.pid
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def client(url: str, **spec: Any) -> dict[str, Any]:
    done = subprocess.run(
        [_node(), str(CLIENT), json.dumps({"url": url, **spec})],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert not result.get("timeout"), result
    return dict(result)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    """The resident set of ``pid`` and its children (the proxy's view runs in a worker)."""
    total = 0.0
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        pids = [pid, *map(int, children.read().split())]
    for each in pids:
        with open(f"/proc/{each}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        sys.exit("node is needed (and node/node_modules: npm ci --prefix node)")
    return node


def run(args: argparse.Namespace, say: Any) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with node_server() as target, tempfile.TemporaryDirectory() as tmp:
        views = Path(tmp)
        # --- latency ---
        if "latency" in args.only:
            latency_section(args, say, target, views, results)
        if "throughput" in args.only:
            throughput_section(args, say, target, views, results)
        if "memory" in args.only:
            memory_section(args, say, target, views, results)
    return results


def latency_section(
    args: argparse.Namespace, say: Any, target: str, views: Path, results: dict[str, Any]
) -> None:
    say(
        f"latency: 1,000 acked events/s for {args.latency_seconds} s, direct then proxied, "
        f"{args.repeat} times (medians of each run's percentiles)"
    )
    runs: dict[str, list[dict[str, float]]] = {"direct": [], "proxy": []}
    for _ in range(args.repeat):  # interleaved: a busy moment of the machine hits both
        spec = {"mode": "latency", "rate": 1000, "seconds": args.latency_seconds}
        rtts = client(target, **spec)["rtts"]
        runs["direct"].append({"p50": percentile(rtts, 50), "p99": percentile(rtts, 99)})
        with proxy(target, views / "latency.txt") as (url, _):
            rtts = client(url, **spec)["rtts"]
        runs["proxy"].append({"p50": percentile(rtts, 50), "p99": percentile(rtts, 99)})
    latency = {
        name: {p: statistics.median(r[p] for r in runs[name]) for p in ("p50", "p99")}
        for name in runs
    }
    added = {p: latency["proxy"][p] - latency["direct"][p] for p in ("p50", "p99")}
    results["latency_ms"] = {**latency, "added": added, "runs": runs}
    for p, target_ms in (("p50", TARGET_P50_MS), ("p99", TARGET_P99_MS)):
        say(
            f"  round trip {p} {latency['direct'][p]:.3f} ms direct, "
            f"{latency['proxy'][p]:.3f} ms proxied: +{added[p]:.3f} ms (target <= {target_ms})"
        )


def throughput_section(
    args: argparse.Namespace, say: Any, target: str, views: Path, results: dict[str, Any]
) -> None:
    say(f"throughput: {args.events:,} events over WebSocket, best of {args.repeat}")
    rates: dict[str, float] = {"direct": 0.0, "proxy": 0.0, "proxy --json": 0.0}
    for _ in range(args.repeat):  # interleaved, so that a slow moment hits all alike
        rates["direct"] = max(
            rates["direct"], _rate(client(target, mode="burst", events=args.events))
        )
        for name, options in (("proxy", ()), ("proxy --json", ("--json",))):
            with proxy(target, views / "throughput.txt", *options) as (url, _):
                rate = _rate(client(url, mode="burst", events=args.events))
            rates[name] = max(rates[name], rate)
    ratios = {name: rates[name] / rates["direct"] for name in ("proxy", "proxy --json")}
    results["throughput"] = {"events_per_s": rates, "ratio": ratios}
    for name in ("direct", "proxy", "proxy --json"):
        ratio = f"  {ratios[name]:.2f}x direct" if name in ratios else ""
        say(f"  {name:<13} {rates[name]:>10,.0f} events/s{ratio}")
    say(f"  (target >= {TARGET_THROUGHPUT}x direct, live view on, output to a file)")


def memory_section(
    args: argparse.Namespace, say: Any, target: str, views: Path, results: dict[str, Any]
) -> None:
    say(f"memory: 1,000 acked events/s through the proxy for {args.memory_seconds} s")
    with proxy(target, views / "memory.txt") as (url, pid):
        load = subprocess.Popen(
            [
                _node(),
                str(CLIENT),
                json.dumps(
                    {
                        "url": url,
                        "mode": "latency",
                        "rate": 1000,
                        "seconds": args.memory_seconds,
                    }
                ),
            ],
            stdout=subprocess.DEVNULL,
        )
        samples = []
        started = time.monotonic()
        while load.poll() is None:
            time.sleep(1.0)
            if time.monotonic() - started >= 5:  # after a warm-up
                with contextlib.suppress(OSError, RuntimeError):
                    samples.append(rss_mib(pid))
        view_size = (views / "memory.txt").stat().st_size / 2**20
    growth = samples[-1] - samples[0] if len(samples) >= 2 else float("nan")
    results["memory_mib"] = {
        "first": samples[0] if samples else None,
        "last": samples[-1] if samples else None,
        "max": max(samples) if samples else None,
        "growth": growth,
        "seconds": args.memory_seconds,
        "live_view_mib": view_size,
    }
    say(
        f"  RSS {samples[0]:.1f} MiB after warm-up, {samples[-1]:.1f} MiB at the end "
        f"(max {max(samples):.1f}): growth {growth:+.1f} MiB over "
        f"{args.memory_seconds - 5} s, {statistics.mean(samples):.1f} MiB on average; "
        f"the live view wrote {view_size:.0f} MiB (target: < {TARGET_GROWTH_MIB} MiB "
        "over 10 minutes)"
    )


def _rate(result: dict[str, Any]) -> float:
    return float(result["events"]) / float(result["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--latency-seconds", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--memory-seconds", type=int)
    parser.add_argument(
        "--only",
        action="append",
        choices=["latency", "throughput", "memory"],
        help="run only this section (repeatable)",
    )
    args = parser.parse_args()
    quick = args.quick
    args.only = args.only or ["latency", "throughput", "memory"]
    args.latency_seconds = args.latency_seconds or (5 if quick else 10)
    args.events = args.events or (30_000 if quick else 100_000)
    args.repeat = args.repeat or (2 if quick else 3)
    args.memory_seconds = args.memory_seconds or (30 if quick else 120)
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    os.environ.setdefault("NO_COLOR", "1")
    results = run(args, say)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
