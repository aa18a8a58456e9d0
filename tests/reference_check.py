"""Compare siocli with the Node reference parsers' verdicts (tests/vectors/reference.js).

One helper, :func:`disagreements`, takes a vector (an input plus the reference's verdict, as
written by ``tests/vectors/generate.js`` or ``tests/vectors/judge.js``) and returns every way
siocli differs from the reference, both directions:

* decoding: accept/reject/incomplete, the decoded fields, and for rejected text payloads
  the packets delivered before the error;
* encoding: what siocli's encoder writes for the reference's decoded packets, and for the
  packets siocli itself decoded (a round trip), against what the reference encoder writes.

Values are compared as JavaScript sees them: numbers by their IEEE double (so siocli's exact
``12345678901234567890`` equals JavaScript's ``12345678901234567000``).

The deliberate deviations the core documents are listed in :data:`DEVIATIONS`. Those that
change a verdict (siocli rejects what the reference accepts) are left to the callers: see
:func:`documented_deviation` and :func:`deviation_problems` (curated vectors also carry an
explicit ``"siocli"`` override). The others are narrow and recognised here, each only where
it explains the whole difference: :func:`disagreements` records the ones it granted in its
``applied`` set.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siocli.protocol import engineio, socketio
from siocli.protocol.errors import DecodeError
from siocli.protocol.types import EnginePacket, EngineType, SocketPacket, SocketType

VECTORS_DIR = Path(__file__).parent / "vectors"


class _Undefined:
    """JavaScript ``undefined`` inside decoded data (``{"$undefined": true}``)."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()


@dataclass(frozen=True)
class Deep:
    """Decoded data too deeply nested for the vector file (``{"$deep": depth}``)."""

    depth: int


@dataclass(frozen=True)
class EncoderFailure:
    """The reference encoder threw (``{"$error": message}``)."""

    message: str


