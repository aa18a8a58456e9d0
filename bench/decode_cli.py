"""``siocli decode`` end to end: the real command's throughput, peak memory and start-up.

    python bench/decode_cli.py            # 200,000 messages, best of 3; 1 MB and 100 MB files
    python bench/decode_cli.py --quick    # 20,000 messages; 1 MB and 10 MB files; 10 start-ups
    python bench/decode_cli.py --json     # the results as JSON on stdout
    python bench/decode_cli.py --profile  # adds a cProfile of `decode --json` on the big file
    python bench/decode_cli.py --startup-only --startup-runs 21  # only the start-up section

``python bench/run.py`` runs this too, after its micro-benchmarks (``--skip-cli`` to skip).
Every command runs as a child process, timed by wall clock; its peak memory is that child's
own ``ru_maxrss`` (``os.wait4`` in a small fork-exec wrapper: see ``WRAPPER``). The
captures are written from the benchmark corpus (bench/corpus.py) into bench/.corpus/
(gitignored) and reused while their generator is unchanged. See bench/README.md for what
each row measures. The exit status is 0 whatever the figures: the targets are printed,
never enforced.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import platform
import pstats
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import corpus as corpus_mod  # noqa: E402

CORPUS_DIR = corpus_mod.CORPUS_DIR
BASELINE_SCRIPT = BENCH_DIR / "psio_decode_json.py"
STARTUP_VENV = CORPUS_DIR / "venv-startup"

CAPTURE_VERSION = 1
"""Bump when the capture writers below change: cached captures carry it in their name."""

MB = 1_000_000

# Targets (informational).
JSON_VS_BASELINE = 2.0  # `decode --json` throughput >= 2x the python-socketio baseline
HUMAN_VS_BASELINE = 1.0  # the terminal view (to a file) >= 1x the baseline
STARTUP_VS_FLOOR = 1.25  # a one-packet decode <= 1.25x the floor of its stack (FLOOR_CODE)
MEMORY_GROWTH_MIB = 16.0  # peak RSS on the big file <= peak on the 1 MB file + 16 MiB
HELP_OVER_PYTHON_MS = 60.0  # `siocli --help` <= `python -c pass` + 60 ms (medians)
DECODE_OVER_PYTHON_MS = 110.0  # a one-packet decode <= `python -c pass` + 110 ms

ONE_PACKET = '42["hey","Jude"]'
# The floor of the stack the design card names: what any click + rich command starts with.
FLOOR_CODE = "import click; from rich.console import Console; Console()"
STAGES_SCRIPT = BENCH_DIR / "decode_stages.py"
HUMAN_ENV = {"COLUMNS": "120"}  # the terminal view's width; output to a file renders plain

# Namespaces the corpus uses (bench/corpus.py: _NAMESPACES, and /files for binary chunks):
# the captures connect them first, as a client would, so that their packets are in order.
NAMESPACES = ["/admin", "/chat", "/orders", "/game", "/notifications", "/files"]
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# --- directions ------------------------------------------------------------------------------


class Traffic:
    """Turns corpus draws into frames of a session: ``(side, message)``, ``">"`` for client
    to server, ``"<"`` for server to client (the corpus has no directions).

    Deterministic (seeded). Server to client: the handshake, pings (Engine.IO 4), CONNECT
    answers (with a sid) and CONNECT_ERROR; client to server: pongs, CONNECT requests,
    DISCONNECT. Events go either way; an event with an ack id records its direction so that
    its ACK goes the other way; attachments follow their header. A CONNECT request gets its
    answer, a CONNECT answer its request, and after a DISCONNECT or a CONNECT_ERROR the client
    connects that namespace again: frames that are not in the corpus, added so that the
    session's packets stay mostly in order, as in a real capture.
    """

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed ^ 0x51DE5)
        self.asked: dict[str, str] = {}  # ack id -> direction of the event that asked
        self.binary = ">"

    def of(self, message: str | bytes) -> str:
        if message.__class__ is bytes:
            return self.binary
        text: str = message  # type: ignore[assignment]
        first = text[:1]
        if first == "0":
            return "<"
        if first in "23" and len(text) == 1:
            return "<" if first == "2" else ">"
        if first != "4" or len(text) < 2:
            return "<"
        kind = text[1]
        if kind == "0":
            return "<" if '"sid"' in text else ">"
        if kind == "1":
            return ">"
        if kind == "4":
            return "<"
        ack = _ack_id(text)
        if kind in "25":  # an event
            side = ">" if self.r.random() < 0.55 else "<"
            if ack:
                self.asked[ack] = side
                if len(self.asked) > 4096:
                    self.asked.pop(next(iter(self.asked)))
        else:  # an ack: the other way from its event
            asker = self.asked.pop(ack, None) if ack else None
            side = ("<" if asker == ">" else ">") if asker else self.r.choice("<>")
        if kind in "56":
            self.binary = side
        return side

    def frames(self, draw: list[str | bytes]) -> list[tuple[str, str | bytes]]:
        out = [(self.of(m), m) for m in draw]
        last = draw[-1]
        if last.__class__ is not str or last[:2] not in ("40", "41", "44"):  # type: ignore[index]
            return out
        text: str = last  # type: ignore[assignment]
        nsp = text[2:].split(",", 1)[0] + "," if text[2:3] == "/" else ""
        request = (">", f"40{nsp}")
        answer = ("<", f'40{nsp}{{"sid":"{sid(self.r)}"}}')
        if text[:2] != "40":  # left, or refused: connect again
            return [*out, request, answer]
        if out[-1][0] == ">":  # a CONNECT request: the server answers it
            return [*out, answer]
        return [request, *out]  # a CONNECT answer: the client asked first


def _ack_id(text: str) -> str:
    pos = 2
    if text[1:2] in ("5", "6"):
        pos = text.find("-", 2) + 1
    if text.startswith("/", pos):
        pos = text.find(",", pos) + 1
    end = pos
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[pos:end]


def sid(r: random.Random) -> str:
    return "".join(r.choice(ID_CHARS) for _ in range(20))


def handshake(session_id: str, upgrades: list[str]) -> str:
    return "0" + json.dumps(
        {
            "sid": session_id,
            "upgrades": upgrades,
            "pingInterval": 25000,
            "pingTimeout": 20000,
            "maxPayload": 1000000,
        },
        separators=(",", ":"),
    )


def preamble(r: random.Random, upgrades: list[str]) -> list[tuple[str, str]]:
    """The opening of a session: handshake, then every namespace connected."""
    out = [("<", handshake(sid(r), upgrades)), (">", "40"), ("<", f'40{{"sid":"{sid(r)}"}}')]
    for nsp in NAMESPACES:
        out += [(">", f"40{nsp},"), ("<", f'40{nsp},{{"sid":"{sid(r)}"}}')]
    return out


# --- captures --------------------------------------------------------------------------------


class Stats:
    """What a capture holds: counted while it is written, kept beside it as JSON."""

    def __init__(self) -> None:
        self.packets = 0  # Engine.IO packets (a polling body holds several)
        self.messages = 0  # wire messages: WebSocket frames and polling bodies
        self.binary = 0
        self.sessions = 0
        self.non_ascii = 0  # text packets with non-ASCII characters
        self.emoji = 0  # ... with a character beyond the BMP (most emoji)

    def count(self, message: str | bytes) -> None:
        self.packets += 1
        if message.__class__ is bytes:
            self.binary += 1
        elif not message.isascii():  # type: ignore[union-attr]
            self.non_ascii += 1
            if any(ord(c) > 0xFFFF for c in message):  # type: ignore[union-attr]
                self.emoji += 1

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def frame_line(side: str, message: str | bytes) -> str:
    if message.__class__ is bytes:
        return f"{side} <binary> {message.hex(' ')}\n"  # type: ignore[union-attr]
    return f"{side} {message}\n"


# No header lines after the 101: siocli before 44bbb6f read arrow lines after a 101 as frames
# (`< Upgrade: websocket` decoded as a bad message); the frames are what is measured.
TRANSCRIPT_HEAD = (
    "GET /socket.io/?EIO=4&transport=websocket\n"
    "< HTTP/1.1 101 Switching Protocols\n"
    "\n"
    "WebSocket frames:\n"
    "\n"
)


def write_transcript(
    draws: Iterable[list[str | bytes]], path: Path, seed: int, limit: int
) -> Stats:
    """A WebSocket-only transcript (the shape of tests/data/captures/*-websocket.txt): the
    upgrade request, then one frame per line by arrow, binary as ``<binary> 01 02 ...``.
    One Engine.IO session that lasts: the handshake, every namespace connected, then the
    messages, until ``limit`` bytes (if not 0) or the end of ``draws``. A draw is a corpus
    message, or a binary packet's header and attachments: never cut."""
    r = random.Random(seed)
    traffic = Traffic(seed)
    stats = Stats()
    stats.sessions = 1
    size = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(TRANSCRIPT_HEAD)
        size += len(TRANSCRIPT_HEAD)
        for side, message in preamble(r, []):
            f.write(frame_line(side, message))
            stats.count(message)
        for draw in draws:
            if limit and size >= limit:
                break
            for side, message in traffic.frames(draw):
                line = frame_line(side, message)
                f.write(line)
                stats.count(message)
                size += len(line) if line.isascii() else len(line.encode("utf-8"))
    stats.messages = stats.packets
    return stats


def first(draws: Iterable[list[str | bytes]], count: int) -> Iterator[list[str | bytes]]:
    """The draws that make ``corpus.build(count, seed)``: until ``count`` messages."""
    total = 0
    for draw in draws:
        yield draw
        total += len(draw)
        if total >= count:
            return


def endless(seed: int) -> Iterator[list[str | bytes]]:
    """The corpus's draws, as many as wanted (bench/corpus.py: ``draws``)."""
    for _, produced in corpus_mod.draws(seed):
        yield produced


class HarWriter:
    """A Chrome-style HAR of many Socket.IO sessions, streamed entry by entry.

    Each session: a polling handshake (GET), its namespace CONNECTs (POST) and their answers
    (GET), its first messages over long-polling (POST bodies and GET responses, packets
    joined by ``\\x1e``, binary as ``b<base64>``), then the upgrade: one WebSocket entry with
    the probe and the rest of its messages in ``_webSocketMessages`` (binary frames in
    base64). Between sessions, a page and an API call that are not Engine.IO (skipped by
    readers). No entry is large: a session holds ``per_session`` corpus messages.
    """

    def __init__(self, f: io.TextIOBase, seed: int, per_session: int) -> None:
        self.f = f
        self.r = random.Random(seed)
        self.traffic = Traffic(seed)
        self.per_session = per_session
        self.clock = 1_718_000_000.0  # epoch seconds
        self.stats = Stats()
        self.size = 0
        self.first = True
        self.host = "https://chat.example.com"

    def begin(self) -> None:
        head = (
            '{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},'
            '"pages":[{"startedDateTime":"'
            + self.iso(self.clock)
            + '","id":"page_1","title":"https://chat.example.com/","pageTimings":{}}],'
            '"entries":['
        )
        self.write(head)

    def end(self) -> None:
        self.write("]}}\n")

    def write(self, text: str) -> None:
        self.f.write(text)
        self.size += len(text) if text.isascii() else len(text.encode("utf-8"))

    def entry(self, entry: dict[str, Any]) -> None:
        self.write(("" if self.first else ",") + json.dumps(entry, ensure_ascii=False))
        self.first = False

    @staticmethod
    def iso(epoch: float) -> str:
        moment = datetime.fromtimestamp(epoch, timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def exchange(
        self,
        method: str,
        url: str,
        *,
        post: str | None = None,
        response: str = "",
        mime: str = "text/plain",
        resource: str = "xhr",
    ) -> None:
        started = self.clock
        duration_ms = round(self.r.uniform(1.0, 9.0), 3)
        self.clock += duration_ms / 1000 + self.r.uniform(0.001, 0.02)
        request: dict[str, Any] = {
            "method": method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Accept", "value": "*/*"},
                {"name": "User-Agent", "value": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"},
            ],
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        }
        if post is not None:
            request["postData"] = {"mimeType": "text/plain;charset=UTF-8", "text": post}
            request["bodySize"] = len(post.encode("utf-8"))
        size = len(response.encode("utf-8"))
        self.entry(
            {
                "_initiator": {"type": "script"},
                "_priority": "High",
                "_resourceType": resource,
                "cache": {},
                "connection": str(self.r.randrange(10_000, 99_999)),
                "pageref": "page_1",
                "request": request,
                "response": {
                    "status": 200,
                    "statusText": "OK",
                    "httpVersion": "HTTP/1.1",
                    "headers": [
                        {"name": "Content-Type", "value": f"{mime}; charset=UTF-8"},
                        {"name": "Content-Length", "value": str(size)},
                    ],
                    "cookies": [],
                    "content": {"size": size, "mimeType": mime, "text": response},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": size,
                    "_transferSize": size + 160,
                    "_error": None,
                },
                "serverIPAddress": "203.0.113.7",
                "startedDateTime": self.iso(started),
                "time": duration_ms,
                "timings": {
                    "blocked": 0.5,
                    "dns": -1,
                    "ssl": -1,
                    "connect": -1,
                    "send": 0.1,
                    "wait": duration_ms - 0.7,
                    "receive": 0.1,
                },
            }
        )

    def polling_body(self, packets: list[str | bytes]) -> str:
        parts = []
        for packet in packets:
            self.stats.count(packet)
            if packet.__class__ is bytes:
                parts.append("b" + base64.b64encode(packet).decode("ascii"))  # type: ignore[arg-type]
            else:
                parts.append(packet)  # type: ignore[arg-type]
        self.stats.messages += 1
        return "\x1e".join(parts)

    def session(self, messages: list[tuple[str, str | bytes]]) -> None:
        """One session; ``messages`` are its frames, ``(side, message)``."""
        r = self.r
        stats = self.stats
        stats.sessions += 1
        base = f"{self.host}/socket.io/?EIO=4&transport=polling"
        self.exchange("GET", f"{self.host}/", response="<!doctype html>", mime="text/html")
        session_id = sid(r)

        def t() -> str:
            return "".join(r.choice(ID_CHARS) for _ in range(7))

        opening = preamble(r, ["websocket"])
        opening[0] = ("<", handshake(session_id, ["websocket"]))
        self.exchange("GET", f"{base}&t={t()}", response=self.polling_body([opening[0][1]]))
        connects = [m for side, m in opening[1:] if side == ">"]
        answers = [m for side, m in opening[1:] if side == "<"]
        polled = f"{base}&t={{}}&sid={session_id}"
        self.exchange("POST", polled.format(t()), post=self.polling_body(connects), response="ok")
        self.exchange("GET", polled.format(t()), response=self.polling_body(answers))
        self.exchange("GET", f"{self.host}/api/me", response='{"user":"chloé"}', mime="json")
        # the first messages over long-polling, grouped by direction, up to 8 per body (a
        # binary packet's attachments go with their header)
        split = max(1, len(messages) // 10)
        while split < len(messages) and messages[split][1].__class__ is bytes:
            split += 1  # a binary packet travels whole on one transport
        run: list[str | bytes] = []
        run_side = ""

        def flush() -> None:
            body = self.polling_body(run)
            if run_side == ">":
                self.exchange("POST", polled.format(t()), post=body, response="ok")
            else:
                self.exchange("GET", polled.format(t()), response=body)
            run.clear()

        for side, message in messages[:split]:
            if message.__class__ is bytes:
                run.append(message)
                continue
            if run and (side != run_side or len(run) >= 8):
                flush()
            run.append(message)
            run_side = side
        if run:
            flush()
        # the upgrade: one WebSocket entry with every frame
        started = self.clock
        frames: list[dict[str, Any]] = []
        clock = started + 0.002

        def frame(side: str, message: str | bytes) -> None:
            nonlocal clock
            clock += r.uniform(0.0001, 0.01)
            if message.__class__ is bytes:
                data, opcode = base64.b64encode(message).decode("ascii"), 2  # type: ignore[arg-type]
            else:
                data, opcode = message, 1
            kind = "send" if side == ">" else "receive"
            frames.append({"type": kind, "time": round(clock, 6), "opcode": opcode, "data": data})

        frame(">", "2probe")
        frame("<", "3probe")
        frame(">", "5")
        stats.packets += 3
        for side, message in messages[split:]:
            frame(side, message)
            stats.count(message)
        stats.messages += len(frames)
        self.clock = clock + 0.01
        self.entry(
            {
                "_initiator": {"type": "script"},
                "_priority": None,
                "_resourceType": "websocket",
                "_webSocketMessages": frames,
                "cache": {},
                "connection": str(r.randrange(10_000, 99_999)),
                "pageref": "page_1",
                "request": {
                    "method": "GET",
                    "url": f"wss://chat.example.com/socket.io/?EIO=4&transport=websocket"
                    f"&sid={session_id}",
                    "httpVersion": "HTTP/1.1",
                    "headers": [
                        {"name": "Upgrade", "value": "websocket"},
                        {"name": "Sec-WebSocket-Version", "value": "13"},
                    ],
                    "queryString": [],
                    "cookies": [],
                    "headersSize": -1,
                    "bodySize": 0,
                },
                "response": {
                    "status": 101,
                    "statusText": "Switching Protocols",
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Upgrade", "value": "websocket"}],
                    "cookies": [],
                    "content": {"size": 0, "mimeType": "x-unknown"},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": 0,
                    "_transferSize": 0,
                    "_error": None,
                },
                "serverIPAddress": "203.0.113.7",
                "startedDateTime": self.iso(started),
                "time": round((clock - started) * 1000, 3),
                "timings": {
                    "blocked": 0.5,
                    "dns": -1,
                    "ssl": -1,
                    "connect": -1,
                    "send": 0,
                    "wait": 1.0,
                    "receive": 0,
                },
            }
        )


def write_har(draws: Iterator[list[str | bytes]], path: Path, seed: int, limit: int) -> Stats:
    """A HAR of sessions of ``per_session`` corpus messages each, until ``limit`` bytes (if
    not 0) or the end of ``draws``."""
    per_session = 1000
    with path.open("w", encoding="utf-8", newline="\n") as f:
        har = HarWriter(f, seed, per_session)
        har.begin()
        while not limit or har.size < limit:
            batch: list[tuple[str, str | bytes]] = []
            for draw in draws:  # whole draws: a binary packet is never cut
                batch += har.traffic.frames(draw)
                if len(batch) >= per_session:
                    break
            if not batch:
                break
            har.session(batch)
        har.end()
    return har.stats


def capture(kind: str, name: str, seed: int, make: Any) -> tuple[Path, dict[str, Any]]:
    """The capture ``name`` in bench/.corpus/, written by ``make(path)`` unless it is there
    already with its stats beside it (``<name>.stats.json``)."""
    path = CORPUS_DIR / name
    meta = path.with_name(path.name + ".stats.json")
    if path.exists() and meta.exists():
        try:
            info = json.loads(meta.read_text())
            if info.get("bytes") == path.stat().st_size:
                return path, info
        except (ValueError, OSError):
            pass
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        stats: Stats = make(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    info = {"kind": kind, "seed": seed, "bytes": path.stat().st_size, **stats.as_dict()}
    meta.write_text(json.dumps(info, indent=1))
    return path, info


def capture_name(kind: str, seed: int, size: str, ext: str) -> str:
    return f"cli-{kind}-v{CAPTURE_VERSION}g{corpus_mod.GENERATOR_VERSION}-seed{seed}-{size}.{ext}"


# --- child processes -------------------------------------------------------------------------


# The measuring parent of every command: a small `python -S` that forks, execs the command
# and reports its os.wait4 rusage and wall-clock time (fork to exit). A child's ru_maxrss
# starts at the RSS of the process it was forked from (Linux carries the old memory's high
# water mark across exec), so the command must not be forked from this benchmark process,
# whose RSS holds the captures' generator; the wrapper's is a few MiB (shown as the floor).
WRAPPER = """\
import os, sys, time
out = sys.argv[1]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(out, "w") as f:
    cpu = usage.ru_utime + usage.ru_stime
    f.write(f"{seconds!r} {code} {usage.ru_maxrss} {sys.platform} {cpu!r}")
sys.exit(code & 0xFF)
"""


class Child:
    """One run of a command: wall-clock seconds, exit status, peak RSS, stderr's tail."""

    def __init__(
        self, seconds: float, status: int, maxrss_mib: float, stderr: str, cpu: float = 0.0
    ) -> None:
        self.seconds = seconds
        self.status = status
        self.maxrss_mib = maxrss_mib
        self.stderr = stderr
        self.cpu_seconds = cpu  # user + system: steadier than wall time on a busy machine


def run_child(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    on_stdout: Any = None,
) -> Child:
    """Run ``cmd`` (stdout to /dev/null, or read by ``on_stdout(stream)``) under the
    measuring wrapper: its wall-clock time from fork to exit, and its own peak RSS (the
    ``os.wait4`` rusage of that one process: ``RUSAGE_CHILDREN`` would be the maximum over
    every child so far)."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as result:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", WRAPPER, result.name, *cmd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if on_stdout else subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=ROOT,
        )
        if on_stdout:
            on_stdout(proc.stdout)
            proc.stdout.close()  # type: ignore[union-attr]
        proc.wait()
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
        fields = result.read().split()
    if len(fields) != 5:
        return Child(0.0, proc.returncode or 1, 0.0, tail or "the wrapper failed")
    seconds, status, maxrss, platform_name, cpu = fields
    kib = int(maxrss) / 1024 if platform_name == "darwin" else int(maxrss)  # bytes on macOS
    return Child(float(seconds), int(status), kib / 1024, tail, float(cpu))


def measurement_floor() -> float:
    """The peak RSS the wrapper reports for a command that uses almost nothing."""
    return run_child(["true"]).maxrss_mib


def child_env(extra: dict[str, str] | None = None, *, isolated: bool = False) -> dict[str, str]:
    """The environment of a child: no PYTHON* variables that change how Python runs
    (PYTHONPATH is kept unless ``isolated``: a checkout may need it), no NO_COLOR. Bytecode
    is cached, as for any user (PYTHONDONTWRITEBYTECODE goes too); unless ``isolated``, in
    bench/.corpus/pycache rather than beside the checkout's sources."""
    keep = () if isolated else ("PYTHONPATH",)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") or k in keep}
    env.pop("NO_COLOR", None)
    env["PYTHONHASHSEED"] = "0"
    if not isolated:
        env["PYTHONPYCACHEPREFIX"] = str(CORPUS_DIR / "pycache")
    env.update(extra or {})
    return env


def siocli_command() -> list[str]:
    """The project's ``siocli`` (the entry point of this interpreter's environment)."""
    script = Path(sys.executable).parent / "siocli"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "siocli"]


def best_of(cmd: list[str], repeats: int, env: dict[str, str]) -> dict[str, Any]:
    runs = [run_child(cmd, env=env) for _ in range(repeats)]
    failed = [c for c in runs if c.status != 0]
    if failed:
        tail = failed[0].stderr.strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"exit status {failed[0].status}: {tail[0]}")
    return {
        "seconds": min(c.seconds for c in runs),
        "times": [c.seconds for c in runs],
        "cpu_seconds": min(c.cpu_seconds for c in runs),
        "cpu_times": [c.cpu_seconds for c in runs],
        "maxrss_mib": max(c.maxrss_mib for c in runs),
    }


