"""Differential test: siocli against the real Node parsers on seeded random inputs.

A few thousand inputs are generated here (valid packets of both layers and revisions, then
mutated: characters inserted, deleted, replaced, spans duplicated, truncated; random
namespaces, ack ids, attachment counts, JSON fragments, Unicode), judged in one batch by a
single Node process (tests/vectors/judge.js, the parsers of node/node_modules), and siocli
must agree with every verdict: accept/reject and the decoded fields (tests/reference_check.py),
except where the reference's result falls under a deviation the core documents (and then
only as far as that deviation goes: see reference_check.DEVIATIONS).

The same batch re-judges the curated inputs, to notice vectors gone stale after a parser
upgrade. Needs ``node`` on PATH and ``npm install`` run in node/.
"""

from __future__ import annotations

import base64
import json
import random
import re
import subprocess
from collections import Counter, defaultdict
from typing import Any

import pytest

from . import realservers
from .reference_check import (
    VECTORS_DIR,
    describe,
    deviation_problems,
    disagreements,
    documented_deviation,
    load_vectors,
)

pytestmark = pytest.mark.node

JUDGE = VECTORS_DIR / "judge.js"

SEED = 20240917
SOCKET_CASES = 2200
ENGINE_CASES = 2200


# --- random inputs ---------------------------------------------------------------------------

# Characters and fragments that matter to the grammars (the engine.io-protocol spec, the
# socket.io-protocol spec), and some that do not.
TOKENS = [
    *"0123456789",
    "-",
    "/",
    ",",
    ":",
    "[",
    "]",
    "{",
    "}",
    '"',
    " ",
    "\t",
    "\n",
    "\r",
    "\x1e",
    "\x00",
    "\u00a0",
    "\ufeff",
    "\u2028",
    "€",
    "😀",
    "\ud800",
    "é",
    "b",
    "e",
    "E",
    "x",
    ".",
    "+",
    "=",
    "٣",
    "１",
    "null",
    "true",
    "false",
    "NaN",
    "Infinity",
    "0x",
    "1e1",
    '"connect"',
    '"disconnect"',
    '"error"',
    '{"_placeholder":true,"num":0}',
    '{"_placeholder":true,"num":1}',
    "9007199254740993",
    "/admin,",
    "AQID",
    "==",
]
NAMES = ["", "admin", "chat", "a b", "€", "😀", "x?y=1", "a/b", "/", " ", "\u2028", "ns-1"]
STRINGS = [
    '""',
    '"a"',
    '"hello"',
    '"€"',
    '"😀"',
    '"\\u2028"',
    '"\\ud800"',
    '"\\n"',
    '"x y"',
    '"connect"',
    '"disconnect"',
    '"connect_error"',
    '"newListener"',
    '"error"',
    '"\\""',
    '"_placeholder"',
    '"message-with-ack"',
]
NUMBERS = ["0", "1", "-1", "42", "1.5", "-0", "7e2", "2.5E-3", "9007199254740993", "3"]


