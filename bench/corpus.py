"""The benchmark corpus: WebSocket messages of Engine.IO 4 / Socket.IO 5 sessions.

Deterministic for a given ``(count, seed)``: the same messages on every machine and every
run, generated in memory and cached as JSON lines in ``bench/.corpus/`` (gitignored) so that
the Node reference and the worker subprocesses read the very same bytes.

A message is ``str`` (a text frame) or ``bytes`` (a binary frame: a binary attachment). The
mix, by draw (a binary draw emits its header and then its one or two attachments)::

    45%  small events          42["typing",{"room":"general"}]      some with ack ids
    25%  medium events         42["chat:message",{...~200-600 B...}] chat, price ticks,
                                                                      game state, order books
    10%  acks                  43123[{"ok":true}]
     8%  namespaced            42/admin,17["x",{...}], 43/chat,5[...]
     5%  binary                451-["upload",{...},{"_placeholder":true,"num":0}] + bytes
     7%  control               2, 3, 40, 40{"sid":...}, 40/admin,{"token":...}, 41/chat,,
                               44/admin,{"message":...}, 0{...handshake...}

JSON is written as ``JSON.stringify`` writes it (compact, UTF-8, no escaping of non-ASCII),
so re-encoding a decoded message gives the message back byte for byte.

File format (``.jsonl``): line 1 is a header object ``{"header": {...}}``; then one line per
message: a JSON string for a text frame, ``{"b": "<base64>"}`` for a binary frame.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import string
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "CORPUS_DIR",
    "DEFAULT_COUNT",
    "DEFAULT_SEED",
    "GENERATOR_VERSION",
    "QUICK_COUNT",
    "Corpus",
    "build",
    "draws",
    "load",
]

GENERATOR_VERSION = 1
"""Bump when the generator changes: cached files carry it in their name."""

DEFAULT_COUNT = 200_000
QUICK_COUNT = 20_000
DEFAULT_SEED = 20240611
CORPUS_DIR = Path(__file__).resolve().parent / ".corpus"

Message = str | bytes


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- vocabulary ---------------------------------------------------------------------------

_USERS = [
    "alice",
    "bob",
    "chloé",
    "dmitri",
    "eve",
    "françois",
    "grace",
    "hiro",
    "inès",
    "jürgen",
    "kai",
    "lena",
    "mateo",
    "nadia",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sven",
    "tomás",
    "ulrike",
    "viktor",
    "wen",
    "xiomara",
    "yusuf",
    "zoë",
    "李雷",
    "たかし",
]
_VOCABULARY = (
    "the a to and of is in it you that for on was with he as I his they be at one have this "
    "from or had by hot word but what some we can out other were all there when up use your "
    "how said an each she which do their time if will way about many then them write would "
    "like so these her long make thing see him two has look more day could go come did number "
    "sound no most people my over know water than call first who may down side been now find "
    "deploy build merge ship release ticket review meeting lunch coffee tomorrow tonight ok "
    "thanks great sounds good lgtm done wip blocked déjà-vu naïve café über señor"
)
_WORDS = _VOCABULARY.split()
_EMOJI = ["🎉", "👍", "😂", "🚀", "❤️", "🔥", "👀", "✅"]
_ROOMS = ["general", "random", "dev", "ops", "support", "sales", "design", "lobby"]
_SMALL_EVENTS = [
    "typing",
    "presence",
    "cursor",
    "join",
    "leave",
    "read",
    "like",
    "hey",
    "move",
    "heartbeat",
    "subscribe",
    "unsubscribe",
    "vote",
    "status",
    "seen",
    "focus",
]
_SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "AAPL", "MSFT", "TSLA", "EUR-USD", "GBP-JPY"]
_NAMESPACES = ["/admin", "/chat", "/orders", "/game", "/notifications"]
_FILE_TYPES = [
    ("photo.jpg", "image/jpeg"),
    ("clip.webm", "video/webm"),
    ("voice.ogg", "audio/ogg"),
    ("report.pdf", "application/pdf"),
    ("chunk.bin", "application/octet-stream"),
]
_ID_CHARS = string.ascii_letters + string.digits + "-_"


class _Gen:
    """One generator; all randomness comes from ``self.r`` (seeded)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.ts = 1_718_000_000_000  # milliseconds, advancing
        self.next_ack = {"c2s": 1, "s2c": 1}
        self.open_acks: list[int] = []
        self.msg_seq = 1000

    # -- values --

    def sid(self) -> str:
        return "".join(self.r.choice(_ID_CHARS) for _ in range(20))

    def tick(self) -> int:
        self.ts += self.r.randrange(1, 40)
        return self.ts

    def text(self, lo: int, hi: int) -> str:
        r = self.r
        words = [r.choice(_WORDS) for _ in range(r.randint(lo, hi))]
        if r.random() < 0.15:
            words.append(r.choice(_EMOJI))
        return " ".join(words)

    def user(self) -> dict[str, object]:
        r = self.r
        name = r.choice(_USERS)
        uid = r.randrange(1, 50_000)
        return {
            "id": uid,
            "name": name,
            "avatar": f"https://cdn.example.com/avatars/{uid}.png",
        }

    def price(self, base: float) -> float:
        return round(base * (1 + self.r.uniform(-0.01, 0.01)), 2)

    def ack_id(self) -> int:
        direction = "c2s" if self.r.random() < 0.7 else "s2c"
        ack = self.next_ack[direction]
        self.next_ack[direction] += 1
        self.open_acks.append(ack)
        if len(self.open_acks) > 64:
            del self.open_acks[: len(self.open_acks) - 64]
        return ack

    def answered_ack_id(self) -> int:
        if self.open_acks and self.r.random() < 0.9:
            return self.open_acks.pop(self.r.randrange(len(self.open_acks)))
        return self.r.randrange(1, 5000)

    # -- payloads --

    def small_args(self) -> list[object]:
        r = self.r
        name = r.choice(_SMALL_EVENTS)
        kind = r.random()
        if kind < 0.25:
            return [name, r.choice(_USERS)]
        if kind < 0.45:
            return [name, {"room": r.choice(_ROOMS)}]
        if kind < 0.6:
            return [name, {"x": r.randrange(0, 1920), "y": r.randrange(0, 1080)}]
        if kind < 0.72:
            return [name, r.randrange(0, 10_000), r.random() < 0.5]
        if kind < 0.82:
            return [name]
        if kind < 0.9:
            return ["hey", "Jude"]
        return [
            name,
            {"user": r.randrange(1, 50_000), "state": r.choice(["on", "off", "away"])},
            self.tick(),
        ]

    def chat_message(self) -> dict[str, object]:
        r = self.r
        self.msg_seq += 1
        msg: dict[str, object] = {
            "id": f"m_{self.msg_seq}",
            "room": r.choice(_ROOMS),
            "author": self.user(),
            "text": self.text(8, 40),
            "ts": self.tick(),
            "edited": r.random() < 0.05,
        }
        if r.random() < 0.3:
            msg["mentions"] = [r.choice(_USERS) for _ in range(r.randint(1, 3))]
        if r.random() < 0.3:
            msg["reactions"] = {e: r.randint(1, 12) for e in r.sample(_EMOJI, r.randint(1, 3))}
        if r.random() < 0.2:
            msg["replyTo"] = f"m_{self.msg_seq - r.randint(1, 50)}"
        return msg

    def price_tick(self) -> dict[str, object]:
        r = self.r
        base = r.choice([67_000.0, 3_500.0, 150.0, 190.0, 420.0, 250.0, 1.08, 190.5])
        levels = r.randint(3, 8)
        return {
            "symbol": r.choice(_SYMBOLS),
            "bid": self.price(base),
            "ask": self.price(base),
            "last": self.price(base),
            "volume": r.randrange(1, 10_000_000),
            "change": round(r.uniform(-5, 5), 3),
            "ts": self.tick(),
            "bids": [[self.price(base), round(r.uniform(0.01, 50), 4)] for _ in range(levels)],
            "asks": [[self.price(base), round(r.uniform(0.01, 50), 4)] for _ in range(levels)],
        }

    def game_state(self) -> dict[str, object]:
        r = self.r
        return {
            "tick": r.randrange(0, 1_000_000),
            "players": [
                {
                    "id": r.randrange(1, 10_000),
                    "pos": [round(r.uniform(-500, 500), 2), round(r.uniform(-500, 500), 2)],
                    "hp": r.randrange(0, 101),
                    "alive": r.random() < 0.9,
                }
                for _ in range(r.randint(3, 7))
            ],
            "events": [
                [r.choice(["hit", "pickup", "spawn"]), r.randrange(1, 10_000)]
                for _ in range(r.randint(0, 4))
            ],
        }

    def order(self) -> dict[str, object]:
        r = self.r
        return {
            "orderId": self.sid(),
            "customer": self.user(),
            "items": [
                {
                    "sku": f"SKU-{r.randrange(10_000, 99_999)}",
                    "qty": r.randint(1, 5),
                    "price": round(r.uniform(1, 300), 2),
                }
                for _ in range(r.randint(1, 4))
            ],
            "status": r.choice(["created", "paid", "shipped", "delivered"]),
            "ts": self.tick(),
        }

    def medium_args(self) -> list[object]:
        r = self.r
        kind = r.random()
        if kind < 0.4:
            return ["chat:message", self.chat_message()]
        if kind < 0.7:
            return ["price", self.price_tick()]
        if kind < 0.85:
            return ["state", self.game_state()]
        return ["order:update", self.order()]

    def ack_payload(self) -> list[object]:
        r = self.r
        kind = r.random()
        if kind < 0.25:
            return []
        if kind < 0.45:
            return [{"ok": True}]
        if kind < 0.6:
            return [None, {"id": f"m_{self.msg_seq}", "ts": self.tick()}]
        if kind < 0.7:
            return ["ok"]
        if kind < 0.8:
            return [{"error": "not allowed", "code": 403}]
        return [self.chat_message() if r.random() < 0.5 else self.order()]

    # -- messages --

    def event(self, args: list[object], namespace: str = "") -> str:
        ack = str(self.ack_id()) if self.r.random() < 0.2 else ""
        nsp = namespace + "," if namespace else ""
        return f"42{nsp}{ack}{_dumps(args)}"

    def ack(self, namespace: str = "") -> str:
        nsp = namespace + "," if namespace else ""
        return f"43{nsp}{self.answered_ack_id()}{_dumps(self.ack_payload())}"

    def namespaced(self) -> list[Message]:
        r = self.r
        nsp = r.choice(_NAMESPACES)
        kind = r.random()
        if kind < 0.2:
            return [self.ack(nsp)]
        if kind < 0.4:
            return [self.event(self.medium_args(), nsp)]
        if kind < 0.55:
            return [self.event(["x", {"level": r.randint(1, 5), "note": self.text(2, 6)}], nsp)]
        return [self.event(self.small_args(), nsp)]

    def binary(self) -> list[Message]:
        r = self.r
        sizes = [32, 64, 128, 256, 512, 1024, 2048, 4096]
        attachments = [
            r.randbytes(int(r.choice(sizes) * r.uniform(0.5, 1)))
            for _ in range(1 if r.random() < 0.8 else 2)
        ]
        placeholders = [{"_placeholder": True, "num": i} for i in range(len(attachments))]
        kind = r.random()
        count = len(attachments)
        if kind < 0.15:  # a binary ack
            header = f"46{count}-{self.answered_ack_id()}{_dumps(placeholders)}"
        elif kind < 0.3:  # namespaced, with an ack id
            name, mime = r.choice(_FILE_TYPES)
            args = ["chunk", {"file": name, "seq": r.randrange(0, 500)}, *placeholders]
            header = f"45{count}-/files,{self.ack_id()}{_dumps(args)}"
        else:
            name, mime = r.choice(_FILE_TYPES)
            meta = {"name": name, "type": mime, "size": sum(map(len, attachments))}
            if r.random() < 0.5:
                args = ["upload", meta, *placeholders]
            else:
                args = ["upload", {**meta, "data": placeholders[0]}, *placeholders[1:]]
            header = f"45{count}-{_dumps(args)}"
        return [header, *attachments]

    def control(self) -> list[Message]:
        r = self.r
        kind = r.random()
        if kind < 0.55:
            return ["2" if r.random() < 0.5 else "3"]
        if kind < 0.65:
            return ["40"]
        if kind < 0.75:
            return [f"40{_dumps({'sid': self.sid()})}"]
        if kind < 0.82:
            nsp = r.choice(_NAMESPACES)
            return [f"40{nsp},{_dumps({'token': self.sid() + self.sid()})}"]
        if kind < 0.88:
            return [f"40{r.choice(_NAMESPACES)},{_dumps({'sid': self.sid()})}"]
        if kind < 0.93:
            return ["41" if r.random() < 0.5 else f"41{r.choice(_NAMESPACES)},"]
        if kind < 0.97:
            payload = {"message": "Not authorized", "data": {"code": "E_AUTH"}}
            return [f"44{r.choice(_NAMESPACES)},{_dumps(payload)}"]
        handshake = {
            "sid": self.sid(),
            "upgrades": [],
            "pingInterval": 25000,
            "pingTimeout": 20000,
            "maxPayload": 1000000,
        }
        return [f"0{_dumps(handshake)}"]


