"""The doctor's judging functions on plain data: answers, outcomes and handshakes built by
hand, no server. (tests/test_doctor.py runs the whole doctor against real servers.)"""

from __future__ import annotations

from typing import Any

import pytest

from siocli.doctor.answer import Answer, revisions_from
from siocli.doctor.handshake import _cookie_summary, _judge_upgrades
from siocli.doctor.heartbeat import interval_late
from siocli.doctor.protocol import _polling_refused, _spoken
from siocli.doctor.results import Report, Status
from siocli.doctor.websocket import WebSocketOutcome, _judge_upgrade
from siocli.protocol.types import Handshake

HANDSHAKE = Handshake("sid1", ("websocket",), 25000, 20000, 1_000_000)


def answer(status: int, body: str, **fields: Any) -> Answer:
    return Answer("GET", status, body, "application/json", **fields)


def test_reference_and_python_error_bodies() -> None:
    reference = answer(400, '{"code":1,"message":"Session ID unknown"}')
    assert (reference.error_code, reference.error_message) == (1, "Session ID unknown")
    assert reference.unknown_session and reference.from_engine
    assert reference.describe() == "HTTP 400 Session ID unknown (code 1)"
    python = answer(400, '"Invalid session"')  # python-engineio: a bare JSON string
    assert (python.error_code, python.error_message) == (None, "Invalid session")
    assert python.unknown_session
    other = answer(502, "<html>Bad Gateway</html>")
    assert other.error_code is None and not other.from_engine and not other.unknown_session
    assert answer(400, '{"code": true}').error_code is None  # a bool is no code


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ('{"code":0,"message":"Transport unknown"}', True),
        ('"Invalid transport"', True),
        ('{"code":1,"message":"Session ID unknown"}', False),
        ("ok", False),
    ],
)
def test_polling_refused(body: str, refused: bool) -> None:
    assert _polling_refused(answer(400, body)) is refused


def test_revisions_spoken() -> None:
    assert revisions_from(4) == (4, 3) and revisions_from(3) == (3, 4)
    four = answer(200, "", eio=4, handshake=HANDSHAKE)
    none = answer(400, '{"code":5,"message":"Unsupported protocol version"}', eio=3)
    assert _spoken(four, none) == {4}
    assert _spoken(four, answer(200, "", eio=3, handshake=HANDSHAKE)) == {3, 4}


def test_a_ping_is_late_halfway_into_ping_timeout() -> None:
    assert interval_late(HANDSHAKE) == pytest.approx(35.0)


def test_no_upgrade_offered_is_a_warning_unless_polling_is_off() -> None:
    report = Report("handshake")
    _judge_upgrades(report, Handshake("s", (), 25000, 20000), polling_disabled=False)
    assert report.status is Status.WARN and "no upgrade" in report.summary
    quiet = Report("handshake")
    _judge_upgrades(quiet, Handshake("s", (), 25000, 20000), polling_disabled=True)
    assert quiet.status is Status.PASS
    offered = Report("handshake")
    _judge_upgrades(offered, HANDSHAKE, polling_disabled=False)
    assert offered.status is Status.PASS


def test_cookie_summary_never_shows_the_value() -> None:
    assert _cookie_summary("io=s3cret; Path=/; HttpOnly") == ("io", "Path=/; HttpOnly")
    assert _cookie_summary("AWSALB=abc") == ("AWSALB", "no attributes")


def test_upgrade_refused_while_direct_works_points_at_sticky_sessions() -> None:
    report = Report("websocket")
    upgrade = WebSocketOutcome(eio=4, refused=403, problem="HTTP 403")
    _judge_upgrade(report, WebSocketOutcome(eio=4), upgrade)
    assert report.status is Status.FAIL
    assert "does not know the session" in report.summary
    assert "Sticky" in report.summary


def test_upgrade_failing_as_direct_does_is_said_once() -> None:
    report = Report("websocket")
    direct = WebSocketOutcome(eio=4, problem="connection refused")
    _judge_upgrade(report, direct, WebSocketOutcome(eio=4, problem="connection refused"))
    assert report.status is Status.PASS
    assert report.evidence == ["upgrade from polling: fails the same way"]


def test_report_keeps_the_worst_summary_and_every_fix() -> None:
    report = Report("polling")
    report.flag(Status.WARN, "slow", "fix a")
    report.flag(Status.FAIL, "broken", "fix b")
    report.flag(Status.WARN, "also slow", "fix a")
    report.passed("all good")  # too late: something failed
    result = report.result()
    assert (result.status, result.summary) == (Status.FAIL, "broken")
    assert result.fix == "fix a\nfix b"
    fine = Report("polling")
    fine.passed("all good")
    assert (fine.result().status, fine.result().summary, fine.result().fix) == (
        Status.PASS,
        "all good",
        None,
    )