def from_json(value: Any) -> Any:
    """Undo the ``$``-conventions of the vector files."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "$binary":
                return base64.b64decode(inner)
            if key == "$number":
                return float(inner)  # "NaN", "Infinity", "-Infinity"
            if key == "$undefined":
                return UNDEFINED
            if key == "$deep":
                return Deep(inner)
            if key == "$error":
                return EncoderFailure(inner)
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def load_vectors(name: str) -> list[dict[str, Any]]:
    with open(VECTORS_DIR / name, encoding="utf-8") as f:
        return json.load(f)["vectors"]


# --- JavaScript value semantics ------------------------------------------------------------


def _as_double(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:  # an int beyond the double range is Infinity to JavaScript
        return math.inf if number > 0 else -math.inf


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same_value(expected: Any, actual: Any) -> bool:
    """``actual`` (siocli) equals ``expected`` (reference) as JavaScript values."""
    if _is_number(expected) and _is_number(actual):
        a, b = _as_double(expected), _as_double(actual)
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(expected, bytes) and isinstance(actual, (bytes, bytearray, memoryview)):
        return expected == bytes(actual)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(same_value, expected, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            same_value(v, actual[k]) for k, v in expected.items()
        )
    return type(expected) is type(actual) and expected == actual


def contains(value: Any, predicate: Any) -> bool:
    if predicate(value):
        return True
    if isinstance(value, list):
        return any(contains(v, predicate) for v in value)
    if isinstance(value, dict):
        return any(contains(v, predicate) for v in value.values())
    return False


def depth(value: Any) -> int:
    if isinstance(value, Deep):
        return value.depth
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- documented deviations -----------------------------------------------------------------

MUST_REJECT = "must reject"
MAY_REJECT = "may reject"
FEWER_BEFORE_ERROR = "delivers fewer packets before the error"
OTHER_TEXT = "writes other text for the same values"

#: The deliberate deviations the protocol core documents: name -> (kind, reason).
DEVIATIONS = {
    # siocli rejects where the reference accepts (see documented_deviation)
    "nan-id": (MUST_REJECT, "ack id that JavaScript's Number() makes NaN"),
    "placeholder-num": (MUST_REJECT, "non-integer placeholder num (reference: undefined)"),
    "unknown-type": (MUST_REJECT, "protocol 4 unknown type (reference: ERROR packet)"),
    "xhr2": (
        MUST_REJECT,
        "Engine.IO v3 XHR2 binary payload quirk (engine.io-parser 2.x decodePayloadAsBinary)",
    ),
    "undefined-eio-type": (
        MUST_REJECT,
        "Engine.IO v3 packet without a valid type (type byte or digit not 0-6, or none): "
        "the reference returns {type: undefined}; a packet without a type is not a packet",
    ),
    "utf8-replacement": (
        MUST_REJECT,
        "invalid UTF-8 in an XHR2 text entry: the reference's non-strict utf8 decode "
        "substitutes U+FFFD; siocli reports invalid UTF-8",
    ),
    "base64": (MAY_REJECT, "base64 that is neither canonical nor unpadded"),
    "deep-json": (MAY_REJECT, "JSON nested deeper than ~1000 levels"),
    # same verdict, fewer packets before the error (recognised by disagreements)
    "split-surrogate-partial": (
        FEWER_BEFORE_ERROR,
        "a v3 text payload length that splits a surrogate pair: both reject, but the "
        "reference first delivers the half packet; siocli does not",
    ),
    # the encoder writes other text for the same JavaScript values (recognised by
    # disagreements, which then compares the JavaScript rendering of siocli's text)
    "js-number-text": (
        OTHER_TEXT,
        "floats keep Python's form (1.0, 100.0, -0.0, exponents) where JSON.stringify "
        "writes 1, 100, 0",
    ),
    "exact-big-int": (
        OTHER_TEXT,
        "integers beyond 2^53 (data and ack ids) keep all their digits; JavaScript rounds "
        "them, and makes a long enough ack id Infinity",
    ),
    "key-order": (
        OTHER_TEXT,
        "object keys keep wire order; JavaScript enumerates integer-like keys first",
    ),
    "binary-zero-count-v4": (
        OTHER_TEXT,
        "protocol 4 BINARY_EVENT/BINARY_ACK with no bytes left goes as EVENT/ACK; "
        "socket.io-parser 3.x writes a 0 count that current decoders reject",
    ),
}

VERDICT_KINDS = (MUST_REJECT, MAY_REJECT)


def _socket_packets(vector: dict[str, Any]) -> list[dict[str, Any]]:
    packets = list(vector.get("packets", []))
    if vector.get("pending"):
        packets.append(vector["pending"])
    return packets


def documented_deviation(vector: dict[str, Any]) -> str | None:
    """The documented deviation that lets siocli reject this vector's input, if any.

    It is looked for in everything the reference decoded, also before an error: siocli may
    stop earlier than the reference, at the packet it deviates on.
    """
    if "eio" in vector:
        kinds = {key for quirk in vector.get("quirks", []) for key in quirk}
        if "xhr2" in kinds:
            return "xhr2"
        if "utf8" in kinds:
            return "utf8-replacement"
        if vector["eio"] == 3 and any(p["type"] is None for p in vector["packets"]):
            return "undefined-eio-type"
        if "base64" in kinds:
            return "base64"
        return None
    for packet in _socket_packets(vector):
        if packet.get("error_packet"):
            return "unknown-type"
        ack_id = from_json(packet.get("id"))
        if isinstance(ack_id, float) and math.isnan(ack_id):
            return "nan-id"
        data = from_json(packet.get("data"))
        if contains(data, lambda v: v is UNDEFINED):
            return "placeholder-num"
        if depth(data) > 1000:
            return "deep-json"
    return None


def deviation_problems(vector: dict[str, Any], deviation: str) -> list[str]:
    """What is left of siocli's disagreement on ``vector`` once the verdict deviation
    ``deviation`` is granted: siocli rejects (it must, for a MUST_REJECT one), and the
    packets it delivered before its error are the first ones the reference delivered (it
    stops at the packet it deviates on, or earlier)."""
    kind, reason = DEVIATIONS[deviation]
    assert kind in VERDICT_KINDS, deviation
    try:
        if "eio" in vector:
            eio, data = vector["eio"], _engine_input(vector)
            verdict, engine_packets, _ = _engine_decode(eio, vector["kind"], data)
        else:
            messages = [from_json(m) for m in vector["messages"]]
            verdict, socket_packets, *_ = _socket_decode(vector["protocol"], messages)
    except Exception as exc:
        return [f"crash: siocli raised {type(exc).__name__}: {exc}"]
    if verdict != "reject":
        if kind == MUST_REJECT:
            return [f"deviation {deviation}: siocli should reject ({reason})"]
        return disagreements(vector, encode=False)
    where = f"deviation {deviation}: packets before siocli's error"
    reference = vector["packets"]
    if "eio" in vector:
        if len(engine_packets) > len(reference):
            return [f"{where}: siocli delivers more than the reference"]
        return _engine_packet_problems(where, reference[: len(engine_packets)], engine_packets)
    if len(socket_packets) > len(reference):
        return [f"{where}: siocli delivers more than the reference"]
    problems: list[str] = []
    for n, (want, got) in enumerate(zip(reference, socket_packets, strict=False)):
        problems += _socket_packet_problems(f"{where}[{n}]", want, got)
    return problems


def _utf16_units(text: str) -> list[int]:
    raw = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]


_JS_SPACE = (  # what Number() trims: WhiteSpace and LineTerminator
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def _js_length(text: str) -> int | None:
    """``Number(text)`` for a v3 length prefix, when it is a plain non-negative integer."""
    text = text.strip(_JS_SPACE)
    if text == "":
        return 0
    if text.isascii() and text.isdigit():
        return int(text)
    return None  # other forms ("0x6", "6e0"...) are not followed here


def _splits_surrogate_pair(text: str, packet_index: int) -> bool:
    """Whether the ``packet_index``-th packet engine.io-parser 2.x delivers from the v3 text
    payload ``text`` ends between the two halves of a surrogate pair (its decodePayload
    loop, walking UTF-16 code units)."""
    units = _utf16_units(text)
    i, length, delivered = 0, "", 0
    while i < len(units):
        if units[i] != 0x3A:  # ':'
            length += chr(units[i])
            i += 1
            continue
        n = _js_length(length) if length else None
        if n is None or i + 1 + n > len(units):
            return False
        stop = i + 1 + n
        if n:
            if delivered == packet_index:
                return (
                    0xD800 <= units[stop - 1] <= 0xDBFF
                    and stop < len(units)
                    and 0xDC00 <= units[stop] <= 0xDFFF
                )
            delivered += 1
        i, length = stop, ""
    return False


# --- JavaScript rendering of siocli's text (the OTHER_TEXT deviations) ----------------------

_JSON_TOKEN = re.compile(
    r'(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<lit>true|false|null)"
    r"|(?P<punct>[\[\]{}:,])",
    re.DOTALL,
)
_INTEGER_LITERAL = re.compile(r"-?[0-9]+")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


class _Unexplained(Exception):
    pass


def js_number_text(number: float) -> str:
    """ECMAScript ``Number::toString`` (what JSON.stringify writes for a finite number)."""
    if math.isnan(number):
        return "NaN"
    if number == 0:
        return "0"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number < 0:
        return "-" + js_number_text(-number)
    mantissa, _, exponent = repr(number).partition("e")  # repr: the shortest round trip
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    k, n = len(digits), point  # number = 0.<digits> * 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(e)}"


def _json_tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    while pos < len(text):
        match = _JSON_TOKEN.match(text, pos)
        if match is None:
            raise _Unexplained(f"not JSON at {pos}")
        assert match.lastgroup is not None
        tokens.append((match.lastgroup, match.group()))
        pos = match.end()
    return tokens


def _js_key_order(members: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Object members in JavaScript's enumeration order: array-index keys ascending, then
    the other keys in insertion order."""
    index_keys = []
    other_keys = []
    for member in members:
        key = json.loads(member[0])
        if _ARRAY_INDEX.fullmatch(key) and int(key) < 2**32 - 1:
            index_keys.append((int(key), member))
        else:
            other_keys.append(member)
    return [member for _, member in sorted(index_keys, key=lambda item: item[0])] + other_keys


