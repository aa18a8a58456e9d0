"""Wire messages: one unit as it crossed the wire, whatever source it came from.

A :class:`WireMessage` is one WebSocket message or one HTTP long-polling body, with its
direction, transport and time when known. Every source (live transports, pasted text,
transcripts, HAR files, recordings) produces them; the core's
:class:`~siocli.protocol.dissect.Dissector` consumes them.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .protocol._tuples import NamedTuple  # typing's, without its per-field compile (start-up)
from .protocol.engineio import strict_b64decode
from .protocol.errors import DecodeError
from .protocol.types import Direction, Finding, Severity, Transport

__all__ = [
    "InputProblem",
    "WireMessage",
    "may_be_a_message",
    "parse_argument",
    "unescape_body",
]


class WireMessage(NamedTuple):
    """One message as it crossed the wire. ``data`` is text, or bytes for binary.

    ``session`` keys the Engine.IO session (its sid) when the source knows it; ``eio`` is
    the revision the source says (the ``EIO`` query parameter); ``notes`` are what the
    source itself noticed (a transcript laid out wrongly, an HTTP error...).

    A tuple rather than a frozen dataclass for the reason :mod:`siocli.protocol.types`
    gives: readers make one per wire message, and a frozen dataclass of nine fields costs
    1.2 µs to build, a tuple 0.15 µs.
    """

    data: str | bytes
    direction: Direction | None = None
    transport: Transport = Transport.WEBSOCKET
    time: float | None = None
    eio: int | None = None
    session: str | None = None
    source: str | None = None  # where it came from: "line 12", "entry 7"...
    notes: tuple[Finding, ...] = ()
    http: dict[str, Any] | None = None  # polling: method, status, the headers worth keeping


class InputProblem(NamedTuple):
    """Something a reader met that is not a wire message: input it cannot read (code
    ``input.unreadable``), or a fact about the capture itself (an HTTP error answer, frames
    the export left out). The reader says what and where, and goes on.

    A tuple rather than a frozen dataclass, as :class:`WireMessage`: a frozen dataclass
    costs ~0.8 ms to create at import, on every start-up."""

    message: str
    source: str
    offset: int = 0
    fatal: bool = False  # nothing at all could be read from this input
    severity: Severity = Severity.VIOLATION
    code: str = "input.unreadable"
    # a wire message the capture had but could not keep: its direction and session (a
    # reader's key, as WireMessage.session), so that its session knows what it lost
    lost: Direction | None = None
    session: str | None = None

    @property
    def unreadable(self) -> bool:
        return self.code == "input.unreadable"

    def finding(self) -> Finding:
        return Finding(self.severity, self.code, f"{self.message} ({self.source})")


def may_be_a_message(text: str) -> bool:
    """Whether a command-line argument can be a wire message (else it names a file): a
    packet type digit or an Engine.IO 3 length first, ``b<base64>`` (binary in a polling
    body), or siocli's ``hex:`` / ``b64:``."""
    if text[:1] and text[0] in "0123456789":  # most: without compiling the pattern
        return True
    return _message_start().match(text) is not None


@functools.cache  # compiled on first use, not at import: most messages start with a digit
def _message_start() -> re.Pattern[str]:
    return re.compile(r"[0-9]|hex:|b64:|b[A-Za-z0-9+/=_-]*\Z", re.IGNORECASE)


def parse_argument(text: str) -> str | bytes:
    """A message given on the command line: text, or ``hex:...`` / ``b64:...`` for bytes.

    Hex may be spaced or separated by ``:``/``-``; base64 may be standard or URL-safe.
    """
    lowered = text[:4].lower()
    if lowered == "hex:":
        return parse_hex(text[4:], 4)
    if lowered == "b64:":
        encoded = text[4:].strip().replace("-", "+").replace("_", "/")
        encoded += "=" * (-len(encoded.rstrip("=")) % 4 if not encoded.endswith("=") else 0)
        try:
            return strict_b64decode(encoded)
        except ValueError:
            raise DecodeError("invalid base64", 4, "base64 after 'b64:'", layer="input") from None
    return text


def parse_hex(text: str, base: int = 0) -> bytes:
    """Bytes from hex digits, spaced or separated by ``:``/``-`` as hex dumps write them."""
    try:
        data = bytes.fromhex(text)  # the common form, ``01 02 03`` or ``010203``, in C
    except ValueError:
        pass
    else:
        # fromhex also skips the other ASCII blanks, which this format does not allow
        if not any(c in text for c in "\n\r\x0b\x0c"):
            return data
    import binascii  # a shared library: loaded for hex: arguments only, not at start-up

    digits = text.translate(_SEPARATORS)
    try:
        return binascii.unhexlify(digits)
    except (binascii.Error, ValueError):
        bad = next((i for i, c in enumerate(text) if c not in _HEX_OK), None)
        raise DecodeError(
            "invalid hex" + (" (odd number of digits)" if bad is None else ""),
            base + (bad if bad is not None else len(text)),
            "pairs of hex digits",
            layer="input",
        ) from None


_HEX_OK = frozenset("0123456789abcdefABCDEF \t:-")
_SEPARATORS = str.maketrans("", "", " \t:-")
_ESCAPE = r"\\x([0-9a-fA-F]{2})"  # a pattern compiled on first use (re caches it): start-up


def unescape_body(text: str) -> str | bytes:
    r"""A body as people paste it: ``\x1e`` written as four characters becomes the byte.

    Only ``\xNN`` is an escape here (JSON has no ``\x``, so JSON escapes are left alone).
    A body with escapes above ``\x7f`` is binary (an Engine.IO 3 XHR2 payload pasted as
    text): its escapes are bytes and the rest UTF-8.
    """
    if "\\x" not in text:
        return text
    if not any(int(m.group(1), 16) > 0x7F for m in re.finditer(_ESCAPE, text)):
        return re.sub(_ESCAPE, lambda m: chr(int(m.group(1), 16)), text)
    out = bytearray()
    last = 0
    for match in re.finditer(_ESCAPE, text):
        out += text[last : match.start()].encode("utf-8")
        out.append(int(match.group(1), 16))
        last = match.end()
    out += text[last:].encode("utf-8")
    return bytes(out)
