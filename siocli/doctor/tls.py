"""The TLS part of check 1, Reach: the handshake with the options' verification, the
certificate problem named, and what ``-k`` hides."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..transports.config import ssl_context
from ..transports.errors import tls_error
from .evidence import ms
from .probe import Prober
from .results import Report, Status

__all__ = ["tls_in_tunnel", "verify_tls"]

OpenTls = Callable[[ssl.SSLContext], Awaitable[Any]]
"""Opens a TLS connection with a context and returns its writer."""


async def verify_tls(probe: Prober, address: str, port: int, report: Report) -> None:
    """TLS straight to ``address``."""

    async def handshake(context: ssl.SSLContext) -> Any:
        _, writer = await asyncio.open_connection(
            address,
            port,
            ssl=context,
            server_hostname=probe.target.host,
            ssl_handshake_timeout=probe.timeout,
        )
        return writer

    await _verified(probe, handshake, report)


async def tls_in_tunnel(probe: Prober, writer: asyncio.StreamWriter, report: Report) -> None:
    """TLS inside a proxy's CONNECT tunnel, on its connection ``writer``."""
    start_tls = getattr(writer, "start_tls", None)  # Python 3.11+
    if start_tls is None:
        report.note("TLS through the proxy is checked by the next requests")
        return

    async def through_tunnel(context: ssl.SSLContext) -> asyncio.StreamWriter:
        await start_tls(
            context, server_hostname=probe.target.host, ssl_handshake_timeout=probe.timeout
        )
        return writer

    await _verified(probe, through_tunnel, report, reusable=False)


async def _verified(
    probe: Prober, handshake: OpenTls, report: Report, *, reusable: bool = True
) -> None:
    """The TLS handshake with the options' verification; with ``-k``, also the verdict
    that ``-k`` hides (clients without it would see the same). ``reusable``: ``handshake``
    can run twice."""
    timeout = probe.timeout
    try:
        context = ssl_context(probe.connect)
    except (ssl.SSLError, OSError) as exc:
        report.flag(
            Status.FAIL,
            f"cannot use the TLS files given: {exc}",
            "check --cacert/--cert/--key (PEM files)",
        )
        return
    started = time.perf_counter()
    try:
        writer = await asyncio.wait_for(handshake(context), timeout + 1)
    except ssl.SSLCertVerificationError as exc:
        report.note(f"TLS: {exc.verify_message or exc.reason}")
        what, fix = _certificate_problem(exc)
        report.flag(Status.FAIL, f"TLS: the certificate is {what}", fix)
        return
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        report.note(f"TLS: {reason}")
        if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
            report.flag(
                Status.FAIL,
                "the port does not speak TLS (plain HTTP?)",
                "use http:// (or ws://) for this port, or the server's TLS port",
            )
        else:
            failure = tls_error(exc, probe.target.authority)
            report.flag(Status.FAIL, f"TLS handshake failed: {reason}", failure.hint)
        return
    except (OSError, asyncio.TimeoutError) as exc:
        reason = str(exc) or f"no answer within {timeout:g} s"
        report.flag(
            Status.FAIL,
            f"the TLS handshake did not complete: {reason}",
            "a TLS server on this port? (a proxy that expects plain HTTP closes the connection)",
        )
        return
    details = _certificate_details(writer, time.perf_counter() - started)
    report.note(details["line"])
    report.data["tls"] = {k: v for k, v in details.items() if k != "line"}
    days = details.get("days_left")
    if isinstance(days, int) and days < 14:
        report.flag(
            Status.WARN,
            f"the certificate expires in {days} day{'' if days == 1 else 's'}",
            "renew the server's certificate (clients fail once it expires)",
        )
    if reusable:
        writer.close()
        if probe.connect.insecure:
            await _what_insecure_hides(probe, handshake, report)


async def _what_insecure_hides(probe: Prober, handshake: OpenTls, report: Report) -> None:
    verifying = ssl.create_default_context(cafile=probe.connect.cacert)
    try:
        writer = await asyncio.wait_for(handshake(verifying), probe.timeout + 1)
    except ssl.SSLCertVerificationError as exc:
        what, fix = _certificate_problem(exc)
        report.note(f"TLS verification is off (-k); with it: {exc.verify_message}")
        report.flag(
            Status.WARN,
            f"-k hides it: the certificate is {what}",
            "clients that verify certificates (browsers, socket.io-client) refuse it: " + fix,
        )
        return
    except (ssl.SSLError, OSError, asyncio.TimeoutError):
        return
    writer.close()
    report.note("TLS verification is off (-k), but the certificate verifies anyway")


_CERTIFICATE_PROBLEMS = {
    10: ("expired", "renew the server's certificate"),
    9: ("not valid yet", "check the clocks of the server and of this machine"),
    18: (
        "self-signed",
        "trust it with --cacert FILE (Node clients: the ca option or NODE_EXTRA_CA_CERTS), "
        "or skip verification with -k (never in production)",
    ),
    19: (
        "signed by a root this machine does not trust (a private CA, or a TLS-inspecting proxy)",
        "give that root CA with --cacert FILE, or -k to skip verification",
    ),
    20: (
        "issued by a CA this machine does not trust (or the server does not send the "
        "intermediate certificate)",
        "serve the full chain (fullchain.pem), or trust the CA with --cacert FILE; -k skips "
        "verification",
    ),
    62: (
        "for another host name",
        "connect by a name the certificate lists, or reissue it with this name in its "
        "subjectAltName; -k skips the check",
    ),
    64: (
        "not for this IP address",
        "connect by a name the certificate lists, or reissue it with this IP address in its "
        "subjectAltName; -k skips the check",
    ),
}
_CERTIFICATE_PROBLEMS[21] = _CERTIFICATE_PROBLEMS[20]


def _certificate_problem(exc: ssl.SSLCertVerificationError) -> tuple[str, str]:
    """What is wrong with the certificate, in words, and the fix."""
    known = _CERTIFICATE_PROBLEMS.get(exc.verify_code)
    if known is not None:
        return known
    failure = tls_error(exc, "the server")
    return f"not trusted ({exc.verify_message})", failure.hint or "--cacert FILE or -k"


def _certificate_details(writer: Any, seconds: float) -> dict[str, Any]:
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else "?"
    cert = ssl_object.getpeercert() if ssl_object is not None else None
    details: dict[str, Any] = {"version": version}
    line = f"TLS: {version} in {ms(seconds)}"
    if cert:  # empty when verification is off (-k): nothing was checked to show
        names = [
            value for kind, value in cert.get("subjectAltName", ()) if kind in ("DNS", "IP Address")
        ]
        issuer = dict(part[0] for part in cert.get("issuer", ()) if part)
        not_after = cert.get("notAfter")
        days = None
        if isinstance(not_after, str):
            days = int((ssl.cert_time_to_seconds(not_after) - time.time()) // 86400)
        details.update(
            names=names,
            issuer=issuer.get("organizationName") or issuer.get("commonName"),
            not_after=not_after,
            days_left=days,
        )
        line += (
            f"; certificate for {', '.join(names) or '?'}, issued by {details['issuer']}, "
            f"valid until {not_after}"
        )
    details["line"] = line
    return details