def _render_value(tokens: list[tuple[str, str]], i: int, used: set[str]) -> tuple[str, int]:
    kind, raw = tokens[i]
    if kind in ("str", "lit"):
        return raw, i + 1  # strings are compared as written: no deviation there
    if kind == "num":
        value = _as_double(int(raw)) if _INTEGER_LITERAL.fullmatch(raw) else float(raw)
        js = js_number_text(value)
        if js != raw:
            big = _INTEGER_LITERAL.fullmatch(raw) and abs(int(raw)) > 2**53
            used.add("exact-big-int" if big else "js-number-text")
        return js, i + 1
    if raw == "[":
        items: list[str] = []
        i += 1
        if tokens[i][1] == "]":
            return "[]", i + 1
        while True:
            item, i = _render_value(tokens, i, used)
            items.append(item)
            i += 1
            if tokens[i - 1][1] == "]":
                return "[" + ",".join(items) + "]", i
            if tokens[i - 1][1] != ",":
                raise _Unexplained("bad array")
    if raw == "{":
        members: list[tuple[str, str]] = []
        i += 1
        if tokens[i][1] == "}":
            return "{}", i + 1
        while True:
            if tokens[i][0] != "str" or tokens[i + 1][1] != ":":
                raise _Unexplained("bad object member")
            value_text, j = _render_value(tokens, i + 2, used)
            members.append((tokens[i][1], value_text))
            i = j + 1
            if tokens[j][1] in ("}", ","):
                if tokens[j][1] == ",":
                    continue
                ordered = _js_key_order(members)
                if ordered != members:
                    used.add("key-order")
                return "{" + ",".join(f"{k}:{v}" for k, v in ordered) + "}", i
            raise _Unexplained("bad object")
    raise _Unexplained(f"unexpected {raw!r}")


