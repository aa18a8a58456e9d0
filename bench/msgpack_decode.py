"""The MessagePack parser's decode: siocli against python-socketio and Node, in one run.

    python bench/msgpack_decode.py            # 200,000 packets, best of 5
    python bench/msgpack_decode.py --quick    # 20,000 packets, best of 3
    python bench/msgpack_decode.py --json

The corpus is the benchmark corpus (bench/corpus.py) re-encoded: every Socket.IO packet of
it (binary ones reassembled) as the MessagePack map socket.io-msgpack-parser would send,
one binary message each; Engine.IO control packets are left out (no parser sees them).

Rows, each decoding every message to a complete packet with its type, namespace, data, id:

* siocli: ``msgpack_parser.decode_packet`` (the reference's validation included);
* python-socketio: ``MsgPackPacket(encoded_packet=...)``, as its server decodes a message
  with ``serializer="msgpack"`` (msgpack.loads, then the fields; no validation);
* Node: socket.io-msgpack-parser's ``Decoder.add`` (notepack.io, then ``checkPacket``);
* the floor: ``msgpack.unpackb`` alone, which both Python rows call once per message.

Target: siocli >= 3x python-socketio. Ratios are of figures measured in this run. Both Python
rows spend most of their time in msgpack's C unpacker (the floor row): the target cannot be
met by a decoder that builds the same Python objects; the ratio to the floor says what the
packet layer costs on top of it.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for extra in (BENCH_DIR, ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import corpus as corpus_mod  # noqa: E402

from siocli.protocol import msgpack_parser, socketio  # noqa: E402
from siocli.protocol.errors import DecodeError  # noqa: E402

NODE_SCRIPT = BENCH_DIR / "node_msgpack_decode.js"
TARGET = 3.0


def msgpack_corpus(count: int) -> list[bytes]:
    """The benchmark corpus's Socket.IO packets, as MessagePack messages."""
    assembler = socketio.PacketAssembler(5)
    out = []
    for message in corpus_mod.build(count).messages:
        try:
            packet = assembler.receive_message(message)
        except DecodeError:
            assembler.reset()
            continue
        if packet is not None and packet.__class__.__name__ == "SocketPacket":
            out.append(msgpack_parser.encode_packet(packet))  # type: ignore[arg-type]
    return out


def best_of(fn: Callable[[list[bytes]], int], messages: list[bytes], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(messages)
        times.append(time.perf_counter() - start)
    return min(times)


def siocli_decode(messages: list[bytes]) -> int:
    decode = msgpack_parser.decode_packet
    count = 0
    for data in messages:
        decode(data)
        count += 1
    return count


def floor_decode(messages: list[bytes]) -> int:
    """msgpack.unpackb alone: what every Python MessagePack decoder pays at least."""
    import msgpack

    unpackb = msgpack.unpackb
    count = 0
    for data in messages:
        unpackb(data, raw=False)
        count += 1
    return count


def psio_decode(messages: list[bytes]) -> int:
    from socketio.msgpack_packet import MsgPackPacket

    count = 0
    for data in messages:
        MsgPackPacket(encoded_packet=data)
        count += 1
    return count


def node_decode(messages: list[bytes], repeats: int) -> tuple[float | None, str]:
    node = shutil.which("node")
    if node is None:
        return None, "skipped: node is not on PATH"
    if not (ROOT / "node" / "node_modules" / "socket.io-msgpack-parser").is_dir():
        return None, "skipped: socket.io-msgpack-parser is not installed in node/"
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
        file.write("\n".join(base64.b64encode(m).decode() for m in messages) + "\n")
    try:
        done = subprocess.run(
            [node, str(NODE_SCRIPT), file.name, str(repeats)],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    finally:
        Path(file.name).unlink()
    result = json.loads(done.stdout)
    if result["decoded"] != len(messages):
        return None, f"Node decoded {result['decoded']} of {len(messages)} messages"
    return float(result["seconds"]), f"socket.io-msgpack-parser {result['version']}"


def run(count: int, repeats: int) -> dict[str, Any]:
    messages = msgpack_corpus(count)
    size = sum(len(m) for m in messages)
    assert siocli_decode(messages) == len(messages)  # every packet decodes
    rows: dict[str, Any] = {
        "messages": len(messages),
        "bytes": size,
        "siocli": best_of(siocli_decode, messages, repeats),
        "floor": best_of(floor_decode, messages, repeats),
    }
    try:
        import socketio  # noqa: F401
    except ImportError:
        rows["python_socketio"] = None
    else:
        rows["python_socketio"] = best_of(psio_decode, messages, repeats)
    rows["node"], rows["node_note"] = node_decode(messages, repeats)
    siocli = rows["siocli"]
    rows["vs_python_socketio"] = rows["python_socketio"] and rows["python_socketio"] / siocli
    rows["vs_node"] = rows["node"] and rows["node"] / siocli
    rows["floor_share"] = rows["floor"] / siocli
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    count = corpus_mod.QUICK_COUNT if args.quick else corpus_mod.DEFAULT_COUNT
    rows = run(count, 3 if args.quick else 5)
    if args.json:
        print(json.dumps(rows))
        return
    n = rows["messages"]
    print(f"MessagePack decode: {n} packets, {rows['bytes'] / 1e6:.1f} MB, best of runs")

    def line(name: str, seconds: float | None, note: str = "") -> None:
        if seconds is None:
            print(f"  {name:<40} {note or 'skipped'}")
            return
        ratio = rows["siocli"] and seconds / rows["siocli"]
        print(
            f"  {name:<40} {n / seconds / 1e3:8.0f} k packets/s  {seconds * 1e6 / n:6.2f} µs"
            f"  siocli is {ratio:.2f}x this"
        )

    line("siocli msgpack_parser", rows["siocli"])
    line("msgpack.unpackb alone (the floor)", rows["floor"])
    line("python-socketio MsgPackPacket", rows["python_socketio"], "python-socketio missing")
    line(f"Node ({rows['node_note']})", rows["node"], rows["node_note"])
    ratio = rows["vs_python_socketio"]
    if ratio is not None:
        verdict = "met" if ratio >= TARGET else "NOT met"
        print(f"  target siocli >= {TARGET:g}x python-socketio: {ratio:.2f}x ({verdict})")


if __name__ == "__main__":
    main()
