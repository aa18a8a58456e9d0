"""What a check reports: its :class:`Status`, the :class:`CheckResult` printed for it, and
the :class:`Report` a check fills in while it runs."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHECKS", "CheckResult", "Report", "Status", "skipped"]


class Status(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


_RANK = {Status.SKIP: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3}

CHECKS: tuple[tuple[str, str], ...] = (
    ("reach", "Reach"),
    ("path", "Path"),
    ("protocol", "Protocol"),
    ("handshake", "Handshake"),
    ("parser", "Parser"),
    ("polling", "Polling"),
    ("websocket", "WebSocket"),
    ("sticky", "Sticky sessions"),
    ("namespaces", "Namespaces"),
    ("heartbeat", "Heartbeat"),
)
"""Every check, in order: (its key in ``--json``, its title)."""

_TITLES = dict(CHECKS)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check found: ``evidence`` lines, and the ``fix`` when it did not pass."""

    check: str
    status: Status
    summary: str
    evidence: tuple[str, ...] = ()
    fix: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def title(self) -> str:
        return _TITLES[self.check]

    @property
    def number(self) -> int:
        return [name for name, _ in CHECKS].index(self.check) + 1


def skipped(check: str, reason: str, data: dict[str, Any] | None = None) -> CheckResult:
    """A check that did not run, and why."""
    return CheckResult(check, Status.SKIP, f"skipped: {reason}", data=data or {})


@dataclass(slots=True)
class Report:
    """A check in progress: evidence lines, the worst status so far and its fix."""

    check: str
    evidence: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.PASS
    summary: str = ""
    fixes: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        self.evidence.append(line)

    def flag(self, status: Status, summary: str, fix: str | None = None) -> None:
        """A problem: the worst one gives the summary (an empty one only adds its fix);
        every fix is kept."""
        if summary and (_RANK[status] > _RANK[self.status] or not self.summary):
            self.summary = summary
        if _RANK[status] > _RANK[self.status]:
            self.status = status
        if fix and fix not in self.fixes:
            self.fixes.append(fix)

    def passed(self, summary: str) -> None:
        if self.status is Status.PASS:
            self.summary = summary

    def result(self) -> CheckResult:
        fix = "\n".join(self.fixes) if self.fixes and self.status is not Status.PASS else None
        return CheckResult(
            self.check,
            self.status,
            self.summary or "done",
            tuple(self.evidence),
            fix,
            self.data,
        )
