"""What an Engine.IO HTTP request says, as a capture shows it (engine.io-protocol spec:
"Transports" and "Handshake"): the query's ``EIO`` (the revision asked), ``transport``
(``polling`` or ``websocket``), ``sid`` (the session; none on the handshake) and ``t`` (the
client's cache-buster), and the rule about ``t``.

The capture readers (transcripts, HAR files, packet captures) read requests through this one
place, so that they agree on which requests are Engine.IO ones and what they mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from .types import Finding, Severity

__all__ = ["CacheBusters", "RequestQuery"]

_TRANSPORTS = ("polling", "websocket")
# A URL that urllib reads as it is written: no escapes (%, + for a space), no fragment, no
# IPv6 brackets, no blanks or other characters urlsplit removes or checks.
_PLAIN_URL = re.compile(r"[!$&'()*,\-./0-9:;=?@A-Z_a-z~]*\Z")


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """The Engine.IO parameters of a request's URL (a repeated one: its last value; an empty
    one: absent)."""

    transport: str | None
    eio: str | None  # as written: "3" and "4" are revisions, anything else is not
    sid: str | None
    t: str | None

    @classmethod
    def of(cls, url: str) -> RequestQuery:
        """The query of ``url`` as ``urllib.parse`` reads it; a plain URL (most of them) is
        read without urllib, the same way: the query is what follows the first "?", its
        fields split at "&", each at its first "=", those with an empty value left out, the
        last of a repeated name kept."""
        if _PLAIN_URL.match(url) is None:
            query = urllib_query(url)
        else:
            query = {}
            for field in url.partition("?")[2].split("&"):
                name, _, value = field.partition("=")
                if value:
                    query[name] = value
        return cls(query.get("transport"), query.get("EIO"), query.get("sid"), query.get("t"))

    @property
    def engineio(self) -> bool:
        """An Engine.IO request: it names the revision and a transport of the protocol (a
        page, a script, an image... do not)."""
        return self.eio is not None and self.transport in _TRANSPORTS

    @property
    def revision(self) -> int | None:
        """The Engine.IO revision asked (3 or 4); ``None`` if the URL names none of them."""
        return int(self.eio) if self.eio in ("3", "4") else None


def urllib_query(url: str) -> dict[str, str]:
    """The fields of ``url``'s query, by ``urllib.parse`` (the last of a repeated one)."""
    try:
        query = urlsplit(url).query
    except ValueError:
        # A host urllib refuses ("[::1" unclosed, "[zz]"): the query is still the text
        # between the first "?" and the first "#", as urlsplit cuts it; a capture's
        # requests are read for their query, and the host was the client's business.
        query = url.partition("#")[0].partition("?")[2]
    return {k: v[-1] for k, v in parse_qs(query).items()}


class CacheBusters:
    """The ``t`` of the polling requests seen so far: engine.io-client sends a fresh one per
    request (lib/transports/polling.ts), so a reused one is worth a note. The last
    ``keep`` values are kept: a capture of any size in flat memory."""

    __slots__ = ("keep", "seen")

    def __init__(self, keep: int = 4096) -> None:
        self.keep = keep
        self.seen: dict[str, int] = {}  # t -> the number of the request that sent it first

    def reused(self, t: str | None, number: int) -> Finding | None:
        """The note for request n°``number`` if its ``t`` was sent before, else ``None``."""
        if t is None:
            return None
        first = self.seen.get(t)
        if first is not None:
            return Finding(
                Severity.INFO,
                "http.t-reused",
                f"request n°{number} reuses t={t} of request n°{first}: real clients send a "
                "fresh cache-buster per request (servers ignore it)",
            )
        self.seen[t] = number
        if len(self.seen) > self.keep:
            del self.seen[next(iter(self.seen))]
        return None