def _render_json(text: str, used: set[str]) -> str:
    tokens = _json_tokens(text)
    rendered, end = _render_value(tokens, 0, used)
    if end != len(tokens):
        raise _Unexplained("trailing tokens")
    return rendered


def _js_rendering(
    protocol: int, packet: SocketPacket, parts: list[Any]
) -> tuple[list[Any], set[str]]:
    """siocli's encoding of ``packet`` as the reference encoder would write the same
    JavaScript values, and the OTHER_TEXT deviations that took. Raises _Unexplained when
    siocli's text is not the expected shape."""
    text = parts[0]
    if not isinstance(text, str) or not text:
        raise _Unexplained("no text part")
    used: set[str] = set()
    head, pos = text[0], 1
    if head in "56":
        dash = text.find("-", 1)
        if dash < 0 or not text[1:dash].isdigit():
            raise _Unexplained("bad attachment count")
        head, pos = text[: dash + 1], dash + 1
    elif (
        protocol == 4
        and packet.type in (SocketType.BINARY_EVENT, SocketType.BINARY_ACK)
        and head == str(packet.type - 3)  # BINARY_EVENT -> EVENT, BINARY_ACK -> ACK
        and len(parts) == 1
    ):
        head = f"{int(packet.type)}0-"
        used.add("binary-zero-count-v4")
    namespace = packet.namespace
    if namespace and namespace != "/":  # the reference: `obj.nsp && "/" !== obj.nsp`
        if not text.startswith(namespace + ",", pos):
            raise _Unexplained("namespace")
        head += namespace + ","
        pos += len(namespace) + 1
    if packet.id is not None:
        digits = str(packet.id)
        if not isinstance(packet.id, int) or not text.startswith(digits, pos):
            raise _Unexplained("ack id")
        js = js_number_text(_as_double(packet.id))
        if js != digits:
            used.add("exact-big-int")
        head += js
        pos += len(digits)
    payload = _render_json(text[pos:], used) if pos < len(text) else ""
    return [head + payload, *parts[1:]], used


