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
from typing import Any

import click

__all__ = [
    "AUTH",
    "HEADER",
    "NAMESPACE",
    "QUERY",
    "auth_option",
    "header_option",
    "namespace_option",
    "query_option",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class AuthType(click.ParamType):
    """A CONNECT payload: a JSON object, given inline or as ``@FILE`` (``@-``: stdin)."""

    name = "auth"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        from .arguments import ArgumentError, parse_json_value

        try:
            auth = parse_json_value(value)
        except ArgumentError as exc:
            self.fail(str(exc), param, ctx)
        if not isinstance(auth, dict):
            self.fail(f"{str(value)[:40]!r}: a JSON object is needed", param, ctx)
        return auth


class HeaderType(click.ParamType):
    """``'Name: value'`` -> ``(name, value)``, blanks around both stripped."""

    name = "header"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        name, sep, text = str(value).partition(":")
        if not sep or not name.strip():
            self.fail(f"{value!r}: expected 'Name: value'", param, ctx)
        return name.strip(), text.strip()


class QueryType(click.ParamType):
    """``K=V`` -> ``(key, value)``, both as given (a value may hold ``=``)."""

    name = "query"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, sep, text = str(value).partition("=")
        if not sep:
            self.fail(f"{value!r}: expected k=v", param, ctx)
        return key, text


class NamespaceType(click.ParamType):
    """A namespace: ``/`` and its name (``/admin``)."""

    name = "namespace"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not str(value).startswith("/"):
            self.fail(f"{value!r} must start with '/'", param, ctx)
        return str(value)


AUTH = AuthType()
HEADER = HeaderType()
NAMESPACE = NamespaceType()
QUERY = QueryType()


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
