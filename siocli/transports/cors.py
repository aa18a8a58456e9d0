"""CORS for the servers siocli runs (``serve``, ``replay --serve``): which web pages, from
which origins, may read their answers.

A browser asks first (a preflight: ``OPTIONS`` with ``Access-Control-Request-Method`` and
``-Headers``) before a request it may not send unasked: one with an ``Authorization`` header,
say, which socket.io-client sends for ``extraHeaders`` over polling. Then it reads an answer
only if its ``Access-Control-Allow-Origin`` names the page's origin (Fetch standard, CORS
protocol). The server itself refuses nothing: a request from an origin not allowed is served,
and the browser keeps the answer from the page, as with the ``cors`` middleware of socket.io.

WebSocket is not subject to CORS: a browser sends its ``Origin``, and the server decides.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CorsPolicy", "CorsSeen", "CorsVerdict"]

Headers = tuple[tuple[str, str], ...]

_METHODS = ("GET", "POST")  # what an Engine.IO client sends (OPTIONS is the preflight)


@dataclass(frozen=True, slots=True)
class CorsVerdict:
    """The CORS headers of one answer, and why the browser will refuse it (or ``None``)."""

    headers: Headers
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class CorsSeen:
    """A browser's cross-origin request, for the live view: a preflight (what it asks for),
    or a request from an origin the policy does not allow."""

    origin: str
    method: str  # the request's; a preflight's: the method it asks for
    preflight: bool
    headers: str = ""  # a preflight's Access-Control-Request-Headers
    refused: str | None = None  # why the browser will not let the page read the answer


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """``origins``: the page origins allowed (``http://127.0.0.1:8080``); empty: any, the
    page's own reflected, with credentials (for local testing: no real server should)."""

    origins: tuple[str, ...] = ()

    def describe(self) -> str:
        if not self.origins:
            return "any origin (reflected, with credentials; --cors ORIGIN restricts it)"
        return "only " + ", ".join(self.origins) + " (with credentials)"

    def allows(self, origin: str) -> bool:
        return not self.origins or origin in self.origins

    def answer(self, headers: dict[str, str]) -> CorsVerdict:
        """The CORS headers for the answer to a request with ``headers`` (lower-case)."""
        origin = headers.get("origin")
        if origin is None:
            # not a cross-origin browser request: nothing to allow (the permissive
            # default still says '*', for pages that read it without credentials)
            return CorsVerdict(() if self.origins else (("Access-Control-Allow-Origin", "*"),))
        if not self.allows(origin):
            return CorsVerdict((("Vary", "Origin"),), f"origin {origin} is not allowed")
        return CorsVerdict(
            (
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Credentials", "true"),
                ("Vary", "Origin"),
            )
        )

    def preflight(self, headers: dict[str, str]) -> CorsVerdict:
        """The answer to a preflight: the method and headers it asks for are allowed (the
        headers as asked, as the ``cors`` middleware does by default), for an allowed
        origin and a method an Engine.IO client uses."""
        verdict = self.answer(headers)
        method = headers.get("access-control-request-method", "")
        asked = headers.get("access-control-request-headers", "")
        if verdict.refused is None and method.upper() not in (*_METHODS, ""):
            verdict = CorsVerdict(
                verdict.headers, f"method {method} is not allowed ({', '.join(_METHODS)} are)"
            )
        allowed: Headers = ()
        if verdict.refused is None and "origin" in headers:
            allowed = (("Access-Control-Allow-Methods", ", ".join((*_METHODS, "OPTIONS"))),)
            if asked:
                allowed += (("Access-Control-Allow-Headers", asked),)
        vary = (("Vary", "Access-Control-Request-Headers"),) if asked else ()
        return CorsVerdict((*verdict.headers, *allowed, *vary), verdict.refused)