def explained_encoding(
    protocol: int, packet: SocketPacket, siocli: list[Any], reference: list[Any]
) -> set[str] | None:
    """The OTHER_TEXT deviations that explain why siocli wrote ``siocli`` where the
    reference wrote ``reference`` for ``packet``: the JavaScript rendering of siocli's text
    must be the reference's text exactly. None when they do not explain it."""
    try:
        rendered, used = _js_rendering(protocol, packet, siocli)
    except (_Unexplained, IndexError, ValueError, RecursionError):
        return None
    return used if used and rendered == reference else None


# --- Engine.IO -----------------------------------------------------------------------------


def _engine_input(vector: dict[str, Any]) -> str | bytes:
    return from_json(vector["input"])


def _expected_engine_packet(packet: dict[str, Any]) -> tuple[str | None, str | bytes]:
    data = from_json(packet["data"]) if "data" in packet else ""
    return packet["type"], data


def _engine_packet_problems(
    where: str, expected: list[dict[str, Any]], actual: list[EnginePacket]
) -> list[str]:
    want = [_expected_engine_packet(p) for p in expected]
    got = [(p.type.label, p.data) for p in actual]
    if len(want) != len(got) or any(
        w[0] != g[0] or not same_value(w[1], g[1]) for w, g in zip(want, got, strict=True)
    ):
        return [f"{where}: reference {_short(want)}, siocli {_short(got)}"]
    return []


def _engine_decode(eio: int, kind: str, data: str | bytes) -> tuple[str, list[EnginePacket], str]:
    """siocli's verdict, packets (on reject: the ones before the error) and error."""
    try:
        if kind == "packet":
            return "accept", [engineio.decode_packet(data, eio)], ""
        return "accept", engineio.decode_payload(data, eio), ""
    except DecodeError as exc:
        error = str(exc)
    partial: list[EnginePacket] = []
    if kind == "payload":
        try:
            for _offset, piece in engineio.split_payload(data, eio):
                partial.append(engineio.decode_packet(piece, eio))
        except DecodeError:
            pass
    return "reject", partial, error


def _engine_encode(eio: int, kind: str, packets: list[EnginePacket], mode: str) -> Any:
    if kind == "packet":
        return engineio.encode_packet(packets[0], eio, b64=mode == "b64")
    return engineio.encode_payload(packets, eio, binary=mode == "binary")