def rand_json(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.45:
        return rng.choice(
            [
                *STRINGS,
                *NUMBERS,
                "true",
                "false",
                "null",
                '{"_placeholder":true,"num":'
                + rng.choice(["0", "1", "2", "-1", "0.5", '"0"'])
                + "}",
            ]
        )
    if roll < 0.75:
        items = [rand_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
        return "[" + ",".join(items) + "]"
    keys = rng.sample(
        ['"a"', '"b"', '"message"', '"data"', '"sid"', '"token"', '"_placeholder"', '"num"', '"x"'],
        rng.randint(0, 3),
    )
    return "{" + ",".join(f"{k}:{rand_json(rng, depth + 1)}" for k in keys) + "}"


def rand_event(rng: random.Random) -> str:
    name = rng.choice([*STRINGS, "1", "0", "-5", "1.5", "null", "[]", "{}"])
    args = [rand_json(rng) for _ in range(rng.randint(0, 3))]
    return "[" + ",".join([name, *args]) + "]"


def rand_payload(rng: random.Random, ptype: str) -> str:
    if rng.random() < 0.25:
        return rand_json(rng)
    if ptype in "25":
        return rand_event(rng)
    if ptype in "36":
        return "[" + ",".join(rand_json(rng) for _ in range(rng.randint(0, 3))) + "]"
    if ptype == "0":
        return rng.choice(
            ["{}", '{"token":"123"}', '{"sid":"oSO0OpakMV_3jnilAAAA"}', rand_json(rng)]
        )
    if ptype == "4":
        return rng.choice(
            ['"Invalid namespace"', '{"message":"x","data":{"code":42}}', rand_json(rng)]
        )
    return rand_json(rng)


def rand_socket_text(rng: random.Random) -> str:
    ptype = rng.choice("0123456") if rng.random() < 0.93 else rng.choice(["7", "9", "a", " ", ""])
    text = ptype
    if ptype in "56":
        count = rng.choice(["1", "1", "2", "3", "0", "", " 1", "1.0", "01", "x", "11", "10", "1e0"])
        text += count + ("-" if rng.random() < 0.95 else "")
    if rng.random() < 0.5:
        text += "/" + rng.choice(NAMES) + ("," if rng.random() < 0.85 else "")
    if rng.random() < 0.4:
        text += rng.choice(
            [
                "0",
                "1",
                "12",
                "456",
                "007",
                " ",
                "1 2",
                " 3 ",
                "99999999999999999999",
                "\u00a0",
                str(rng.randint(0, 10**6)),
            ]
        )
    if rng.random() < 0.85:
        text += rand_payload(rng, ptype)
    return text


def mutate(rng: random.Random, text: str, tokens: list[str]) -> str:
    for _ in range(rng.randint(1, 3)):
        pos = rng.randint(0, len(text))
        op = rng.random()
        if op < 0.3:
            text = text[:pos] + rng.choice(tokens) + text[pos:]
        elif op < 0.55 and text:
            end = min(len(text), pos + rng.randint(1, 3))
            text = text[:pos] + text[end:]
        elif op < 0.8 and text:
            pos = min(pos, len(text) - 1)
            text = text[:pos] + rng.choice(tokens) + text[pos + 1 :]
        elif op < 0.9 and text:
            end = min(len(text), pos + rng.randint(1, 6))
            text = text[:end] + text[pos:end] + text[end:]
        else:
            text = text[:pos]
    return text


def binary(raw: bytes) -> dict[str, str]:
    return {"$binary": base64.b64encode(raw).decode("ascii")}


def rand_bytes(rng: random.Random, low: int = 0, high: int = 5) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randint(low, high)))


def attachment_count(text: str) -> int:
    head = text[1:].split("-", 1)[0]
    return int(head) if head.isdigit() and int(head) < 12 else 1


def socket_cases(rng: random.Random, n: int) -> list[dict[str, Any]]:
    cases = []
    for _ in range(n):
        text = rand_socket_text(rng)
        if rng.random() < 0.6:
            text = mutate(rng, text, TOKENS)
        messages: list[Any] = [text]
        if text[:1] in ("5", "6"):
            count = attachment_count(text) + rng.choice([0, 0, 0, 0, -1, 1])
            messages += [binary(rand_bytes(rng)) for _ in range(max(count, 0))]
        roll = rng.random()
        if roll < 0.08:
            messages.append(rand_socket_text(rng))
        elif roll < 0.12:
            messages.insert(0, binary(rand_bytes(rng, 1)))
        elif roll < 0.2:
            messages.insert(0, rand_socket_text(rng))
        cases.append({"layer": "socketio", "protocol": rng.choice((4, 5)), "messages": messages})
    return cases


def rand_base64(rng: random.Random) -> str:
    raw = rand_bytes(rng, 0, 7)
    text = base64.b64encode(raw).decode("ascii")
    roll = rng.random()
    if roll < 0.3:
        text = text.rstrip("=")
    elif roll < 0.5:
        text = mutate(rng, text, ["=", " ", "-", "_", "!", "A", "\n", "€", "/", "+"])
    return text