def count_lines(cmd: list[str], env: dict[str, str], parse: bool) -> dict[str, Any]:
    """Run ``cmd`` once, reading its JSON lines: how many, and (``parse``) how many hold a
    decoding error or findings."""
    import orjson

    counts = {"lines": 0, "errors": 0, "findings": 0, "packets": 0}

    def read(stream: Any) -> None:
        for line in stream:
            counts["lines"] += 1
            if parse:
                record = orjson.loads(line)
                counts["packets"] += record.get("index") is not None
                counts["errors"] += "error" in record
                counts["findings"] += len(record.get("findings") or ())

    child = run_child(cmd, env=env, on_stdout=read)
    if child.status != 0:
        tail = child.stderr.strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"exit status {child.status}: {tail[0]}")
    return counts


# --- the start-up venv -----------------------------------------------------------------------


def source_hash() -> str:
    """SHA-256 of what an install of siocli is made of: siocli/** and pyproject.toml."""
    h = hashlib.sha256()
    files = sorted(
        p
        for p in (ROOT / "siocli").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    for p in [ROOT / "pyproject.toml", *files]:
        h.update(str(p.relative_to(ROOT)).encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


def startup_venv(log: Any) -> Path:
    """bench/.corpus/venv-startup: siocli installed from a copy of the source, NOT editable
    (an editable install adds an import hook, ~12 ms a start). Made once; siocli reinstalled
    when the source hash changes. Returns the venv's bin directory."""
    bindir = STARTUP_VENV / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    stamp = STARTUP_VENV / ".siocli-source-sha256"
    wanted = source_hash()
    ready = python.exists() and (bindir / "siocli").exists() and stamp.exists()
    if ready and stamp.read_text().strip() == wanted:
        return bindir
    fresh = not python.exists()
    if fresh:
        log("  creating bench/.corpus/venv-startup (non-editable install) ...")
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(STARTUP_VENV)], check=True)
    else:
        log("  siocli's source changed: reinstalling it in bench/.corpus/venv-startup ...")
    # Install from a copy: pip builds in the source tree, and the checkout is not ours.
    with tempfile.TemporaryDirectory(dir=CORPUS_DIR) as tmp:
        src = Path(tmp) / "siocli-src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "setup.py"):
            if (ROOT / name).exists():
                shutil.copy2(ROOT / name, src / name)
        shutil.copytree(
            ROOT / "siocli", src / "siocli", ignore=shutil.ignore_patterns("__pycache__")
        )
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        steps = [[*pip, str(src)]]  # with its dependencies (new ones too)
        if not fresh:  # and surely the new code, even if the version did not change
            steps.append([*pip, "--force-reinstall", "--no-deps", str(src)])
        for cmd in steps:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                raise RuntimeError(f"pip install failed: {tail[0]}")
    stamp.write_text(wanted + "\n")
    return bindir