def _engine_disagreements(vector: dict[str, Any], encode: bool, applied: set[str]) -> list[str]:
    eio, kind = vector["eio"], vector["kind"]
    data = _engine_input(vector)
    problems: list[str] = []
    try:
        verdict, packets, error = _engine_decode(eio, kind, data)
    except Exception as exc:  # the codecs promise DecodeError and nothing else
        return [f"crash: siocli raised {type(exc).__name__}: {exc}"]
    ref_verdict = vector["verdict"]
    if verdict != ref_verdict:
        ref = _short([_expected_engine_packet(p) for p in vector["packets"]])
        got = _short([(p.type.label, p.data) for p in packets]) if verdict == "accept" else error
        problems.append(f"verdict: reference {ref_verdict} {ref}, siocli {verdict} {got}")
    elif verdict == "accept":
        problems += _engine_packet_problems("packets", vector["packets"], packets)
    elif kind == "payload" and isinstance(data, str):
        # a text payload delivers the packets before the error (engine.io-protocol spec:
        # "HTTP long-polling"; branch v3: "Payload")
        reference = vector["packets"]
        before = _engine_packet_problems("packets before the error", reference, packets)
        if (
            before
            and eio == 3
            and reference
            and len(packets) == len(reference) - 1
            and not _engine_packet_problems("", reference[:-1], packets)
            and _splits_surrogate_pair(data, len(reference) - 1)
        ):
            applied.add("split-surrogate-partial")  # siocli does not deliver the half packet
        else:
            problems += before

    if encode and "encoded" in vector:
        ref_packets = [
            EnginePacket(EngineType[p["type"].upper()], _expected_engine_packet(p)[1])
            for p in vector["packets"]
        ]
        for mode, expected in vector["encoded"].items():
            expected = from_json(expected)
            try:
                got_enc = _engine_encode(eio, kind, ref_packets, mode)
            except Exception as exc:
                got_enc = f"{type(exc).__name__}: {exc}"
            if got_enc != expected:
                problems.append(
                    f"encode ({mode}): reference {_short(expected)}, siocli {_short(got_enc)}"
                )
    return problems


# --- Socket.IO -----------------------------------------------------------------------------


def _socket_decode(
    protocol: int, messages: list[str | bytes]
) -> tuple[str, list[SocketPacket], int | None, SocketPacket | None, str]:
    assembler = socketio.PacketAssembler(protocol)
    packets: list[SocketPacket] = []
    for index, message in enumerate(messages):
        try:
            if isinstance(message, str):
                packet = assembler.receive_text(message)
            else:
                packet = assembler.receive_binary(message)
        except DecodeError as exc:
            return "reject", packets, index, None, str(exc)
        if packet is not None:
            packets.append(packet)
    if assembler.pending is not None:
        return "incomplete", packets, None, assembler.pending, ""
    return "accept", packets, None, None, ""


def _expected_socket_packet(packet: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": packet["type"],
        "namespace": packet.get("nsp"),
        "id": from_json(packet.get("id")),
        "data": from_json(packet.get("data")),
        "attachments": packet["attachments"],
    }


def _actual_socket_packet(packet: SocketPacket) -> dict[str, Any]:
    return {
        "type": int(packet.type),
        "namespace": packet.namespace,
        "id": packet.id,
        "data": packet.data,
        "attachments": packet.attachments,
    }


def _socket_packet_problems(
    where: str, expected: dict[str, Any], actual: SocketPacket
) -> list[str]:
    want = _expected_socket_packet(expected)
    got = _actual_socket_packet(actual)
    if expected.get("error_packet"):
        return [f"{where}: reference gives its ERROR packet {_short(want)}, siocli {_short(got)}"]
    return [
        f"{where}.{field}: reference {_short(want[field])}, siocli {_short(got[field])}"
        for field in want
        if not same_value(want[field], got[field])
    ]


def _reference_socket_packet(packet: dict[str, Any]) -> SocketPacket | None:
    """The reference's decoded packet as a SocketPacket (None: its ack id is Infinity,
    which no integer is)."""
    want = _expected_socket_packet(packet)
    ack_id = want["id"]
    if isinstance(ack_id, float):  # a JavaScript number that JSON wrote as 1e+21, say
        if not math.isfinite(ack_id):
            return None
        ack_id = int(ack_id) if ack_id.is_integer() else ack_id
    return SocketPacket(
        SocketType(want["type"]), want["namespace"], want["data"], ack_id, want["attachments"]
    )


def _socket_encode(packet: SocketPacket) -> list[Any]:
    try:
        return socketio.encode(packet)
    except Exception as exc:
        return [f"{type(exc).__name__}: {exc}"]


