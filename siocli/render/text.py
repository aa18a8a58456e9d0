"""Text for terminals, without rich: control characters escaped, values shown as people
read them. Shared by the decode view and the live event lines."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["escape_text", "format_value", "hex_preview"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def escape_text(text: str) -> str:
    r"""Control characters as ``\x1e``, ``\u2028``: a terminal never interprets payloads."""
    return _CONTROL.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def hex_preview(data: bytes, limit: int = 16) -> str:
    shown = " ".join(f"{b:02x}" for b in data[:limit])
    more = f" … ({len(data)} bytes)" if len(data) > limit else ""
    return shown + more if data else "(empty)"


def format_value(value: Any) -> str:
    """A decoded value for people: JSON, with binary shown as ``<binary 3 bytes: 01 02 03>``."""
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