_MIX: list[tuple[float, str]] = [
    (0.45, "small"),
    (0.25, "medium"),
    (0.10, "ack"),
    (0.08, "namespaced"),
    (0.05, "binary"),
    (0.07, "control"),
]


class Corpus:
    """The messages, and what the benchmark needs to know about them."""

    def __init__(self, messages: list[Message], seed: int, categories: dict[str, int]) -> None:
        self.messages = messages
        self.seed = seed
        self.categories = categories
        self.count = len(messages)
        self.wire_bytes = sum(
            len(m) if m.__class__ is bytes else len(m.encode("utf-8"))  # type: ignore[union-attr]
            for m in messages
        )
        self.binary_messages = sum(1 for m in messages if m.__class__ is bytes)
        self.sha256 = digest(messages)

    def describe(self) -> dict[str, object]:
        return {
            "messages": self.count,
            "wire_bytes": self.wire_bytes,
            "binary_messages": self.binary_messages,
            "seed": self.seed,
            "generator_version": GENERATOR_VERSION,
            "sha256": self.sha256,
            "mix": self.categories,
        }


def digest(messages: list[Message]) -> str:
    h = hashlib.sha256()
    for m in messages:
        if m.__class__ is bytes:
            h.update(b"B%d:" % len(m))
            h.update(m)  # type: ignore[arg-type]
        else:
            raw = m.encode("utf-8")  # type: ignore[union-attr]
            h.update(b"T%d:" % len(raw))
            h.update(raw)
    return h.hexdigest()