def rand_engine_packet(rng: random.Random, eio: int) -> str:
    roll = rng.random()
    if roll < 0.2:
        if eio == 3:
            return "b" + rng.choice("0123456" if rng.random() < 0.9 else "7x ") + rand_base64(rng)
        return "b" + rand_base64(rng)
    ptype = rng.choice("0123456") if rng.random() < 0.85 else rng.choice(["7", "a", " ", "", "٤"])
    data = rng.choice(
        [
            "",
            "hello",
            "probe",
            "€",
            "😀",
            "\ud800",
            '0["a"]',
            '2["x",1]',
            '{"sid":"x"}',
            "a\nb",
            " ",
            "1:2",
            "\u2028",
        ]
    )
    return ptype + data


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def xhr2(entries: list[str | bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        if isinstance(entry, str):
            data = entry.encode("utf-8", "surrogatepass")
            out += bytes([0, *map(int, str(len(data))), 0xFF]) + data
        else:
            out += bytes([1, *map(int, str(len(entry))), 0xFF]) + entry
    return bytes(out)


def mutate_bytes(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 2)):
        pos = rng.randint(1, max(1, len(data)))  # keep the first byte: it selects the framing
        op = rng.random()
        byte = rng.choice([0, 1, 2, 9, 10, 0xFF, 0x34, 0x07, rng.randrange(256)])
        if op < 0.35 and pos < len(data):
            data[pos] = byte
        elif op < 0.6:
            data.insert(pos, byte)
        elif op < 0.85 and pos < len(data):
            del data[pos]
        else:
            del data[pos:]
    return bytes(data)


def engine_cases(rng: random.Random, n: int) -> list[dict[str, Any]]:
    cases = []
    engine_tokens = [*TOKENS, "\x1e", "\x1e", ":", "b4", "b"]
    for _ in range(n):
        eio = rng.choice((3, 4))
        roll = rng.random()
        if roll < 0.25:
            kind, data = "packet", rand_engine_packet(rng, eio)
            if rng.random() < 0.5:
                data = mutate(rng, data, engine_tokens)
        elif roll < 0.35:
            kind = "packet"
            raw = rand_bytes(rng, 0, 5)
            if eio == 3 and raw and rng.random() < 0.8:
                raw = bytes([rng.randrange(7)]) + raw[1:]
            data = binary(raw)
        else:
            kind = "payload"
            packets = [rand_engine_packet(rng, eio) for _ in range(rng.randint(1, 4))]
            if eio == 4:
                data = "\x1e".join(packets)
                if rng.random() < 0.5:
                    data = mutate(rng, data, engine_tokens)
            elif rng.random() < 0.3:
                entries: list[str | bytes] = [
                    p if rng.random() < 0.6 else bytes([rng.randrange(7)]) + rand_bytes(rng)
                    for p in packets
                ]
                raw = xhr2(entries)
                if rng.random() < 0.5:
                    raw = mutate_bytes(rng, raw)
                data = binary(raw)
            else:
                data = "".join(f"{utf16_units(p)}:{p}" for p in packets)
                if rng.random() < 0.5:
                    data = mutate(rng, data, engine_tokens)
        cases.append({"layer": "engineio", "eio": eio, "kind": kind, "input": data})
    return cases


def random_cases() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    return socket_cases(rng, SOCKET_CASES) + engine_cases(rng, ENGINE_CASES)


def curated_cases(vectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cases = []
    for v in vectors:
        if "eio" in v:
            cases.append(
                {"layer": "engineio", "eio": v["eio"], "kind": v["kind"], "input": v["input"]}
            )
        else:
            cases.append(
                {"layer": "socketio", "protocol": v["protocol"], "messages": v["messages"]}
            )
    return cases


# --- the reference, in one Node process ------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    return realservers.node()


@pytest.fixture(scope="module")
def curated() -> list[dict[str, Any]]:
    return load_vectors("engineio.json") + load_vectors("socketio.json")


@pytest.fixture(scope="module")
def judged(node: str, curated: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Random and curated cases, each merged with the reference's verdict."""
    generated = random_cases()
    cases = generated + curated_cases(curated)
    request = "".join(json.dumps(case) + "\n" for case in cases)
    done = subprocess.run(
        [node, str(JUDGE)],
        input=request,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # split on "\n" only: str.splitlines() would also split inside strings at U+2028 and U+0085
    answers = [json.loads(line) for line in done.stdout.split("\n") if line]
    assert len(answers) == len(cases), done.stderr
    broken = [
        (case, a["judge_error"])
        for case, a in zip(cases, answers, strict=True)
        if "judge_error" in a
    ]
    assert not broken, broken[:3]
    merged = [{**case, **answer} for case, answer in zip(cases, answers, strict=True)]
    return {"random": merged[: len(generated)], "curated": merged[len(generated) :]}


# --- the tests -------------------------------------------------------------------------------


def _category(problem: str) -> str:
    """Group problems by what went wrong, not by the input: 'packet[3].data: ...' ->
    'packet.data'; for rejections, crashes and encoder errors, also siocli's reason."""
    head, _, rest = problem.partition(":")
    head = re.sub(r"\[\d+\]", "", head)

    def norm(text: str) -> str:
        return re.sub(r"0x[0-9a-f]+|\b\d+\b|'[^']*'", "_", text)[:70]

    if head == "crash":
        return "crash: siocli raised " + norm(rest.split("raised ", 1)[1])
    if "siocli reject " in rest:
        return f"{head}: siocli rejects: " + norm(
            rest.split("siocli reject ", 1)[1].split(" (at")[0]
        )
    if "siocli accept" in rest or "siocli incomplete" in rest:
        return f"{head}: siocli accepts what the reference rejects"
    raised = re.search(r"siocli \W*(\w+Error): (.*)", rest)
    if raised:
        return f"{head}: siocli raises {raised[1]}: " + norm(raised[2])
    if "(None, " in rest:
        return f"{head}: the reference has a packet of undefined type"
    return head


def _summary(failures: dict[str, list[str]]) -> str:
    lines = []
    for category, items in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"{category}: {len(items)} disagreements, e.g.")
        lines += [f"    {item}" for item in items[:4]]
    return "siocli disagrees with the reference:\n" + "\n".join(lines)


def test_siocli_decodes_like_the_reference(judged: dict[str, list[dict[str, Any]]]) -> None:
    """Same verdict and same decoded fields, or a documented deviation."""
    failures: dict[str, list[str]] = defaultdict(list)
    for vector in judged["random"]:
        problems = disagreements(vector, encode=False)
        if not problems:
            continue
        deviation = documented_deviation(vector)
        if deviation is not None:
            # siocli rejects, having delivered what the reference delivered first
            problems = deviation_problems(vector, deviation)
        for problem in problems:
            failures[_category(problem)].append(f"{describe(vector)}\n      {problem}")
    assert not failures, _summary(failures)


def test_siocli_encodes_like_the_reference(judged: dict[str, list[dict[str, Any]]]) -> None:
    """Where both decode alike, siocli's encoder writes what the reference encoder writes."""
    failures: dict[str, list[str]] = defaultdict(list)
    for vector in judged["random"]:
        if "encoded" not in vector or disagreements(vector, encode=False):
            continue  # decoding differences are the other test's
        for problem in disagreements(vector):
            failures[_category(problem)].append(f"{describe(vector)}\n      {problem}")
    assert not failures, _summary(failures)


def test_random_inputs_reach_both_verdicts(judged: dict[str, list[dict[str, Any]]]) -> None:
    """The generator is not degenerate: every layer/revision sees accepted and rejected input."""
    seen = Counter(
        (v["layer"], v.get("eio", v.get("protocol")), v.get("kind", ""), v["verdict"])
        for v in judged["random"]
    )
    for layer, version, kind in [
        ("engineio", 3, "packet"),
        ("engineio", 4, "packet"),
        ("engineio", 3, "payload"),
        ("engineio", 4, "payload"),
        ("socketio", 4, ""),
        ("socketio", 5, ""),
    ]:
        for verdict in ("accept", "reject"):
            assert seen[(layer, version, kind, verdict)] >= 50, (
                layer,
                version,
                kind,
                verdict,
                seen,
            )
    assert seen[("socketio", 5, "", "incomplete")] > 0


def test_curated_vectors_are_current(
    judged: dict[str, list[dict[str, Any]]], curated: list[dict[str, Any]]
) -> None:
    """The stored vectors still say what the installed parsers say (else regenerate them)."""
    fields = ("verdict", "packets", "error", "encoded", "pending", "quirks")
    stale = [
        stored["id"]
        for stored, fresh in zip(curated, judged["curated"], strict=True)
        if any(stored.get(f) != fresh.get(f) for f in fields)
    ]
    assert not stale, f"run `node tests/vectors/generate.js`: {stale[:20]}"
