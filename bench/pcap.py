"""``siocli decode`` of packet captures: throughput against the same traffic as a transcript,
peak memory against a 1 MB capture, and tshark as a yardstick, all in this run.

    python bench/pcap.py              # a 100 MB pcap (and its transcript), best of 3
    python bench/pcap.py --quick      # 10 MB, best of 1
    python bench/pcap.py --json       # the results as JSON on stdout
    python bench/pcap.py --no-tshark  # skip the tshark row (it is slow on 100 MB)

The traffic is the CLI benchmark's (bench/decode_cli.py: corpus draws given directions by
``Traffic``, after a handshake and every namespace connected): one Engine.IO 4 session over
a WebSocket, written twice from one sequence of frames:

- a pcap as tcpdump writes it on a loopback (Ethernet, IPv4, TCP): the upgrade request and
  its 101, then each WebSocket message as one frame in one segment (client frames masked,
  as RFC 6455 requires), an ACK after every second segment of a side, as delayed ACKs go;
- a transcript of the same messages (``> 42[...]``, ``< <binary> 01 02``), as
  bench/decode_cli.py writes its big transcripts.

Rows: ``decode --json`` on each file, runs interleaved (packets/s by wall clock and by CPU
time, user + system, which a busy machine disturbs less; the ratio pcap/transcript: target
>= 0.5),
peak RSS of ``decode --json`` on the big pcap and on a 1 MB one (target: within 16 MiB),
and ``tshark -T json`` with its HTTP and WebSocket dissectors on the big pcap (port 3000
decoded as HTTP, so the 101 switches to WebSocket). Each command is a child process run
under decode_cli's measuring wrapper (wall clock, its own ru_maxrss). The exit status is 0
whatever the figures: targets are printed, never enforced.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for path in (str(BENCH_DIR), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

import decode_cli  # noqa: E402

from tests import pcapbuild  # noqa: E402

PCAP_VERSION = 2  # bump when the writers below change: cached files carry it in their name
MB = 1_000_000
PCAP_VS_TRANSCRIPT = 0.5
MEMORY_GROWTH_MIB = 16.0
PORT = 3000


def frames(seed: int) -> Iterator[tuple[str, str | bytes]]:
    """The session's frames, endless: the transcript's and the pcap's, the same."""
    r = random.Random(seed)
    traffic = decode_cli.Traffic(seed)
    yield from decode_cli.preamble(r, [])
    for draw in decode_cli.endless(seed):
        yield from traffic.frames(draw)


def packets(
    seed: int, limit: int, transcript: IO[str], stats: decode_cli.Stats
) -> Iterator[pcapbuild.Packet]:
    """The capture's packets until about ``limit`` bytes of pcap, each message's transcript
    line written as its packets are made (see the module's docstring)."""
    conversation = pcapbuild.Conversation(
        server=(bytes([127, 0, 0, 1]), PORT), step=0.0001, ack_every=2
    )
    conversation.open()
    request = pcapbuild.http_request("GET", "/socket.io/?EIO=4&transport=websocket")
    conversation.send(True, request)
    conversation.send(False, pcapbuild.http_response(101, Upgrade="websocket"))
    size = 24  # the file header
    for side, message in frames(seed):
        for packet in conversation.packets:
            size += 16 + len(packet[1])  # a record header and the frame
            yield packet
        conversation.packets.clear()
        if size >= limit:
            break
        data = message.encode() if isinstance(message, str) else message
        frame = pcapbuild.ws_frame(data, 1 if isinstance(message, str) else 2, mask=side == ">")
        conversation.send(side == ">", frame)
        transcript.write(decode_cli.frame_line(side, message))
        stats.count(message)
    conversation.close()
    yield from conversation.packets


def write_pair(seed: int, limit: int, pcap: Path, transcript: Path) -> decode_cli.Stats:
    """The pcap (until ``limit`` bytes) and the transcript of the same frames."""
    stats = decode_cli.Stats()
    stats.sessions = 1
    with pcap.open("wb") as p, transcript.open("w", encoding="utf-8", newline="\n") as t:
        t.write(decode_cli.TRANSCRIPT_HEAD)
        pcapbuild.write_pcap(p, packets(seed, limit, t, stats))
    stats.messages = stats.packets
    return stats


def files(seed: int, mb: int) -> tuple[Path, Path, dict[str, Any]]:
    name = f"pcap-v{PCAP_VERSION}g{decode_cli.corpus_mod.GENERATOR_VERSION}-seed{seed}-{mb}MB"
    pcap = decode_cli.CORPUS_DIR / f"{name}.pcap"
    transcript = decode_cli.CORPUS_DIR / f"{name}.txt"
    made: dict[str, decode_cli.Stats] = {}

    def make_pcap(path: Path) -> decode_cli.Stats:
        tmp = transcript.with_name(transcript.name + ".pair")
        made["stats"] = write_pair(seed, mb * MB, path, tmp)
        tmp.replace(transcript)
        return made["stats"]

    pcap, info = decode_cli.capture("pcap", pcap.name, seed, make_pcap)
    if not transcript.exists():  # the pcap was cached without it: write both again
        pcap.unlink()
        pcap, info = decode_cli.capture("pcap", pcap.name, seed, make_pcap)
    return pcap, transcript, info


