"""Check 2, Path: the handshake path answers; else which variant does (the trailing slash,
the URL's path, /socket.io/...)."""

from __future__ import annotations

import asyncio

from .answer import Answer
from .findings import Findings
from .probe import Prober
from .results import CheckResult, Report, Status

__all__ = ["check_path"]


async def check_path(probe: Prober, found: Findings) -> CheckResult:
    report = Report("path")
    target, asked = probe.target, probe.asked
    configured = target.path
    first = await probe.handshake(configured, asked, keep=True)
    _note_probe(report, configured, asked, first)
    if first.failure is not None:
        hint = first.failure.hint
        if not target.secure and "disconnected" in first.failure.message.lower():
            hint = (hint + "; " if hint else "") + "does this port expect TLS? try https://"
        report.flag(Status.FAIL, f"no HTTP answer: {first.failure.message}", hint)
        return report.result()
    if first.from_engine:
        found.path = configured
        if first.handshake is not None:
            found.answers[asked] = first  # kept open: the polling check uses it
        report.data["path"] = configured
        report.passed(f"an Engine.IO server answers at {configured} ({first.describe()})")
        return report.result()
    others = _candidates(probe)[1:]
    answers = await asyncio.gather(*(probe.handshake(p, asked) for p in others))
    for path, answer in zip(others, answers, strict=True):
        _note_probe(report, path, asked, answer)
    probe.release(configured, first)
    working = next((p for p, a in zip(others, answers, strict=True) if a.from_engine), None)
    report.data["tried"] = [configured, *others]
    why = _not_engine(first)
    if working is None:
        report.flag(
            Status.FAIL,
            f"nothing answers Engine.IO at {configured} ({why}), nor at " + ", ".join(others),
            "find the server's path option (new Server(httpServer, { path }), "
            "python-socketio socketio_path) and pass it with --path; a reverse proxy "
            "also needs a route for it",
        )
        return report.result()
    found.path = working
    report.data["path"] = working
    url = probe.connect.url
    namespace = target.namespace
    if namespace != "/" and working.startswith(namespace):
        base = url.split(namespace, 1)[0] if namespace in url else url
        fix = (
            f"the URL's path {namespace} is taken as a namespace; the handshake "
            f"path is --path: siocli doctor {base} --path {working} "
            f'(socket.io-client: io("{base}", {{ path: "{working}" }}))'
        )
    else:
        fix = f'run with --path {working} (socket.io-client: io(url, {{ path: "{working}" }}))' + (
            "; the server wants the trailing slash" if working == configured + "/" else ""
        )
    report.flag(
        Status.FAIL,
        f"nothing answers Engine.IO at {configured} ({why}); {working} does",
        fix + ". The next checks use " + working,
    )
    return report.result()


def _candidates(probe: Prober) -> list[str]:
    """The configured path first, then the variants a server is often found at."""
    configured = probe.target.path
    other = configured.rstrip("/") if configured.endswith("/") else configured + "/"
    names = [configured, other or "/"]
    namespace = probe.target.namespace
    if namespace != "/":  # `http://host/app` meant as the path, or an app under a prefix
        names += [namespace + "/", namespace + "/socket.io/"]
    names += ["/socket.io/", "/socket.io", "/engine.io/"]
    return list(dict.fromkeys(names))


def _note_probe(report: Report, path: str, eio: int, answer: Answer) -> None:
    report.note(f"GET {path}?EIO={eio}&transport=polling → {answer.describe()}")


def _not_engine(answer: Answer) -> str:
    """Why an answer is not Engine.IO's."""
    if answer.status == 200 and answer.content_type.startswith("text/html"):
        return "HTTP 200 with a web page: a catch-all route answers, not Engine.IO"
    if answer.status == 200 and answer.problem:
        return f"HTTP 200 but {answer.problem}"
    return answer.describe()