def _socket_disagreements(vector: dict[str, Any], encode: bool, applied: set[str]) -> list[str]:
    protocol = vector["protocol"]
    messages = [from_json(m) for m in vector["messages"]]
    problems: list[str] = []
    try:
        verdict, packets, index, pending, error = _socket_decode(protocol, messages)
    except Exception as exc:
        return [f"crash: siocli raised {type(exc).__name__}: {exc}"]
    ref_verdict = vector["verdict"]
    if verdict != ref_verdict:
        ref = (
            vector.get("error", {}).get("message", "")
            if ref_verdict == "reject"
            else _short([_expected_socket_packet(p) for p in _socket_packets(vector)])
        )
        got = (
            error
            if verdict == "reject"
            else _short(
                [_actual_socket_packet(p) for p in [*packets, *([pending] if pending else [])]]
            )
        )
        problems.append(f"verdict: reference {ref_verdict} ({ref}), siocli {verdict} ({got})")
        return problems
    if verdict == "reject" and index != vector["error"]["index"]:
        problems.append(
            f"error index: reference message {vector['error']['index']}, siocli message {index}"
        )
    ref_packets = vector["packets"]
    if len(ref_packets) != len(packets):
        problems.append(f"packets: reference {len(ref_packets)}, siocli {len(packets)}")
    else:
        for n, (want, got) in enumerate(zip(ref_packets, packets, strict=True)):
            problems += _socket_packet_problems(f"packet[{n}]", want, got)
    if verdict == "incomplete" and pending is not None:
        problems += _socket_packet_problems("pending", vector["pending"], pending)

    if encode and "encoded" in vector and not problems:
        for n, (want_packet, expected, got_packet) in enumerate(
            zip(ref_packets, vector["encoded"], packets, strict=True)
        ):
            expected = from_json(expected)
            if isinstance(expected, EncoderFailure):
                continue  # the reference encoder threw; nothing to compare with
            checks = [("round-trip encode", got_packet)]
            reference_packet = _reference_socket_packet(want_packet)
            if reference_packet is None:
                applied.add("exact-big-int")  # an ack id JavaScript made Infinity
            else:
                checks.insert(0, ("encode", reference_packet))
            for where, packet in checks:
                written = _socket_encode(packet)
                if written == expected:
                    continue
                explained = explained_encoding(protocol, packet, written, expected)
                if explained is None:
                    problems.append(
                        f"{where} packet[{n}]: reference {_short(expected)}, "
                        f"siocli {_short(written)}"
                    )
                    break
                applied |= explained
    return problems


def disagreements(
    vector: dict[str, Any], *, encode: bool = True, applied: set[str] | None = None
) -> list[str]:
    """Every way siocli differs from the reference on this vector (empty: they agree), but
    for the FEWER_BEFORE_ERROR and OTHER_TEXT deviations, which are added to ``applied``
    where they explain a difference."""
    if applied is None:
        applied = set()
    if "eio" in vector:
        return _engine_disagreements(vector, encode, applied)
    return _socket_disagreements(vector, encode, applied)


def siocli_verdict(vector: dict[str, Any]) -> str:
    """What siocli does with the vector's input: accept, reject, incomplete, or crash (an
    exception other than DecodeError)."""
    try:
        if "eio" in vector:
            return _engine_decode(vector["eio"], vector["kind"], _engine_input(vector))[0]
        messages = [from_json(m) for m in vector["messages"]]
        return _socket_decode(vector["protocol"], messages)[0]
    except Exception as exc:
        return f"crash ({type(exc).__name__}: {exc})"


def describe(vector: dict[str, Any]) -> str:
    """The vector's input, for messages."""
    if "eio" in vector:
        return f"eio={vector['eio']} {vector['kind']} {_short(from_json(vector['input']))}"
    messages = [from_json(m) for m in vector["messages"]]
    return f"protocol={vector['protocol']} messages {_short(messages)}"
