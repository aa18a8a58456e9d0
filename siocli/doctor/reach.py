"""Check 1, Reach: DNS, TCP to every address, the HTTP proxy's tunnel, and TLS
(:mod:`.tls`)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..transports.config import ConnectOptions, Target
from .evidence import ms
from .probe import Prober
from .results import CheckResult, Report, Status
from .tls import tls_in_tunnel, verify_tls

__all__ = ["Proxy", "check_reach", "proxy_in_use"]


async def check_reach(probe: Prober) -> CheckResult:
    report = Report("reach")
    target = probe.target
    proxy = proxy_in_use(probe.connect, target)
    host, port = target.host, target.port
    if proxy is None:
        report.note("proxy: none (no --proxy, and no *_proxy variable applies to this host)")
    else:
        report.note(f"proxy: {proxy.url} (from {proxy.source}); DNS and TCP go to the proxy")
        report.data["proxy"] = proxy.url
        host, port = proxy.host, proxy.port
    addresses = await _resolve(host, port, probe.timeout, report)
    if not addresses:
        return report.result()
    connected = await _tcp(addresses, port, probe.timeout, report)
    if connected is None:
        return report.result()
    if proxy is not None and proxy.scheme == "http":
        if not await _proxy_connect(probe, proxy, report):
            return report.result()
    elif proxy is not None:
        report.note(f"the {proxy.scheme} proxy's tunnel is not checked here")
    elif target.secure:
        await verify_tls(probe, connected, port, report)
    report.passed(f"{target.authority} is reachable" + (" through the proxy" if proxy else ""))
    return report.result()


@dataclass(frozen=True, slots=True)
class Proxy:
    url: str  # credentials removed
    source: str
    scheme: str
    host: str
    port: int
    authorization: str | None


def proxy_in_use(options: ConnectOptions, target: Target) -> Proxy | None:
    """The HTTP proxy httpx and websockets will use for ``target``: ``--proxy``, else the
    ``*_proxy`` variables (``no_proxy`` honoured)."""
    import base64
    import urllib.request

    if options.proxy:
        url, source = options.proxy, "--proxy"
    else:
        proxies = urllib.request.getproxies_environment()
        if not proxies or urllib.request.proxy_bypass(target.host):
            return None
        scheme = "https" if target.secure else "http"
        url = proxies.get(scheme) or proxies.get("all") or ""
        if not url:
            return None
        names = (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY")
        source = next((n for n in names if os.environ.get(n)), "the environment")
    parts = urlsplit(url if "://" in url else "http://" + url)
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme, 1080)
    try:
        port = parts.port or default
    except ValueError:
        port = default
    authorization = None
    if parts.username:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode()
    shown = f"{scheme}://{parts.hostname}:{port}"
    return Proxy(shown, source, scheme, parts.hostname or "", port, authorization)


async def _resolve(host: str, port: int, timeout: float, report: Report) -> list[str]:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        report.note(f"DNS: not needed ({host} is an IP address)")
        return [host]
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
        )
    except socket.gaierror as exc:
        report.note(f"DNS: {host}: {exc.strerror or exc}")
        report.flag(
            Status.FAIL,
            f"the name {host} does not resolve",
            "check the host name (a typo? a VPN, split DNS or /etc/hosts entry needed?)",
        )
        return []
    except asyncio.TimeoutError:
        report.flag(
            Status.FAIL,
            f"DNS did not answer for {host} within {timeout:g} s",
            "check this machine's DNS resolver (or use the IP address)",
        )
        return []
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    report.note(f"DNS: {host} → {', '.join(addresses)} in {ms(time.perf_counter() - started)}")
    report.data["addresses"] = addresses
    return addresses


async def _tcp(addresses: list[str], port: int, timeout: float, report: Report) -> str | None:
    """Connect to every address (at most four, at once): a name whose first address
    refuses (``localhost`` → ``::1``) is the classic "works with 127.0.0.1" puzzle."""

    async def attempt(address: str) -> tuple[str, float | None, str]:
        started = time.perf_counter()
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
        except asyncio.TimeoutError:
            return address, None, f"no answer within {timeout:g} s"
        except OSError as exc:
            refused = isinstance(exc, ConnectionRefusedError) or "refused" in str(exc)
            return address, None, "connection refused" if refused else str(exc)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return address, time.perf_counter() - started, ""

    outcomes = await asyncio.gather(*(attempt(a) for a in addresses[:4]))
    good = [(a, t) for a, t, _ in outcomes if t is not None]
    for address, seconds, problem in outcomes:
        done = f"connected in {ms(seconds)}" if seconds is not None else problem
        report.note(f"TCP {_host_port(address, port)}: {done}")
    bad = [(a, p) for a, _, p in outcomes if p]
    if not good:
        refused = all(p == "connection refused" for _, p in bad)
        report.flag(
            Status.FAIL,
            f"{'connection refused' if refused else 'no TCP connection'} to port {port}",
            "is the server running and listening on that port? (a server bound to "
            "127.0.0.1 is unreachable from other hosts; check firewalls)"
            if refused
            else "a firewall or security group drops the packets, or the host is down",
        )
        return None
    if bad:
        report.flag(
            Status.WARN,
            f"{len(bad)} of {len(outcomes)} addresses do not accept connections",
            f"clients that try {bad[0][0]} first get an error: make the server listen on "
            f"every address the name resolves to, or use {good[0][0]} in the URL",
        )
    return good[0][0]


async def _proxy_connect(probe: Prober, proxy: Proxy, report: Report) -> bool:
    """Ask the proxy for a tunnel to the target, as TLS and WebSocket clients do."""
    target, timeout = probe.target, probe.timeout
    authority = _host_port(target.host, target.port)
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(proxy.host, proxy.port), timeout
        )
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        while (await asyncio.wait_for(reader.readline(), timeout)) not in (b"\r\n", b""):
            pass
    except (OSError, asyncio.TimeoutError) as exc:
        reason = str(exc) or "no answer in time"
        report.flag(
            Status.FAIL, f"the proxy failed: {reason}", "check --proxy / the *_proxy variables"
        )
        return False
    parts = status_line.decode("latin-1").split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    report.note(f"proxy CONNECT {authority}: {status_line.decode('latin-1').strip()}")
    if status != 200:
        secure = target.secure
        report.flag(
            Status.FAIL if secure else Status.WARN,
            f"the proxy refuses to tunnel to {authority} (HTTP {status})",
            "the proxy must allow CONNECT to this host and port ("
            + (
                "407: credentials in the proxy URL, http://user:pass@proxy:port; "
                if status == 407
                else ""
            )
            + "or exempt the host with NO_PROXY)"
            + ("" if secure else "; without it WebSocket cannot pass, polling still may"),
        )
        writer.close()
        return not secure
    if target.secure:
        await tls_in_tunnel(probe, writer, report)
    writer.close()
    return True


def _host_port(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
