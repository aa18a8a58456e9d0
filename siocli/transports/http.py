"""Long-polling over httpx, and what its exceptions mean for a Socket.IO user."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .config import Target
from .errors import (
    ConnectError,
    Timeout,
    TransportError,
    hint_for_http,
    root_cause,
    ssl_cause,
    tls_error,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["describe_http_failure", "http_error", "poll", "post"]

_OCTET_STREAM = "application/octet-stream"


KEPT_HEADERS = ("content-type", "set-cookie")
"""The response headers a recording keeps (set-cookie redacted): the rest is noise."""


async def poll(
    client: httpx.AsyncClient, url: str, timeout: float
) -> tuple[int, str | bytes, str, dict[str, str]]:
    """GET a polling URL: ``(status, body, text, kept headers)``. The body is bytes for an
    Engine.IO 3 binary payload, text otherwise."""
    response = await client.get(url, timeout=timeout)
    content = response.content
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    if response.headers.get("content-type", "").startswith(_OCTET_STREAM):
        return response.status_code, content, "", headers
    text = content.decode("utf-8", "replace")
    return response.status_code, text, text, headers


async def post(
    client: httpx.AsyncClient, url: str, body: str | bytes, content_type: str, timeout: float
) -> tuple[int, str]:
    data = body.encode("utf-8") if isinstance(body, str) else body
    response = await client.post(
        url, content=data, headers={"Content-Type": content_type}, timeout=timeout
    )
    return response.status_code, response.text


def http_error(status: int, text: str, target: Target) -> TransportError:
    """An HTTP error answer, with the reference server's JSON body read (§2.11)."""
    message = code = None
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = None
    if isinstance(value, dict):
        message, code = value.get("message"), value.get("code")
    what = f"HTTP {status}"
    if message:
        what += f" {message}" + (f" (code {code})" if code is not None else "")
    elif status == 404:
        what += f": nothing at {target.path} on {target.authority}"
    elif text:
        what += f": {text[:200]}"
    return ConnectError(what, hint_for_http(status, message, code))


def describe_http_failure(exc: BaseException, target: Target) -> TransportError:
    """Translate an httpx exception into siocli's words (once, at the boundary)."""
    import httpx

    where = target.authority
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"{where} did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.ProxyError):
        return ConnectError(f"the proxy failed: {exc}", "check --proxy and the *_proxy variables")
    tls = ssl_cause(exc)
    if tls is not None:
        return tls_error(tls, where)
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"cannot connect to {where}: {root_cause(exc)}", _connect_hint(exc))
    if isinstance(exc, httpx.HTTPError):
        return ConnectError(f"HTTP request to {where} failed: {root_cause(exc)}")
    return ConnectError(f"request to {where} failed: {type(exc).__name__}: {exc}")


def _connect_hint(exc: BaseException) -> str | None:
    text = root_cause(exc)
    if text == "connection refused":
        return "is the server running on that port?"
    if text.startswith("DNS"):
        return "check the host name"
    return None
