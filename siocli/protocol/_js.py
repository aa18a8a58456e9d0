"""JavaScript's string-to-number coercion, as the reference parsers apply it.

The Node parsers read numbers with ``Number(text)`` and compare with ``==``, so they accept
``" 6"``, ``"06"``, ``"0x6"`` and ``"1e1"`` where the spec says digits (engine.io-parser 2.x
``decodePayload``; socket.io-parser
``decodeString``). siocli accepts what the reference accepts, and reports the form the spec forbids.
"""

from __future__ import annotations

import functools
import math
import re

from .errors import DecodeError

__all__ = ["JS_BLANK", "MAX_SAFE_INTEGER", "js_number", "read_digits"]

MAX_SAFE_INTEGER = 2**53 - 1
"""``Number.MAX_SAFE_INTEGER``: a larger id loses its precision in a JavaScript peer."""

# ECMAScript StrWhiteSpaceChar: WhiteSpace (TAB, VT, FF, SP, NBSP, ZWNBSP, category Zs) and
# LineTerminator (LF, CR, LS, PS). Number(" ") is 0, so `Number(c) == c` holds for these
# characters as it does for digits: the Socket.IO parser reads them as part of an ack id.
JS_BLANK = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_BLANK_CHARS = "".join(sorted(JS_BLANK))


@functools.cache  # compiled on first use, not at import: most runs never need it (start-up)
def _decimal() -> re.Pattern[str]:
    return re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\Z", re.ASCII)


@functools.cache  # compiled on first use, not at import: most runs never need it (start-up)
def _radix() -> re.Pattern[str]:
    return re.compile(r"0(?:[xX]([0-9a-fA-F]+)|[oO]([0-7]+)|[bB]([01]+))\Z", re.ASCII)


def js_number(text: str) -> float:
    """``Number(text)`` for a string: NaN when JavaScript would give NaN."""
    text = text.strip(_BLANK_CHARS)
    if not text:
        return 0.0
    if _decimal().match(text):
        return float(text)
    radix = _radix().match(text)
    if radix:
        hex_digits, oct_digits, bin_digits = radix.groups()
        if hex_digits:
            value = int(hex_digits, 16)
        elif oct_digits:
            value = int(oct_digits, 8)
        else:
            value = int(bin_digits, 2)
        try:
            return float(value)
        except OverflowError:  # past the largest double: JavaScript says Infinity
            return math.inf
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    return math.nan


def js_integer(text: str) -> int | None:
    """``Number(text)`` when it is a non-negative integer, else ``None``."""
    value = js_number(text)
    if value >= 0 and math.isfinite(value) and value == int(value):
        return int(value)
    return None


def read_digits(digits: str, what: str, offset: int, layer: str) -> int:
    """The value of ``digits``, a run of ASCII digits giving a length, a count or an id.

    Python refuses to convert more digits than ``sys.get_int_max_str_digits()`` (4300 by
    default); a number that long is far beyond anything a peer can use (JavaScript reads it
    as Infinity), so it is bad input: :class:`DecodeError` at ``offset``, never ValueError.
    """
    try:
        return int(digits)
    except ValueError:
        raise DecodeError(
            f"{what} of {len(digits)} digits: too large for any peer "
            "(JavaScript reads it as Infinity)",
            offset,
            f"{what} below 2^53 (16 digits at most)",
            layer,
        ) from None