def draws(seed: int = DEFAULT_SEED) -> Iterator[tuple[str, list[Message]]]:
    """The endless stream of draws behind :func:`build`: ``(category, messages)``, where a
    binary draw's messages are its header and then its attachments. ``build(n, seed)`` is
    the first draws of ``draws(seed)`` until ``n`` messages; streaming them lets a consumer
    write captures of any size in bounded memory (bench/decode_cli.py does)."""
    gen = _Gen(seed)
    makers: dict[str, Callable[[], list[Message]]] = {
        "small": lambda: [gen.event(gen.small_args())],
        "medium": lambda: [gen.event(gen.medium_args())],
        "ack": lambda: [gen.ack()],
        "namespaced": gen.namespaced,
        "binary": gen.binary,
        "control": gen.control,
    }
    cumulative: list[tuple[float, str]] = []
    total = 0.0
    for weight, name in _MIX:
        total += weight
        cumulative.append((total, name))
    rand = gen.r.random
    while True:
        x = rand() * total
        name = next(n for bound, n in cumulative if x < bound)
        yield name, makers[name]()


def build(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Corpus:
    """Generate at least ``count`` messages (a binary packet is never cut off)."""
    messages: list[Message] = []
    categories = {name: 0 for _, name in _MIX}
    if count > 0:
        for name, produced in draws(seed):
            categories[name] += len(produced)
            messages.extend(produced)
            if len(messages) >= count:
                break
    return Corpus(messages, seed, categories)


def cache_path(count: int, seed: int) -> Path:
    return CORPUS_DIR / f"corpus-v{GENERATOR_VERSION}-seed{seed}-n{count}.jsonl"


def write(corpus: Corpus, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({"header": corpus.describe()}) + "\n")
        for m in corpus.messages:
            if m.__class__ is bytes:
                f.write('{"b":"' + base64.b64encode(m).decode("ascii") + '"}\n')  # type: ignore[arg-type]
            else:
                f.write(json.dumps(m, ensure_ascii=False) + "\n")
    tmp.replace(path)


def read(path: Path) -> Corpus:
    with path.open(encoding="utf-8") as f:
        header = json.loads(f.readline())["header"]
        messages: list[Message] = []
        loads = json.loads
        for line in f:
            item = loads(line)
            messages.append(item if item.__class__ is str else base64.b64decode(item["b"]))
    corpus = Corpus(messages, header["seed"], header["mix"])
    if corpus.sha256 != header["sha256"]:
        raise ValueError(f"{path}: content does not match its header digest")
    return corpus


def load(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> tuple[Corpus, Path]:
    """The corpus for ``(count, seed)``: from the cache file if valid, else generated (and
    written to the cache). Returns the corpus and the path of its file."""
    path = cache_path(count, seed)
    if path.exists():
        try:
            return read(path), path
        except (ValueError, KeyError, OSError):
            pass  # stale or damaged: regenerate
    corpus = build(count, seed)
    write(corpus, path)
    return corpus, path


if __name__ == "__main__":  # python bench/corpus.py [count] [seed]: build, print the summary
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_COUNT
    s = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_SEED
    c, p = load(n, s)
    print(json.dumps({"file": str(p), **c.describe()}, indent=2))
