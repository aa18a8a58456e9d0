"""Text for terminals, without rich: control characters escaped, values shown as people
read them. Shared by the decode view and the live event lines."""

from __future__ import annotations

import functools
import json
import os
import re
from typing import Any

from ..protocol._jsonlib import fast_dumps as _fast_dumps

__all__ = ["StyledLine", "escape_text", "format_elided", "format_value", "hex_preview"]

StyledLine = tuple[Any, ...]
"""One line of output for a terminal, as renderers build it: ``(line_style, text, style,
text, style, ...)``, a style being a rich style name or ``None`` (the line's style applies
to the whole line); its text is ``"".join(line[1::2])``. Plain tuples, not rich ``Text``:
most output goes to files and pipes, where only the text counts, and a tuple costs a tenth
of a ``Text``."""


# Lone surrogates (JSON escapes like "\ud800" make them) cannot even be written as UTF-8.
@functools.cache  # compiled on first use, not at import: most text is printable (start-up)
def _control() -> re.Pattern[str]:
    return re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")


def escape_text(text: str) -> str:
    r"""Control characters as ``\x1e``, ``\u2028``: a terminal never interprets payloads."""
    if text.isprintable():  # every character escaped here is non-printable (C, Zl, Zp, Cs)
        return text
    return _control().sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def hex_preview(data: bytes, limit: int = 16) -> str:
    shown = " ".join(f"{b:02x}" for b in data[:limit])
    more = f" … ({len(data)} bytes)" if len(data) > limit else ""
    return shown + more if data else "(empty)"


def _make_as_json() -> Any:
    """JSON as format_value writes it, for values without binary: C speed for the common
    case. ``JSONEncoder.encode`` builds its C encoder anew on every call (a few µs, more
    than encoding a small value); this one is built once. Without the circular check
    (decoded JSON has no cycles), so that a failed call (binary, infinities) leaves no state
    behind.

    No public API keeps the encoder: ``json`` builds this same one (``_json.make_encoder``,
    typed in typeshed) per call; kept, it saves ~1 µs a value. orjson has no ``", "``
    separators."""
    standard = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), allow_nan=False)
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:  # pragma: no cover - CPython has it; json falls back likewise
        return standard.encode
    encoder = make_encoder(
        None, standard.default, encode_basestring, None, ": ", ", ", False, False, False
    )
    join = "".join

    def as_json(value: Any) -> str:
        return join(encoder(value, 0))

    return as_json


_as_json = _make_as_json()


def format_elided(value: Any, width: int) -> str:
    """``format_value(value)``, elided to ``width`` characters (the last one ``…``) when
    longer: what a line of the terminal view shows of a long value, without writing out all
    of it the slow way. orjson writes the same tokens as json, without the blanks after
    ``,`` and ``:``; where nothing needs escaping (no backslash: every ``"`` delimits a
    string) and no number may be spelt otherwise, the blanks are put into the part shown."""
    if _fast_dumps is not None and (value.__class__ is list or value.__class__ is dict):
        try:
            dumped = _fast_dumps(value)
        except TypeError:  # binary, integers beyond 64 bits, lone surrogates...
            dumped = None
        # Only the start is shown, so only it is read, and looked at up to a little past
        # the width: a token there spelt otherwise (a number, null) is then seen whole. What
        # comes after changes nothing before it, in format_value's text either.
        if dumped is not None:
            window = width + _LOOKAHEAD
            if len(dumped) > 4 * window:  # then more than `window` characters: elided
                compact = dumped[: 4 * window].decode("utf-8", "ignore")  # (a cut character)
            else:
                compact = dumped.decode()
            head = compact[:window]
            if (
                "\\" not in head
                # orjson spells floats below 1e-4 otherwise (0.00001, 1e-7 for json's 1e-05,
                # 1e-07) and an infinity as null (json refuses it): the general path decides
                and "0.0000" not in head
                and "e-" not in head
                and "null" not in head
                and head.isprintable()
            ):
                if len(compact) > width:  # longer spaced out: only its start is shown
                    return _spaced(compact[: width - 1])[: width - 1] + "…"
                text = _spaced(compact)
                return text if len(text) <= width else text[: width - 1] + "…"
    text = format_value(value)
    return text if len(text) <= width else text[: width - 1] + "…"


_LOOKAHEAD = 32  # characters: more than the longest number orjson writes (24), or null


def _spaced(compact: str) -> str:
    """Compact JSON (a start of it) with json's blanks after ``,`` and ``:`` outside strings."""
    parts = compact.split('"')
    outside = "\0".join(parts[::2])  # a NUL is escaped in JSON: not in the text
    parts[::2] = outside.replace(",", ", ").replace(":", ": ").split("\0")
    return '"'.join(parts)


def format_value(value: Any) -> str:
    """A decoded value for people: JSON, with binary shown as ``<binary 3 bytes: 01 02 03>``."""
    if value.__class__ is str and '"' not in value and "\\" not in value and value.isprintable():
        return '"' + value + '"'  # an event's name, mostly: as the general path below
    if value.__class__ is list or value.__class__ is dict:
        # json gives the same text for decoded JSON (string keys) when nothing in it needs
        # escaping: no backslash (json escapes quotes, backslashes and C0 controls with one)
        # and nothing escape_text escapes (DEL, C1, U+2028/9, BOM: not printable).
        try:
            text = _as_json(value)
        except (TypeError, ValueError):  # binary; infinities
            pass
        else:
            if "\\" not in text and text.isprintable():
                return text
    if isinstance(value, bytes):
        return f"<binary {len(value)} bytes: {hex_preview(value, 8)}>"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, str):
        return '"' + escape_text(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return repr(value)


def plain_console(no_color: bool = False) -> dict[str, Any]:
    """Console arguments for ``--no-color``/``NO_COLOR`` (https://no-color.org): no escape
    sequence at all, bold and dim included, as on a pipe (rich's ``no_color`` keeps them)."""
    if no_color or os.environ.get("NO_COLOR"):
        return {"color_system": None, "no_color": True}
    return {}