def run(quick: bool, seed: int, tshark: bool, log: Any) -> dict[str, Any]:
    big = 10 if quick else 100
    repeats = 1 if quick else 3
    log(f"writing the captures ({big} MB and 1 MB pcaps, their transcripts) ...")
    pcap, transcript, info = files(seed, big)
    small, _, small_info = files(seed, 1)
    env = decode_cli.child_env()
    siocli = decode_cli.siocli_command()
    rows: dict[str, Any] = {}
    commands = {
        "pcap": [*siocli, "decode", "--json", str(pcap)],
        "transcript": [*siocli, "decode", "--json", str(transcript)],
    }
    runs: dict[str, list[Any]] = {key: [] for key in commands}
    for number in range(repeats):  # interleaved: both see the same load on a shared machine
        for key, command in commands.items():
            log(f"  run {number + 1}/{repeats}: siocli decode --json {Path(command[-1]).name} ...")
            child = decode_cli.run_child(command, env=env)
            if child.status != 0:
                raise SystemExit(f"{key}: exit status {child.status}: {child.stderr[-300:]}")
            runs[key].append(child)
    for key, children in runs.items():
        rows[key] = {
            "seconds": min(c.seconds for c in children),
            "cpu_seconds": min(c.cpu_seconds for c in children),
            "maxrss_mib": max(c.maxrss_mib for c in children),
            "bytes": Path(commands[key][-1]).stat().st_size,
        }
        rows[key]["packets_per_s"] = info["packets"] / rows[key]["seconds"]
        rows[key]["packets_per_cpu_s"] = info["packets"] / rows[key]["cpu_seconds"]
    log(f"  peak memory: siocli decode --json {small.name} ...")
    child = decode_cli.run_child([*siocli, "decode", "--json", str(small)], env=env)
    rows["pcap_1mb"] = {
        "seconds": child.seconds,
        "cpu_seconds": child.cpu_seconds,
        "maxrss_mib": child.maxrss_mib,
        "bytes": small.stat().st_size,
        "packets": small_info["packets"],
    }
    if tshark and shutil.which("tshark"):
        log(f"  tshark -T json {pcap.name} (once) ...")
        command = ["tshark", "-r", str(pcap), "-T", "json", "-d", f"tcp.port=={PORT},http"]
        child = decode_cli.run_child(command, env=env)
        rows["tshark"] = (
            {
                "seconds": child.seconds,
                "cpu_seconds": child.cpu_seconds,
                "maxrss_mib": child.maxrss_mib,
                "packets_per_s": info["packets"] / child.seconds,
                "packets_per_cpu_s": info["packets"] / child.cpu_seconds,
            }
            if child.status == 0
            else {"note": f"failed: exit status {child.status}: {child.stderr[-200:]}"}
        )
    else:
        rows["tshark"] = {"note": "skipped" if not tshark else "skipped: tshark not found"}
    ratio = rows["transcript"]["seconds"] / rows["pcap"]["seconds"]
    cpu_ratio = rows["transcript"]["cpu_seconds"] / rows["pcap"]["cpu_seconds"]
    growth = rows["pcap"]["maxrss_mib"] - rows["pcap_1mb"]["maxrss_mib"]
    return {
        "capture": {"file": pcap.name, **info},
        "rows": rows,
        "targets": [
            {
                "target": f"pcap decode --json >= {PCAP_VS_TRANSCRIPT}x the transcript's packets/s",
                "value": ratio,
                "met": ratio >= PCAP_VS_TRANSCRIPT,
            },
            {
                "target": f"the same in CPU time (user + system) >= {PCAP_VS_TRANSCRIPT}x",
                "value": cpu_ratio,
                "met": cpu_ratio >= PCAP_VS_TRANSCRIPT,
            },
            {
                "target": f"peak RSS on {big} MB <= on 1 MB + {MEMORY_GROWTH_MIB:g} MiB",
                "value": growth,
                "met": growth <= MEMORY_GROWTH_MIB,
            },
        ],
    }


def show(result: dict[str, Any]) -> None:
    capture = result["capture"]
    print(
        f"\nOne WebSocket session: {capture['packets']:,} Engine.IO packets, "
        f"{capture['bytes'] / MB:.0f} MB of pcap ({capture['file']})\n"
    )
    rows = result["rows"]
    print(f"{'row':<48} {'seconds':>8} {'packets/s':>10} {'CPU s':>7} {'pkt/CPU s':>10} {'MiB':>6}")
    labels = {
        "pcap": "siocli decode --json <pcap>",
        "transcript": "siocli decode --json <transcript, same traffic>",
        "pcap_1mb": "siocli decode --json <1 MB pcap>",
        "tshark": "tshark -T json <pcap> (yardstick)",
    }
    for key, label in labels.items():
        row = rows[key]
        if "note" in row:
            print(f"{label:<48} {row['note']}")
            continue
        rate = row.get("packets_per_s")
        cpu_rate = row.get("packets_per_cpu_s")
        print(
            f"{label:<48} {row['seconds']:>8.2f} {(f'{rate:,.0f}' if rate else '-'):>10} "
            f"{row['cpu_seconds']:>7.2f} {(f'{cpu_rate:,.0f}' if cpu_rate else '-'):>10} "
            f"{row['maxrss_mib']:>6.1f}"
        )
    tshark = rows["tshark"]
    if "seconds" in tshark:
        print(f"\nsiocli on the pcap is {tshark['seconds'] / rows['pcap']['seconds']:.1f}x tshark")
    print()
    for target in result["targets"]:
        mark = "met" if target["met"] else "NOT met"
        print(f"{target['target']}: {target['value']:.2f} ({mark})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 10 MB capture, one run each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="the results as JSON on stdout")
    parser.add_argument("--no-tshark", action="store_true", help="skip the tshark row")
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    result = run(args.quick, args.seed, not args.no_tshark, log)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        show(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
