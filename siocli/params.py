"""The options several commands share, parsed once: click parameter types and the options
built on them, so that ``--auth``, ``-H`` and ``-n`` mean the same on every command.

- ``--auth JSON|@FILE`` (or ``$SIOCLI_AUTH``, out of shell history): a JSON object;
- ``-H 'Name: value'``: an HTTP header, read as ``(name, value)``;
- ``--query K=V``: a query parameter on every request, read as ``(key, value)``;
- ``-n /NSP``: a namespace, which starts with ``/`` (the socket.io-protocol spec's
  namespace field).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import click

__all__ = [
    "AUTH",
    "HEADER",
    "NAMESPACE",
    "PATH",
    "PROXY",
    "QUERY",
    "ReadBy",
    "auth_option",
    "header_option",
    "namespace_option",
    "parser_option",
    "query_option",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class ReadBy(click.ParamType):
    """A value read by ``reader``, a function named ``module:function`` (or
    ``module:Class.method``) and imported when the option is given, so that a command's own
    readers stay out of every command's start-up. The ``ValueError`` it raises is the
    message, after the option's name."""

    def __init__(self, metavar: str, reader: str) -> None:
        self.name = metavar
        self._reader = reader

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name  # as written: click would upper-case it (C2S:)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # already read (a default, or click converting twice)
        from importlib import import_module

        module, _, path = self._reader.partition(":")
        read: Any = import_module(module)
        for name in path.split("."):
            read = getattr(read, name)
        try:
            return read(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class AuthType(click.ParamType):
    """A CONNECT payload: a JSON object, given inline or as ``@FILE`` (``@-``: stdin).

    What is wrong with it is said without the value (a secret: a token, a password): where
    the JSON breaks and what was expected there, or that an object is needed. One that came
    from $SIOCLI_AUTH is said to come from there, not from ``--auth``, which the user did
    not type."""

    name = "auth"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        import json

        from .arguments import ArgumentError, parse_json_value

        text = str(value)
        auth = None
        if text.startswith("@") and len(text) > 1:
            try:
                auth = parse_json_value(text)  # its errors name the file, not what it holds
            except ArgumentError as exc:
                self._fail(str(exc), param, ctx)
        else:
            try:
                auth = json.loads(text, parse_constant=_no_constant)
            except json.JSONDecodeError as exc:
                if text.lstrip()[:1] in '{["':  # meant as JSON: where it breaks
                    self._fail(
                        f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
                        f"(character {exc.pos + 1})",
                        param,
                        ctx,
                    )
            except ValueError as exc:  # NaN, Infinity: Python's json reads them
                self._fail(f"not valid JSON: {exc}", param, ctx)
        if not isinstance(auth, dict):
            source = f"{text}: " if text.startswith("@") else ""
            self._fail(f'{source}a JSON object is needed, as {{"token": "..."}}', param, ctx)
        return auth

    def _fail(
        self, message: str, param: click.Parameter | None, ctx: click.Context | None
    ) -> NoReturn:
        if (
            ctx is not None
            and param is not None
            and param.name is not None
            and ctx.get_parameter_source(param.name) is click.core.ParameterSource.ENVIRONMENT
        ):
            raise click.BadParameter(message, ctx, param, param_hint=f"${param.envvar}")
        self.fail(message, param, ctx)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no JSON value")


class PairType(click.ParamType):
    """``NAME<separator>VALUE`` -> ``(name, value)``: ``-H 'Name: value'`` (blanks around
    both stripped, a name needed), ``--query K=V`` (both as given; a value may hold ``=``)."""

    def __init__(self, name: str, separator: str, expected: str, *, strip: bool) -> None:
        self.name = name
        self.separator = separator
        self.expected = expected
        self.strip = strip

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, sep, text = str(value).partition(self.separator)
        if self.strip:
            key, text = key.strip(), text.strip()
        if not sep or (self.strip and not key):
            self.fail(f"{value!r}: expected {self.expected}", param, ctx)
        return key, text


TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
"""RFC 9110 §5.6.2's tchar: a header name is a token, one or more of these."""


class HeaderType(PairType):
    """``-H 'Name: value'``, held to what HTTP can send (RFC 9110 §5.1, RFC 9110 §5.5): a
    name is a token, a value one line without control characters. Said before connecting,
    not as the HTTP library's refusal ("Illegal header name") after a connection failed.
    The value is never echoed: it is often a secret (Authorization, Cookie)."""

    def __init__(self) -> None:
        super().__init__("header", ":", "'Name: value'", strip=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        name, text = super().convert(value, param, ctx)
        if not TCHARS.issuperset(name):
            self.fail(
                f"{name!r} is not a header name: a name is an RFC 9110 token, letters, digits "
                "and !#$%&'*+-.^_`|~ (no spaces)",
                param,
                ctx,
            )
        bad = next((i for i, c in enumerate(text) if _control(c)), None)
        if bad is not None:
            self.fail(
                f"the value of {name} has {text[bad]!r} at character {bad + 1}: a header value "
                "is one line, no CR, LF or other control character (RFC 9110 §5.5)",
                param,
                ctx,
            )
        return name, text


def _control(char: str) -> bool:
    """Not in a header value (RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB are)."""
    return (char < " " and char != "\t") or char == "\x7f"


class NamespaceType(click.ParamType):
    """A namespace: ``/`` and its name (``/admin``)."""

    name = "namespace"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not str(value).startswith("/"):
            self.fail(f"{value!r} must start with '/'", param, ctx)
        return str(value)


class PathType(click.ParamType):
    """``--path``: a handshake path as a request line carries it (RFC 9112 §3.2: no
    blanks, no control characters, ASCII), said before connecting, not as the HTTP
    library's "Illegal target characters" or UnicodeEncodeError; a character that needs
    it is said with its percent-encoding."""

    name = "path"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        bad = next((i for i, c in enumerate(text) if not "!" <= c <= "~"), None)
        if bad is not None:
            from urllib.parse import quote

            self.fail(
                f"{text[bad]!r} at character {bad + 1}: a path has no blank, control or "
                f"non-ASCII character (percent-encode it: {quote(text[bad], safe='')})",
                param,
                ctx,
            )
        return text


class ProxyType(click.ParamType):
    """``--proxy URL``: a proxy the HTTP and WebSocket libraries can go through (httpx:
    http, https, socks5, socks5h; websockets the same), its SOCKS support installed.
    Said before connecting, not as the library's refusal after a connection failed. The
    URL is not echoed: it may carry the proxy's password."""

    name = "proxy"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .transports.config import split_url

        expected = "a proxy URL is http://HOST:PORT (or https://, socks5://, socks5h://)"
        try:
            parts = split_url(str(value))
        except ValueError:
            self.fail(f"bad host (in brackets: an IPv6 address): {expected}", param, ctx)
        scheme = parts.scheme.lower()
        if not scheme or not parts.netloc:
            self.fail(f"no scheme or no host: {expected}", param, ctx)
        if scheme not in ("http", "https", "socks5", "socks5h"):
            self.fail(f"unsupported scheme {scheme!r}: {expected}", param, ctx)
        if not parts.hostname:
            self.fail(f"no host: {expected}", param, ctx)
        try:
            parts.port  # noqa: B018 - it checks the port
        except ValueError:
            self.fail(f"bad port: {expected}", param, ctx)
        if scheme.startswith("socks"):
            from importlib.util import find_spec

            # httpx polls through socksio, websockets connects through python-socks
            missing = [
                package
                for module, package in (
                    ("socksio", "'httpx[socks]'"),
                    ("python_socks", "python-socks"),
                )
                if find_spec(module) is None
            ]
            if missing:
                self.fail(
                    f"a {scheme} proxy needs SOCKS support, not installed: pip install "
                    + " ".join(missing),
                    param,
                    ctx,
                )
        return str(value)


AUTH = AuthType()
HEADER = HeaderType()
PATH = PathType()
PROXY = ProxyType()
NAMESPACE = NamespaceType()
QUERY = PairType("query", "=", "k=v", strip=False)


def auth_option(help: str) -> Decorator:
    return click.option(
        "--auth",
        envvar="SIOCLI_AUTH",
        type=AUTH,
        metavar="JSON|@FILE",
        help=f"{help} Also $SIOCLI_AUTH, to keep it out of shell history.",
    )


def header_option(help: str) -> Decorator:
    return click.option(
        "-H", "--header", "headers", type=HEADER, multiple=True, metavar="'NAME: VALUE'", help=help
    )


def namespace_option(help: str) -> Decorator:
    return click.option("-n", "--namespace", "namespaces", type=NAMESPACE, multiple=True, help=help)


def query_option(help: str) -> Decorator:
    return click.option("--query", "queries", type=QUERY, multiple=True, metavar="K=V", help=help)


def parser_option(default: str | None) -> Decorator:
    """``--parser``: the Socket.IO packet encoding (the Socket.IO docs' "custom parser")."""
    return click.option(
        "--parser",
        type=click.Choice(["default", "msgpack"]),
        default=default,
        show_default=default is not None,
        envvar="SIOCLI_PARSER",
        help="The Socket.IO packet encoding: default, or msgpack (socket.io-msgpack-parser, "
        "python-socketio's serializer='msgpack')"
        + ("" if default else "; without it, detected")
        + ". Also $SIOCLI_PARSER.",
    )
