"""The emit syntax, shared by ``connect``'s prompt, ``emit`` and ``listen --emit``.

``EVENT [ARG...]``: each argument is a JSON literal (``1``, ``true``, ``null``, ``"a b"``,
``{"k": [1, 2]}``), a bare word (a string), ``'single quoted'`` text (a string),
``hex:0a0b`` / ``b64:CgsM`` (binary), or ``@file`` (the file's bytes, binary; ``@-`` is
stdin). JSON objects and arrays may contain spaces: they are read to their closing bracket.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .protocol.errors import DecodeError
from .wire import parse_argument

__all__ = [
    "ArgumentError",
    "check_event_name",
    "parse_command_line",
    "parse_emit",
    "parse_json_value",
    "parse_value",
    "split_arguments",
]


class ArgumentError(ValueError):
    """An argument that cannot be read; says which and why."""


def split_arguments(text: str) -> list[str]:
    """Split on blanks, keeping JSON values and quoted strings whole."""
    tokens: list[str] = []
    i, end = 0, len(text)
    while i < end:
        if text[i].isspace():
            i += 1
            continue
        start = i
        if text[i] in "{[":
            i = _json_end(text, i)
        elif text[i] in "\"'":
            i = _quote_end(text, i, text[i])
        else:
            while i < end and not text[i].isspace():
                i += 1
        tokens.append(text[start:i])
    return tokens


def _json_end(text: str, i: int) -> int:
    start = i
    depth = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _quote_end(text, i, '"')
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    closer = "}" if text[start] == "{" else "]"
    raise ArgumentError(f"{text[start : start + 30]}: not valid JSON (no closing '{closer}')")


def _quote_end(text: str, i: int, quote: str) -> int:
    i += 1
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    raise ArgumentError(f"unclosed {quote} quote")


def parse_value(token: str) -> Any:
    """One argument: JSON, 'text', hex:/b64: bytes, @file bytes, or a bare word."""
    if token.startswith("'") and token.endswith("'") and len(token) >= 2:
        return token[1:-1]
    if token.startswith("@") and len(token) > 1:
        return _read_file(token[1:])
    if token[:4].lower() in ("hex:", "b64:"):
        try:
            return parse_argument(token)
        except DecodeError as exc:
            raise ArgumentError(f"{token[:20]}: {exc.reason}") from None
    try:
        return json.loads(token, parse_constant=_not_json)
    except ValueError:
        if token[:1] in '{["':
            raise ArgumentError(f"{token[:30]}: not valid JSON") from None
        return token  # a bare word (NaN and Infinity too: JSON has no such values)


def parse_json_value(token: str) -> Any:
    """An option's JSON: the text itself, or ``@file`` holding it (``@-``: stdin), read as
    :func:`parse_value` reads an argument (a bare word is a string)."""
    value = parse_value(token)
    if isinstance(value, bytes) and token.startswith("@"):
        source = token[1:] if token[1:] != "-" else "stdin"
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ArgumentError(f"@{source}: not valid JSON ({exc})") from None
    return value


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _read_file(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise ArgumentError(f"@{name}: {exc.strerror}") from None


def parse_command_line(text: str) -> tuple[str, list[Any]]:
    """``EVENT [ARG...]`` -> (event, args)."""
    tokens = split_arguments(text)
    if not tokens:
        raise ArgumentError("an event name is needed")
    name = parse_value(tokens[0])
    if not isinstance(name, str):
        name = tokens[0]
    return name, [parse_value(t) for t in tokens[1:]]


def parse_emit(text: str, verb: bool = False) -> tuple[str, list[Any], bool]:
    """The prompt's emit syntax, ``[--ack] EVENT [ARG...]`` -> (event, args, ack). With
    ``verb``, as ``listen --emit`` takes it: the prompt's whole line, ``emit`` optional."""
    text = text.strip()
    first, _, rest = text.partition(" ")
    if verb and first == "emit" and rest.strip():
        text = rest.strip()
        first, _, rest = text.partition(" ")
    ack = first == "--ack"
    name, args = parse_command_line(rest if ack else text)
    return name, args, ack


def check_event_name(name: str) -> None:
    """A name socket.io keeps for itself (``connect``, ``disconnect``...) is never sent,
    either way: socket.io-parser 4 refuses such an event (the server or the client that
    reads it ends the session), socket.io-client 2 fires it locally."""
    from .protocol.socketio import RESERVED_EVENTS

    if name in RESERVED_EVENTS:
        raise ArgumentError(
            f"{name!r} is a reserved event name (socket.io never sends it, and socket.io 3+ "
            "servers and clients refuse it): choose another name"
        )