# --- the run ---------------------------------------------------------------------------------


def throughput_rows(
    path: Path, info: dict[str, Any], repeats: int, log: Any, what: str = ""
) -> dict[str, Any]:
    """``decode --json``, the terminal view and the baseline on one capture; the ratios
    against the baseline, by wall-clock time and by CPU time (steadier on a busy machine)."""
    siocli = siocli_command()
    rows = [
        ("json", "siocli decode --json", [*siocli, "decode", "--json", str(path)], {}),
        ("human", "siocli decode (terminal view)", [*siocli, "decode", str(path)], HUMAN_ENV),
        (
            "baseline",
            "python-socketio baseline (JSON lines)",
            [sys.executable, str(BASELINE_SCRIPT), str(path)],
            {},
        ),
    ]
    results: dict[str, Any] = {}
    for key, label, cmd, extra in rows:
        if what:
            key, label = f"{key}_{what}", f"{label} ({what})"
        log(f"  {label} ...")
        row: dict[str, Any] = {"label": label, "command": show_command(cmd)}
        try:
            row.update(best_of(cmd, repeats, child_env(extra)))
            row["packets_per_s"] = info["packets"] / row["seconds"]
            row["mb_per_s"] = info["bytes"] / row["seconds"] / MB
        except (RuntimeError, OSError) as exc:
            row["note"] = f"failed: {exc}"
        results[key] = row
    base = next(r for k, r in results.items() if k.startswith("baseline"))
    for row in results.values():
        seconds, cpu = row.get("seconds"), row.get("cpu_seconds")
        ok = base.get("seconds") and seconds
        row["vs_baseline"] = base["seconds"] / seconds if ok else None
        ok = base.get("cpu_seconds") and cpu
        row["cpu_vs_baseline"] = base["cpu_seconds"] / cpu if ok else None
    return results


