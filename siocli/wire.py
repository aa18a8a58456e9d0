"""Wire messages: one unit as it crossed the wire, whatever source it came from.

A :class:`WireMessage` is one WebSocket message or one HTTP long-polling body, with its
direction, transport and time when known. Every source (live transports, pasted text,
transcripts, HAR files, recordings) produces them; the core's
:class:`~siocli.protocol.dissect.Dissector` consumes them.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

from .protocol.errors import DecodeError
from .protocol.types import Direction, Transport

__all__ = ["WireMessage", "parse_argument"]


@dataclass(frozen=True, slots=True)
class WireMessage:
    """One message as it crossed the wire. ``data`` is text, or bytes for binary."""

    data: str | bytes
    direction: Direction | None = None
    transport: Transport = Transport.WEBSOCKET
    time: float | None = None
    eio: int | None = None
    source: str | None = None  # where it came from: "argument 2", "file.har entry 7"...


def parse_argument(text: str) -> str | bytes:
    """A message given on the command line: text, or ``hex:...`` / ``b64:...`` for bytes.

    Hex may be spaced or separated by ``:``/``-``; base64 may be standard or URL-safe.
    """
    lowered = text[:4].lower()
    if lowered == "hex:":
        digits = "".join(c for c in text[4:] if c not in " \t:-")
        try:
            return binascii.unhexlify(digits)
        except (binascii.Error, ValueError):
            bad = next((i for i, c in enumerate(text[4:], 4) if c not in _HEX_OK), len(text))
            raise DecodeError(
                "invalid hex" + (" (odd number of digits)" if bad == len(text) else ""),
                bad,
                "pairs of hex digits after 'hex:'",
                layer="input",
            ) from None
    if lowered == "b64:":
        encoded = text[4:].strip().replace("-", "+").replace("_", "/")
        encoded += "=" * (-len(encoded.rstrip("=")) % 4 if not encoded.endswith("=") else 0)
        try:
            return binascii.a2b_base64(encoded, strict_mode=True)
        except (binascii.Error, ValueError):
            raise DecodeError("invalid base64", 4, "base64 after 'b64:'", layer="input") from None
    return text


_HEX_OK = frozenset("0123456789abcdefABCDEF \t:-")
