"""siocli's benchmark: decode and encode throughput against python-socketio and Node.

    python bench/run.py            # 200,000 messages, best of 5; then the CLI section
    python bench/run.py --quick    # 20,000 messages, best of 3
    python bench/run.py --json     # machine-readable results on stdout
    python bench/run.py --skip-cli # the micro-benchmarks only

After the micro-benchmarks, the `siocli decode` section (bench/decode_cli.py): the real
command's throughput, peak memory and start-up, each run as a child process.

Every figure is measured in this run, on the same corpus (bench/corpus.py): ratios compare
implementations on this machine, now. See bench/README.md for what each row measures. The
targets are informational: the exit status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.append(str(ROOT))

import corpus as corpus_mod  # noqa: E402
import decode_cli  # noqa: E402

NODE_SCRIPT = BENCH_DIR / "node_decode.js"
NODE_MODULES = ROOT / "node" / "node_modules"

# (label, row key, ratio key, needed ratio): ratio keys are computed in `targets`
TARGETS = [
    ("siocli strict decode >= Node reference", "siocli_decode", "vs_node", 1.0),
    ("siocli strict decode >= 4x python-socketio", "siocli_decode", "vs_python_socketio", 4.0),
    ("siocli encode >= 5x python-socketio", "siocli_encode", "vs_python_socketio", 5.0),
]
ANNOTATE_MAX_SLOWDOWN = 3.0


@dataclass
class Result:
    key: str
    label: str
    group: str  # "decode" or "encode"
    seconds: float | None = None
    times: list[float] = field(default_factory=list)
    ops: int | None = None  # calls made per run (messages, or loads() for the JSON floor)
    complete_packets: int | None = None
    note: str = ""
    ratios: dict[str, float | None] = field(default_factory=dict)


# --- timing ---------------------------------------------------------------------------------


def best_of(
    fn: Callable[[Any], Any],
    arg: Any,
    repeats: int,
    fresh: Callable[[Any], Any] | None = None,
) -> tuple[float, list[float], Any]:
    """Run ``fn(arg)`` ``repeats`` times; the best time, all times, the last result.

    ``fresh(arg)``, when given, makes a new input for each run, untimed. The garbage
    collector stays on (a decoder's garbage is part of its cost); it is emptied before each
    run so that one run does not pay for the previous one's.
    """
    times = []
    result = None
    for _ in range(repeats):
        run_arg = arg if fresh is None else fresh(arg)
        gc.collect()
        start = time.perf_counter()
        result = fn(run_arg)
        times.append(time.perf_counter() - start)
        del run_arg
    return min(times), times, result


# --- siocli ---------------------------------------------------------------------------------


def siocli_decode(messages: list[str | bytes]) -> int:
    """Strict decode of every message; returns the number of complete Socket.IO packets.

    ``PacketAssembler.receive_message`` is siocli's one-step decoder for a WebSocket
    message: Engine.IO framing, the Socket.IO packet, binary reassembly.
    """
    from siocli.protocol import socketio
    from siocli.protocol.types import SocketPacket

    receive = socketio.PacketAssembler(5).receive_message
    complete = 0
    for msg in messages:
        if receive(msg).__class__ is SocketPacket:
            complete += 1
    return complete


def siocli_packets(messages: list[str | bytes]) -> list[Any]:
    """What siocli's decoder makes of the corpus: complete SocketPackets, and the Engine.IO
    packets that are not messages (pings, pongs, the handshake), in order."""
    from siocli.protocol import socketio

    receive = socketio.PacketAssembler(5).receive_message
    return [item for item in map(receive, messages) if item is not None]


def siocli_encode(items: list[Any]) -> int:
    """Encode decoded packets back to wire messages; returns the number of messages."""
    return len(siocli_encode_collect(items))


def siocli_encode_collect(items: list[Any]) -> list[str | bytes]:
    """Every decoded item back to its wire messages: ``encode_message`` for Socket.IO
    packets (text plus attachments), ``encode_packet`` for the others."""
    from siocli.protocol import engineio, socketio
    from siocli.protocol.types import SocketPacket

    encode_message = socketio.encode_message
    encode_packet = engineio.encode_packet
    out: list[str | bytes] = []
    for item in items:
        if item.__class__ is SocketPacket:
            out += encode_message(item, 4)
        else:
            out.append(encode_packet(item, 4))
    return out


def load_annotate() -> tuple[Callable[..., Any] | None, str]:
    try:
        from siocli.protocol.annotate import annotate_message
    except ImportError as exc:
        return None, f"skipped: siocli.protocol.annotate is not importable ({exc})"
    return annotate_message, ""


def siocli_annotate(messages: list[str | bytes]) -> int:
    from siocli.protocol.annotate import annotate_message

    for msg in messages:
        annotate_message(msg, eio=4, transport="websocket")
    return len(messages)


# --- python-socketio ------------------------------------------------------------------------


def psio_decode(messages: list[str | bytes]) -> int:
    """python-socketio's packet classes, used the way its server uses them
    (Server._handle_eio_message): one socketio Packet per text message, attachments added to
    the pending binary packet until add_attachment says it is complete."""
    from engineio.packet import Packet as EnginePacket
    from socketio.packet import Packet as SocketPacket

    pending = None
    complete = 0
    for msg in messages:
        ep = EnginePacket(encoded_packet=msg)
        if ep.packet_type != 4:
            continue
        if pending is not None:
            if pending.add_attachment(ep.data):
                pending = None
                complete += 1
        else:
            sp = SocketPacket(encoded_packet=ep.data)
            if sp.attachment_count > len(sp.attachments):
                pending = sp
            else:
                complete += 1
    return complete


def psio_packets(messages: list[str | bytes]) -> list[Any]:
    """What python-socketio's classes make of the corpus: socketio Packets (complete), and
    ``(type, data)`` of the Engine.IO packets that are not messages."""
    from engineio.packet import Packet as EnginePacket
    from socketio.packet import Packet as SocketPacket

    items: list[Any] = []
    pending = None
    for msg in messages:
        ep = EnginePacket(encoded_packet=msg)
        if ep.packet_type != 4:
            items.append((ep.packet_type, ep.data))
        elif pending is not None:
            if pending.add_attachment(ep.data):
                items.append(pending)
                pending = None
        else:
            sp = SocketPacket(encoded_packet=ep.data)
            if sp.attachment_count > len(sp.attachments):
                pending = sp
            else:
                items.append(sp)
    return items


def psio_encode(items: list[Any]) -> int:
    """python-socketio's send path (Server.emit -> _send_packet -> engineio Server.send): a
    socketio ``Packet(type, data=..., namespace=..., id=...)``, whose constructor scans the
    data for binary values, then ``encode()`` (a str, or [header, *attachments]), then one
    engineio ``Packet`` per piece, encoded. The input is python-socketio's own decode of the
    corpus, as plain fields."""
    from engineio.packet import Packet as EnginePacket
    from socketio.packet import Packet as SocketPacket

    produced = 0
    for item in items:
        if len(item) == 4:
            ptype, data, namespace, ack_id = item
            encoded = SocketPacket(ptype, data=data, namespace=namespace, id=ack_id).encode()
            if encoded.__class__ is list:
                for piece in encoded:
                    EnginePacket(4, data=piece).encode()
                    produced += 1
            else:
                EnginePacket(4, data=encoded).encode()
                produced += 1
        else:
            EnginePacket(item[0], data=item[1]).encode()
            produced += 1
    return produced


def psio_encode_prebuilt(items: list[Any]) -> int:
    """As :func:`psio_encode`, with the socketio Packets built before timing: ``encode()``
    only, no binary scan. Flatters python-socketio; shown for transparency."""
    from engineio.packet import Packet as EnginePacket
    from socketio.packet import Packet as SocketPacket

    produced = 0
    for item in items:
        if item.__class__ is SocketPacket:
            encoded = item.encode()
            if encoded.__class__ is list:
                for piece in encoded:
                    EnginePacket(4, data=piece).encode()
                    produced += 1
            else:
                EnginePacket(4, data=encoded).encode()
                produced += 1
        else:
            EnginePacket(item[0], data=item[1]).encode()
            produced += 1
    return produced


def psio_fields(items: list[Any]) -> list[Any]:
    """``(type, data, namespace, id)`` of each socketio Packet, as the server passes them to
    the constructor: EVENT or ACK, which becomes BINARY_EVENT or BINARY_ACK when the data
    holds bytes (the constructor refuses binary data with a BINARY_* type). Engine.IO items
    are left as they are."""
    from socketio.packet import BINARY_ACK, BINARY_EVENT
    from socketio.packet import Packet as SocketPacket

    plain = {BINARY_EVENT: 2, BINARY_ACK: 3}
    return [
        (plain.get(p.packet_type, p.packet_type), p.data, p.namespace, p.id)
        if p.__class__ is SocketPacket
        else p
        for p in items
    ]


# --- orjson alone -----------------------------------------------------------------------------


def json_parts(messages: list[str | bytes]) -> list[str]:
    """The JSON text of every Socket.IO text packet that has a payload (for the floor)."""
    parts = []
    for msg in messages:
        if msg.__class__ is not str or not msg.startswith("4"):  # type: ignore[union-attr]
            continue
        text: str = msg  # type: ignore[assignment]
        pos = 2
        if text[1] in "56":  # attachment count, then "-"
            pos = text.index("-", pos) + 1
        if text.startswith("/", pos):
            comma = text.find(",", pos)
            pos = len(text) if comma < 0 else comma + 1
        while pos < len(text) and text[pos].isdigit():
            pos += 1
        if pos < len(text):
            parts.append(text[pos:])
    return parts


def fresh_strings(parts: list[str]) -> list[str]:
    """New str objects with the same text: orjson reads a non-ASCII str through its cached
    UTF-8 form, which a decoder never finds (it parses a fresh slice of each message), so
    the floor must not find it either."""
    return [p.encode().decode() for p in parts]


def orjson_floor(parts: list[str]) -> int:
    import orjson

    loads = orjson.loads
    for part in parts:
        loads(part)
    return len(parts)


# --- subprocess workers -----------------------------------------------------------------------


def worker_stdlib_decode(corpus_file: Path, repeats: int) -> dict[str, Any]:
    """siocli strict decode with the standard library's json (orjson hidden)."""
    sys.modules["orjson"] = None  # type: ignore[assignment]  # import orjson -> ImportError
    from siocli.protocol import _jsonlib

    if getattr(_jsonlib, "_orjson", None) is not None:
        raise RuntimeError("orjson was imported before it could be hidden")
    messages = corpus_mod.read(corpus_file).messages
    seconds, times, complete = best_of(siocli_decode, messages, repeats)
    return {"seconds": seconds, "times": times, "complete_packets": complete}


def run_stdlib_worker(corpus_file: Path, repeats: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "stdlib-decode",
        "--corpus-file",
        str(corpus_file),
        "--repeat",
        str(repeats),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def run_node(corpus_file: Path, repeats: int) -> tuple[dict[str, Any] | None, str]:
    node = shutil.which("node")
    if node is None:
        return None, "skipped: node is not on PATH"
    for package in ("engine.io-parser", "socket.io-parser"):
        if not (NODE_MODULES / package).is_dir():
            return None, f"skipped: {package} is not installed in node/ (npm ci --prefix node)"
    proc = subprocess.run(
        [node, str(NODE_SCRIPT), str(corpus_file), str(repeats)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return None, f"failed: {tail[0]}"
    return json.loads(proc.stdout), ""


# --- the run ----------------------------------------------------------------------------------


def versions() -> dict[str, str | None]:
    from importlib import metadata

    found: dict[str, str | None] = {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "cpus": str(os.cpu_count()),
    }
    for dist in ("siocli", "orjson", "python-socketio", "python-engineio"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = None
    return found


def profile_decode(messages: list[str | bytes], limit: int = 18) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(siocli_decode, messages)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def log(args: argparse.Namespace, text: str) -> None:
    if not args.json:
        print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    count = args.packets or (corpus_mod.QUICK_COUNT if args.quick else corpus_mod.DEFAULT_COUNT)
    repeats = args.repeat or (3 if args.quick else 5)
    start = time.perf_counter()
    corpus, corpus_file = corpus_mod.load(count, args.seed)
    log(
        args,
        f"corpus: {corpus.count:,} messages in {time.perf_counter() - start:.1f}s "
        f"({corpus_file.relative_to(ROOT)})",
    )
    messages = corpus.messages
    env = versions()
    results: dict[str, Result] = {}
    checks: list[str] = []

    def measure(
        key: str,
        label: str,
        group: str,
        fn: Callable[[Any], Any],
        arg: Any,
        ops: int,
        fresh: Callable[[Any], Any] | None = None,
    ) -> Result:
        log(args, f"  {label} ...")
        seconds, times, value = best_of(fn, arg, repeats, fresh)
        res = Result(key, label, group, seconds, times, ops)
        if group == "encode":
            res.ops = value  # the messages produced
        elif key not in ("orjson_floor", "siocli_annotate"):
            res.complete_packets = value
        results[key] = res
        return res

    # Decode ---------------------------------------------------------------------------------
    measure(
        "siocli_decode",
        "siocli strict decode (orjson)",
        "decode",
        siocli_decode,
        messages,
        corpus.count,
    )

    log(args, "  siocli strict decode (stdlib json, subprocess) ...")
    try:
        std = run_stdlib_worker(corpus_file, repeats)
        results["siocli_decode_stdlib"] = Result(
            "siocli_decode_stdlib",
            "siocli strict decode (stdlib json)",
            "decode",
            std["seconds"],
            std["times"],
            corpus.count,
            std["complete_packets"],
        )
    except (RuntimeError, OSError, ValueError) as exc:
        results["siocli_decode_stdlib"] = Result(
            "siocli_decode_stdlib",
            "siocli strict decode (stdlib json)",
            "decode",
            note=f"failed: {exc}",
        )

    annotate, why = load_annotate()
    if annotate is None:
        results["siocli_annotate"] = Result(
            "siocli_annotate", "siocli annotate_message", "decode", note=why
        )
    else:
        try:
            measure(
                "siocli_annotate",
                "siocli annotate_message",
                "decode",
                siocli_annotate,
                messages,
                corpus.count,
            )
        except Exception as exc:  # the module is young: report, do not crash the bench
            results["siocli_annotate"] = Result(
                "siocli_annotate",
                "siocli annotate_message",
                "decode",
                note=f"failed: {type(exc).__name__}: {exc}",
            )

    try:
        import socketio  # noqa: F401
    except ImportError:
        psio_note = "skipped: python-socketio is not installed (pip install -e .[bench])"
    else:
        psio_note = ""
        measure(
            "psio_decode",
            f"python-socketio {env['python-socketio']}",
            "decode",
            psio_decode,
            messages,
            corpus.count,
        )
    if psio_note:
        results["psio_decode"] = Result("psio_decode", "python-socketio", "decode", note=psio_note)

    log(args, "  Node reference (decode and encode, subprocess) ...")
    node, node_note = run_node(corpus_file, repeats)
    node_label = "Node engine.io-parser + socket.io-parser"
    if node is not None and (
        node["corpus_sha256"] != corpus.sha256 or node["messages"] != corpus.count
    ):
        node_note = "failed: Node read a different corpus"
        node = None
    if node is None:
        results["node_decode"] = Result("node_decode", node_label, "decode", note=node_note)
    else:
        results["node_decode"] = Result(
            "node_decode",
            node_label,
            "decode",
            node["decode"]["seconds"],
            node["decode"]["times"],
            corpus.count,
            node["decode"]["complete_packets"],
        )

    parts = json_parts(messages)
    measure(
        "orjson_floor",
        "orjson.loads of the JSON only (floor)",
        "decode",
        orjson_floor,
        parts,
        len(parts),
        fresh_strings,
    )

    # Encode ---------------------------------------------------------------------------------
    items = siocli_packets(messages)
    gc.collect()
    gc.freeze()  # the inputs are long-lived: keep them out of the collector's scans
    measure("siocli_encode", "siocli encode", "encode", siocli_encode, items, corpus.count)
    encoded = siocli_encode_collect(items)
    same = sum(1 for a, b in zip(encoded, messages, strict=False) if a == b)
    checks.append(
        f"siocli encode round trip: {same:,}/{corpus.count:,} messages byte-identical"
        + ("" if same == corpus.count == len(encoded) else f" ({len(encoded):,} produced)")
    )
    del encoded
    if not psio_note:
        p_items = psio_packets(messages)
        gc.collect()
        gc.freeze()
        fields = psio_fields(p_items)
        measure(
            "psio_encode",
            f"python-socketio {env['python-socketio']}",
            "encode",
            psio_encode,
            fields,
            corpus.count,
        )
        measure(
            "psio_encode_prebuilt",
            "python-socketio, Packet.encode() only",
            "encode",
            psio_encode_prebuilt,
            p_items,
            corpus.count,
        )
        del p_items, fields
    else:
        results["psio_encode"] = Result("psio_encode", "python-socketio", "encode", note=psio_note)
    gc.unfreeze()
    if node is None:
        results["node_encode"] = Result("node_encode", node_label, "encode", note=node_note)
    else:
        results["node_encode"] = Result(
            "node_encode",
            node_label,
            "encode",
            node["encode"]["seconds"],
            node["encode"]["times"],
            node["encode"]["messages"],
        )

    # Ratios, checks, targets ----------------------------------------------------------------
    baselines = {
        "decode": (results["psio_decode"], results["node_decode"]),
        "encode": (results["psio_encode"], results["node_encode"]),
    }
    for res in results.values():
        psio, nodes = baselines[res.group]
        for name, base in (("vs_python_socketio", psio), ("vs_node", nodes)):
            ok = res.seconds and base.seconds
            res.ratios[name] = base.seconds / res.seconds if ok else None  # type: ignore[operator]

    counts = {
        r.label: r.complete_packets for r in results.values() if r.complete_packets is not None
    }
    agree = len(set(counts.values())) <= 1
    checks.insert(
        0,
        "complete Socket.IO packets decoded: "
        + (
            f"{next(iter(counts.values())):,} by all"
            if agree and counts
            else "DIFFER: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        ),
    )
    for key in ("siocli_encode", "psio_encode", "psio_encode_prebuilt", "node_encode"):
        res = results[key]
        if res.seconds is not None and res.ops != corpus.count:
            checks.append(f"DIFFER: {res.label} encode produced {res.ops:,} messages")

    targets = []
    for label, key, ratio, need in TARGETS:
        value = results[key].ratios.get(ratio)
        targets.append(
            {
                "target": label,
                "value": value,
                "need": need,
                "pass": None if value is None else value >= need,
            }
        )
    ann, dec = results["siocli_annotate"], results["siocli_decode"]
    slowdown = ann.seconds / dec.seconds if ann.seconds and dec.seconds else None
    targets.append(
        {
            "target": f"siocli annotation <= {ANNOTATE_MAX_SLOWDOWN:g}x slower than strict decode",
            "value": slowdown,
            "need": ANNOTATE_MAX_SLOWDOWN,
            "lower_is_better": True,
            "pass": None if slowdown is None else slowdown <= ANNOTATE_MAX_SLOWDOWN,
        }
    )

    report: dict[str, Any] = {
        "corpus": {**corpus.describe(), "file": str(corpus_file.relative_to(ROOT))},
        "repeats": repeats,
        "environment": env,
        "node": None
        if node is None
        else {k: node[k] for k in ("node", "engine_io_parser", "socket_io_parser")},
        "results": [
            {
                **asdict(r),
                "packets_per_s": corpus.count / r.seconds if r.seconds else None,
                "mb_per_s": corpus.wire_bytes / r.seconds / 1e6 if r.seconds else None,
            }
            for r in results.values()
        ],
        "targets": targets,
        "checks": checks,
    }
    if args.profile:
        report["profile"] = profile_decode(messages)
    return report


# --- output -----------------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def render(report: dict[str, Any]) -> str:
    c = report["corpus"]
    env = report["environment"]
    lines = [
        f"siocli benchmark: {c['messages']:,} WebSocket messages, "
        f"{c['wire_bytes'] / 1e6:.1f} MB ({c['binary_messages']:,} binary), "
        f"seed {c['seed']}, best of {report['repeats']}",
        f"{env['python']}, orjson {env['orjson']}, python-socketio {env['python-socketio']} / "
        f"python-engineio {env['python-engineio']}, {env['platform']} {env['machine']}, "
        f"{env['cpus']} CPUs",
    ]
    node = report["node"]
    if node:
        lines.append(
            f"Node {node['node']}, engine.io-parser {node['engine_io_parser']}, "
            f"socket.io-parser {node['socket_io_parser']}"
        )
    header = (
        f"{'':44} {'ops':>9} {'seconds':>8} {'packets/s':>11} {'MB/s':>7} "
        f"{'vs python-socketio':>19} {'vs Node':>8}"
    )
    for group in ("decode", "encode"):
        lines += ["", f"{group.upper():44}" + header[44:], "-" * len(header)]
        for r in report["results"]:
            if r["group"] != group:
                continue
            if r["seconds"] is None:
                lines.append(f"  {r['label']:42} {r['note']}")
                continue
            lines.append(
                f"  {r['label']:42} {r['ops']:>9,} {r['seconds']:>8.3f} "
                f"{r['packets_per_s']:>11,.0f} {r['mb_per_s']:>7.1f} "
                f"{_ratio(r['ratios']['vs_python_socketio']):>19} "
                f"{_ratio(r['ratios']['vs_node']):>8}"
            )
    lines += ["", "TARGETS (informational: the benchmark never fails)"]
    for t in report["targets"]:
        mark = {True: "PASS", False: "MISS", None: "n/a "}[t["pass"]]
        if t.get("lower_is_better"):
            got = "-" if t["value"] is None else f"{t['value']:.2f}x slower"
            need = f"need <= {t['need']:g}x"
        else:
            got = _ratio(t["value"])
            need = f"need >= {t['need']:g}x"
        lines.append(f"  {mark}  {t['target']:58} {got:>14}  ({need})")
    lines += ["", "CHECKS"] + [f"  {line}" for line in report["checks"]]
    lines += [
        "",
        "packets/s = corpus messages / best time; MB/s = corpus wire bytes (UTF-8) / best time "
        "(10^6 B); ratios are throughput ratios (> 1 = faster than the baseline).",
    ]
    if "profile" in report:
        lines += ["", "PROFILE of siocli strict decode (cProfile, by own time)", report["profile"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{corpus_mod.QUICK_COUNT:,} messages, best of 3"
    )
    parser.add_argument(
        "--packets",
        type=int,
        metavar="N",
        help=f"corpus size (default {corpus_mod.DEFAULT_COUNT:,})",
    )
    parser.add_argument("--seed", type=int, default=corpus_mod.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, metavar="R", help="runs per figure (best is kept)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="append a cProfile of siocli strict decode (and of `decode --json`, big file)",
    )
    parser.add_argument(
        "--skip-cli",
        action="store_true",
        help="skip the `siocli decode` section (bench/decode_cli.py)",
    )
    decode_cli.add_arguments(parser)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--corpus-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker == "stdlib-decode":
        print(json.dumps(worker_stdlib_decode(args.corpus_file, args.repeat or 5)))
        return 0
    if args.worker:
        parser.error(f"unknown worker {args.worker!r}")

    report = run(args)
    if not args.skip_cli:
        log(args, "")
        report["decode_cli"] = decode_cli.run(
            quick=args.quick,
            packets=args.packets,
            seed=args.seed,
            big_mb=args.big_mb,
            startup_runs=args.startup_runs,
            check=not args.no_check,
            with_profile=args.profile,
            quiet=args.json,
        )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
        if "decode_cli" in report:
            print("\n" + "=" * 100 + "\n")
            print(decode_cli.render(report["decode_cli"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
