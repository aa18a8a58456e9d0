"""``--record``: the recording file of a live command, and what a replay needs in its header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..wire import WireMessage
from .client import LiveOptions

__all__ = ["fan_out", "recorded_options"]


def fan_out(taps: list[Callable[[WireMessage], None]]) -> Callable[[WireMessage], None] | None:
    if not taps:
        return None
    if len(taps) == 1:
        return taps[0]

    def tap(message: WireMessage) -> None:
        for each in taps:
            each(message)

    return tap


def recorded_options(options: LiveOptions) -> dict[str, Any]:
    """What a replay needs to connect the same way (secrets redacted on request)."""
    from ..recording import REDACTED, redact_headers, redact_query

    connect = options.connect
    headers = dict(connect.headers)
    query = list(connect.query)
    auth = options.auth
    if options.redact:
        headers = redact_headers(headers)
        query = redact_query(query)
        auth = {k: REDACTED for k in auth} if isinstance(auth, dict) else auth
    return {
        "path": connect.path,
        "transport": connect.transport,
        "namespaces": list(options.namespaces),
        "auth": auth,
        "headers": headers,
        "query": dict(query),
    }