def measure_throughput(
    path: Path,
    info: dict[str, Any],
    repeats: int,
    check: bool,
    log: Any,
    har: tuple[Path, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    siocli = siocli_command()
    results = throughput_rows(path, info, repeats, log)
    if har is not None:
        results.update(throughput_rows(har[0], har[1], repeats, log, "HAR"))
    checks = []
    if check:
        log("  checking the outputs (one more run of each JSON writer) ...")
        try:
            got = count_lines([*siocli, "decode", "--json", str(path)], child_env(), parse=True)
            checks.append(
                f"siocli decode --json: {got['packets']:,} packet lines for "
                f"{info['packets']:,} packets"
                + ("" if got["packets"] == info["packets"] else " (DIFFER)")
                + f"; {got['errors']:,} decoding errors, {got['findings']:,} findings"
                " (the corpus is random traffic: the checker flags some of it)"
            )
        except (RuntimeError, OSError) as exc:
            checks.append(f"siocli decode --json: failed: {exc}")
        try:
            baseline = [sys.executable, str(BASELINE_SCRIPT), str(path)]
            got = count_lines(baseline, child_env(), parse=False)
            checks.append(
                f"python-socketio baseline: {got['lines']:,} lines for {info['packets']:,} "
                "packets" + ("" if got["lines"] == info["packets"] else " (DIFFER)")
            )
        except (RuntimeError, OSError) as exc:
            checks.append(f"python-socketio baseline: failed: {exc}")
    return {"rows": results, "checks": checks}


def measure_breakdown(path: Path, repeats: int, log: Any) -> dict[str, Any]:
    """Where each microsecond per packet goes (bench/decode_stages.py, in a child)."""
    log(f"  stages of decode on {path.name} (CPU time, best of {repeats}) ...")
    out: list[str] = []

    def read(stream: Any) -> None:
        out.append(stream.read().decode())

    cmd = [sys.executable, str(STAGES_SCRIPT), str(path), "--repeat", str(repeats)]
    child = run_child(cmd, env=child_env(), on_stdout=read)
    if child.status != 0:
        tail = child.stderr.strip().splitlines()[-1:] or ["no message"]
        return {"note": f"failed: exit status {child.status}: {tail[0]}"}
    return json.loads(out[0])  # type: ignore[no-any-return]


def measure_memory(
    files: list[tuple[str, str, Path, dict[str, Any]]], log: Any
) -> list[dict[str, Any]]:
    siocli = siocli_command()
    out = []
    for kind, size, path, info in files:
        log(f"  peak memory: decode --json {path.name} ...")
        row: dict[str, Any] = {"kind": kind, "size": size, "file": path.name, **info}
        child = run_child([*siocli, "decode", "--json", str(path)], env=child_env())
        if child.status != 0:
            tail = child.stderr.strip().splitlines()[-1:] or ["no message"]
            row["note"] = f"failed: exit status {child.status}: {tail[0]}"
        else:
            row["maxrss_mib"] = child.maxrss_mib
            row["seconds"] = child.seconds
            row["packets_per_s"] = info["packets"] / child.seconds
        out.append(row)
    return out


def measure_startup(runs: int, log: Any) -> dict[str, Any]:
    try:
        bindir = startup_venv(log)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return {"note": f"skipped: {exc}", "rows": {}}
    python = str(bindir / "python")
    siocli = str(bindir / "siocli")
    commands = {
        "python": ("python -c pass", [python, "-c", "pass"], {}),
        "floor": ("floor: click + rich Console()", [python, "-c", FLOOR_CODE], {}),
        "help": ("siocli --help", [siocli, "--help"], {}),
        "decode": (f"siocli decode '{ONE_PACKET}'", [siocli, "decode", ONE_PACKET], HUMAN_ENV),
        "decode_json": (
            f"siocli decode --json '{ONE_PACKET}'",
            [siocli, "decode", "--json", ONE_PACKET],
            {},
        ),
    }
    return time_startup(commands, runs, log)


def time_startup(
    commands: dict[str, tuple[str, list[str], dict[str, str]]],
    runs: int,
    log: Any,
    statuses: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The median wall-clock time of each command (``runs`` runs, interleaved, after two
    warm-up runs each), and ``over_python_ms`` against the ``python`` command. Commands run
    from the start-up venv's environment (``isolated``). Each must exit 0, or with the status
    ``statuses`` gives its key; else the section is ``{"note": "skipped: ...", "rows": {}}``."""
    expected = statuses or {}
    log(f"  start-up: {runs} runs of each command, interleaved ...")
    times: dict[str, list[float]] = {key: [] for key in commands}
    rss: dict[str, float] = {}
    for key, (_, cmd, extra) in commands.items():  # warm the caches (and check it works)
        for _ in range(2):
            child = run_child(cmd, env=child_env(extra, isolated=True))
        if child.status != expected.get(key, 0):
            failed = f"{show_command(cmd)} exited {child.status}: {child.stderr.strip()}"
            return {"note": f"skipped: {failed}", "rows": {}}
    for _ in range(runs):
        for key, (_, cmd, extra) in commands.items():
            child = run_child(cmd, env=child_env(extra, isolated=True))
            times[key].append(child.seconds)
            rss[key] = max(rss.get(key, 0.0), child.maxrss_mib)
    rows = {}
    for key, (label, cmd, _) in commands.items():
        median = statistics.median(times[key])
        rows[key] = {
            "label": label,
            "command": show_command(cmd),
            "median_ms": median * 1000,
            "min_ms": min(times[key]) * 1000,
            "times": times[key],
            "maxrss_mib": rss[key],
        }
    base = rows["python"]["median_ms"]
    for row in rows.values():
        row["over_python_ms"] = row["median_ms"] - base
    return {"rows": rows, "runs": runs, "venv": str(STARTUP_VENV.relative_to(ROOT))}


def profile(args: list[str], name: str, limit: int = 30) -> str:
    """A cProfile of ``python -m siocli ARGS`` (saved as bench/.corpus/NAME.prof), by own
    and cumulative time."""
    prof = CORPUS_DIR / f"{name}.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "siocli", *args]
    child = run_child(cmd, env=child_env())
    if child.status != 0:
        return f"profile failed: {child.stderr.strip()[-500:]}"
    out = io.StringIO()
    stats = pstats.Stats(str(prof), stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    out.write("\n--- by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def show_command(cmd: list[str]) -> str:
    """A command as a shell would take it, with paths relative to the checkout."""
    shown = []
    for part in cmd:
        path = Path(part)
        if path.is_absolute() and path.is_relative_to(ROOT):
            part = str(path.relative_to(ROOT))
        shown.append(part)
    return shlex.join(shown)


def run(
    *,
    quick: bool = False,
    packets: int | None = None,
    seed: int = corpus_mod.DEFAULT_SEED,
    repeats: int | None = None,
    big_mb: int | None = None,
    startup_runs: int | None = None,
    check: bool = True,
    with_profile: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Measure everything; the report as a dict (:func:`render` prints it)."""

    def log(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    count = packets or (corpus_mod.QUICK_COUNT if quick else corpus_mod.DEFAULT_COUNT)
    repeats = repeats or 3
    big = big_mb or (10 if quick else 100)
    runs = startup_runs or (10 if quick else 20)

    log("decode CLI: preparing captures (reused from bench/.corpus/ when present) ...")
    tp_path, tp_info = capture(
        "transcript",
        capture_name("throughput", seed, f"n{count}", "txt"),
        seed,
        lambda p: write_transcript(first(endless(seed), count), p, seed, 0),
    )
    har_path, har_info = capture(
        "har",
        capture_name("throughput", seed, f"n{count}", "har"),
        seed,
        lambda p: write_har(first(endless(seed), count), p, seed, 0),
    )
    memory_files = []
    for kind, ext, writer in (("transcript", "txt", write_transcript), ("har", "har", write_har)):
        for size in (1, big):
            name = capture_name(kind, seed, f"{size}MB", ext)

            def make(p: Path, writer: Any = writer, size: int = size) -> Stats:
                return writer(endless(seed), p, seed, size * MB)  # type: ignore[no-any-return]

            path, info = capture(kind, name, seed, make)
            memory_files.append((kind, f"{size} MB", path, info))

    log(f"decode CLI: throughput (best of {repeats}) ...")
    throughput = measure_throughput(tp_path, tp_info, repeats, check, log, har=(har_path, har_info))
    log("decode CLI: where the time goes, per packet ...")
    breakdown = {
        "transcript": measure_breakdown(tp_path, repeats, log),
        "har": measure_breakdown(har_path, repeats, log),
    }
    log("decode CLI: peak memory ...")
    memory = measure_memory(memory_files, log)
    log("decode CLI: start-up ...")
    startup = measure_startup(runs, log)

    targets: list[dict[str, Any]] = []

    def target(label: str, value: float | None, need: float, unit: str, lower: bool) -> None:
        targets.append(target_row(label, value, need, unit, lower))

    rows = throughput["rows"]
    for suffix, what in (("", "transcript"), ("_HAR", "HAR")):
        for key, label, need in (
            ("json", "decode --json", JSON_VS_BASELINE),
            ("human", "terminal view", HUMAN_VS_BASELINE),
        ):
            for ratio, how in (("vs_baseline", "wall"), ("cpu_vs_baseline", "CPU")):
                target(
                    f"{label} >= {need:g}x python-socketio ({what}, {how})",
                    rows.get(key + suffix, {}).get(ratio),
                    need,
                    "x",
                    False,
                )
    for kind in ("transcript", "har"):
        small = next((m for m in memory if m["kind"] == kind and m["size"] == "1 MB"), {})
        large = next((m for m in memory if m["kind"] == kind and m["size"] == f"{big} MB"), {})
        growth = (
            large["maxrss_mib"] - small["maxrss_mib"]
            if "maxrss_mib" in small and "maxrss_mib" in large
            else None
        )
        target(
            f"{kind} {big} MB peak <= 1 MB peak + {MEMORY_GROWTH_MIB:g} MiB",
            growth,
            MEMORY_GROWTH_MIB,
            "MiB",
            True,
        )
    srows = startup["rows"]
    over = {k: r["over_python_ms"] for k, r in srows.items()}
    floor = srows.get("floor", {}).get("median_ms")
    for key in ("decode", "decode_json"):
        target(
            f"{srows[key]['label'] if key in srows else key} <= {STARTUP_VS_FLOOR:g}x the floor",
            srows[key]["median_ms"] / floor if floor and key in srows else None,
            STARTUP_VS_FLOOR,
            "x",
            True,
        )
    target(
        f"siocli --help <= python -c pass + {HELP_OVER_PYTHON_MS:g} ms",
        over.get("help"),
        HELP_OVER_PYTHON_MS,
        "ms",
        True,
    )
    target(
        f"decode one packet <= python -c pass + {DECODE_OVER_PYTHON_MS:g} ms",
        over.get("decode"),
        DECODE_OVER_PYTHON_MS,
        "ms",
        True,
    )
    target(
        f"decode --json one packet <= python -c pass + {DECODE_OVER_PYTHON_MS:g} ms",
        over.get("decode_json"),
        DECODE_OVER_PYTHON_MS,
        "ms",
        True,
    )

    report: dict[str, Any] = {
        "environment": {
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "platform": platform.platform(terse=True),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "siocli": show_command(siocli_command()),
            "rss_floor_mib": measurement_floor(),
        },
        "repeats": repeats,
        "throughput": {
            "file": str(tp_path.relative_to(ROOT)),
            "capture": tp_info,
            "corpus_messages": count,
            **throughput,
        },
        "har": {"file": str(har_path.relative_to(ROOT)), "capture": har_info},
        "breakdown": breakdown,
        "memory": memory,
        "startup": startup,
        "targets": targets,
    }
    if with_profile:
        big_file = next(p for k, s, p, _ in memory_files if k == "transcript" and s != "1 MB")
        log(f"decode CLI: cProfile of decode --json {big_file.name} ...")
        text = profile(["decode", "--json", str(big_file)], "decode-json")
        report["profile"] = {"file": big_file.name, "text": text}
    return report


# --- output ----------------------------------------------------------------------------------


def startup_lines(su: dict[str, Any], width: int = 40) -> list[str]:
    """The START-UP section of a :func:`time_startup` report."""
    if not su["rows"]:
        return [f"START-UP: {su.get('note', 'skipped')}"]
    lines = [
        f"START-UP: median of {su['runs']} runs (interleaved), non-editable install in {su['venv']}"
    ]
    header = f"{'':{width + 2}} {'median':>9} {'min':>9} {'over python':>12} {'peak RSS':>9}"
    lines += [header, "-" * len(header)]
    for row in su["rows"].values():
        lines.append(
            f"  {row['label']:{width}} {row['median_ms']:>6.1f} ms {row['min_ms']:>6.1f} ms "
            f"{row['over_python_ms']:>+9.1f} ms {row['maxrss_mib']:>5.1f} MiB"
        )
    return lines


def target_row(label: str, value: float | None, need: float, unit: str, lower: bool) -> dict:
    """A target and whether ``value`` meets it (``None``: not measured). ``unit`` "x" is a
    ratio; ``lower``: the value must be at most ``need``, else at least."""
    ok = None if value is None else (value <= need if lower else value >= need)
    return {
        "target": label,
        "value": value,
        "need": need,
        "unit": unit,
        "lower_is_better": lower,
        "pass": ok,
    }


def target_lines(targets: list[dict[str, Any]], width: int = 58) -> list[str]:
    """The TARGETS section: PASS, MISS or n/a, the value and what was needed."""
    lines = ["TARGETS (informational: the benchmark never fails)"]
    for t in targets:
        mark = {True: "PASS", False: "MISS", None: "n/a "}[t["pass"]]
        need = f"need {'<=' if t['lower_is_better'] else '>='} {t['need']:g}"
        need += "x" if t["unit"] == "x" else f" {t['unit']}"
        lines.append(f"  {mark}  {t['target']:{width}} {_value(t):>12}  ({need})")
    return lines


def _value(t: dict[str, Any]) -> str:
    v = t["value"]
    if v is None:
        return "-"
    if t["unit"] == "x":
        return f"{v:.2f}x"
    return f"{v:+.1f} {t['unit']}"


def render(report: dict[str, Any]) -> str:
    env = report["environment"]
    tp = report["throughput"]
    cap = tp["capture"]
    lines = [
        f"siocli decode, end to end: {env['siocli']}, {env['python']}, {env['platform']} "
        f"{env['machine']}, {env['cpus']} CPUs",
        "",
        f"THROUGHPUT: {tp['file']} ({cap['bytes'] / MB:.1f} MB, {cap['packets']:,} Engine.IO "
        f"packets: the {tp['corpus_messages']:,} corpus messages + session opening; "
        f"{cap['binary']:,} binary), best of {report['repeats']}, output to /dev/null",
    ]
    if "har" in report:
        har = report["har"]["capture"]
        lines.append(
            f"HAR: {report['har']['file']} ({har['bytes'] / MB:.1f} MB, the same corpus "
            f"messages in {har['sessions']:,} sessions of polling then WebSocket, "
            f"{har['packets']:,} Engine.IO packets)"
        )
    header = (
        f"{'':48} {'wall s':>7} {'packets/s':>10} {'MB/s':>6} {'peak RSS':>9} {'vs base':>8}"
        f" {'CPU s':>6} {'vs base':>8}"
    )
    lines += [header, "-" * len(header)]

    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}x"

    for row in tp["rows"].values():
        if row.get("seconds") is None:
            lines.append(f"  {row['label']:46} {row.get('note', '')}")
            continue
        lines.append(
            f"  {row['label']:46} {row['seconds']:>7.2f} {row['packets_per_s']:>10,.0f} "
            f"{row['mb_per_s']:>6.2f} {row['maxrss_mib']:>5.1f} MiB "
            f"{ratio(row['vs_baseline']):>8} {row.get('cpu_seconds', 0):>6.2f} "
            f"{ratio(row.get('cpu_vs_baseline')):>8}"
        )
    for kind, stages in report.get("breakdown", {}).items():
        lines += ["", *breakdown_lines(kind, stages)]
    lines += [
        "",
        "PEAK MEMORY: siocli decode --json FILE > /dev/null (ru_maxrss of the child; "
        f"measurement floor {env['rss_floor_mib']:.1f} MiB)",
    ]
    header = (
        f"{'':30} {'MB':>6} {'packets':>9} {'sessions':>8} {'non-ASCII':>9} {'emoji':>6} "
        f"{'peak RSS':>10} {'seconds':>8} {'packets/s':>10}"
    )
    lines += [header, "-" * len(header)]
    for m in report["memory"]:
        label = f"{m['kind']} {m['size']}"
        if "maxrss_mib" not in m:
            lines.append(f"  {label:28} {m.get('note', '')}")
            continue
        lines.append(
            f"  {label:28} {m['bytes'] / MB:>6.1f} {m['packets']:>9,} {m['sessions']:>8,} "
            f"{m['non_ascii']:>9,} {m['emoji']:>6,} {m['maxrss_mib']:>6.1f} MiB "
            f"{m['seconds']:>8.2f} {m['packets_per_s']:>10,.0f}"
        )
    lines += ["", *startup_lines(report["startup"])]
    lines += ["", *target_lines(report["targets"])]
    if tp.get("checks"):
        lines += ["", "CHECKS"] + [f"  {c}" for c in tp["checks"]]
    lines += [
        "",
        "packets/s = Engine.IO packets in the file / best wall-clock time of the whole command "
        "(start-up included); MB/s = file bytes / time (10^6 B).",
    ]
    if "profile" in report:
        lines += [
            "",
            f"PROFILE of siocli decode --json {report['profile']['file']} (cProfile)",
            report["profile"]["text"],
        ]
    return "\n".join(lines)


def breakdown_lines(kind: str, report: dict[str, Any]) -> list[str]:
    """The BREAKDOWN section: microseconds per Engine.IO packet, stage by stage."""
    if "note" in report:
        return [f"BREAKDOWN ({kind}): {report['note']}"]
    lines = [
        f"BREAKDOWN ({kind}): µs of CPU per Engine.IO packet, stage by stage, in one process "
        f"({report['file']}, {report['packets']:,} packets; best of {report['repeats']}; "
        "start-up excluded)"
    ]
    json_rows = {r["stage"]: r["us_per_packet"] for r in report["json"]}
    human_rows = {r["stage"]: r["us_per_packet"] for r in report["human"]}
    stages = list(dict.fromkeys([*json_rows, *human_rows]))
    header = f"  {'':36} {'--json':>8} {'terminal':>9}"
    lines += [header, "  " + "-" * (len(header) - 2)]
    for stage in stages:
        a, b = json_rows.get(stage), human_rows.get(stage)
        shown_a = "" if a is None else f"{a:8.2f}"
        shown_b = "" if b is None else f"{b:9.2f}"
        lines.append(f"  {stage:36} {shown_a:>8} {shown_b:>9}")
    lines.append(
        f"  {'total (the whole run_decode)':36} {report['json_total_us']:8.2f} "
        f"{report['human_total_us']:9.2f}"
    )
    return lines


def startup_only(runs: int, as_json: bool) -> int:
    """``--startup-only``: the start-up section and its ratios against the floor, alone."""

    def log(text: str) -> None:
        if not as_json:
            print(text, file=sys.stderr, flush=True)

    startup = measure_startup(runs, log)
    rows = startup["rows"]
    floor = rows.get("floor", {}).get("median_ms")
    targets = [
        target_row(
            f"{rows[key]['label']} <= {STARTUP_VS_FLOOR:g}x the floor",
            rows[key]["median_ms"] / floor,
            STARTUP_VS_FLOOR,
            "x",
            True,
        )
        for key in ("decode", "decode_json")
        if floor and key in rows
    ]
    if as_json:
        print(json.dumps({"startup": startup, "targets": targets}, indent=2))
    else:
        print("\n".join([*startup_lines(startup), "", *target_lines(targets)]))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--big-mb", type=int, metavar="MB", help="size of the big captures (default 100)"
    )
    parser.add_argument(
        "--startup-runs", type=int, metavar="N", help="runs per start-up figure (default 20)"
    )
    parser.add_argument(
        "--no-check", action="store_true", help="skip the output check (one run less each)"
    )
    parser.add_argument(
        "--startup-only",
        action="store_true",
        help="measure only the start-up section (no captures, throughput or memory)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 messages, 10 MB files")
    parser.add_argument("--packets", type=int, metavar="N", help="corpus size for throughput")
    parser.add_argument("--seed", type=int, default=corpus_mod.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, metavar="R", help="runs per throughput figure")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="append a cProfile of decode --json (big file)"
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.startup_only:
        return startup_only(args.startup_runs or (10 if args.quick else 20), args.json)
    report = run(
        quick=args.quick,
        packets=args.packets,
        seed=args.seed,
        repeats=args.repeat,
        big_mb=args.big_mb,
        startup_runs=args.startup_runs,
        check=not args.no_check,
        with_profile=args.profile,
        quiet=args.json,
    )
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
