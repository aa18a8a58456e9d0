"""``siocli doctor``'s output: a block per check and a summary table for people; one JSON
object per check, then a summary object, for machines (keys in the README).

A block is the status mark, the check's number and title, its summary; then the evidence,
one line each; then ``fix:``. Lines are wrapped to the terminal with a hanging indent, and
control characters from the server are escaped. Colour only on a terminal, never with
``NO_COLOR``.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import IO, TYPE_CHECKING, Any

from .jsonl import dumps_line
from .text import escape_text

if TYPE_CHECKING:
    from rich.console import Console

    from ..doctor import CheckResult

__all__ = ["DoctorPrinter"]

_MARKS = {
    "pass": ("✓", "green"),
    "warn": ("!", "yellow"),
    "fail": ("✗", "bold red"),
    "skip": ("-", "dim"),
}
_INDENT = "     "


class DoctorPrinter:
    """Prints each check as it ends, and the summary at the end."""

    def __init__(self, out: IO[str], *, as_json: bool = False, no_color: bool = False) -> None:
        self.out = out
        self.as_json = as_json
        self.console: Console | None = None
        if not as_json:
            from .console import make_console

            self.console = make_console(out, no_color=no_color)

    def check(self, result: CheckResult) -> None:
        if self.as_json:
            self._line(
                {
                    "check": result.check,
                    "title": result.title,
                    "status": result.status.value,
                    "summary": result.summary,
                    "evidence": list(result.evidence),
                    "fix": result.fix,
                    "data": result.data,
                    "seconds": round(result.seconds, 3),
                }
            )
            return
        from rich.text import Text

        assert self.console is not None
        mark, style = _MARKS[result.status.value]
        width = max(self.console.width, 30)  # the terminal's, even a narrow one
        title = f"{result.number}. {result.title}"
        head = Text(self._wrap(f"{mark} {title}: {result.summary}", width, "", _INDENT))
        head.stylize(style, 0, len(mark))
        head.stylize("bold", len(mark) + 1, len(mark) + 1 + len(title))
        self.console.print(head)
        for line in result.evidence:
            self.console.print(Text(self._wrap(line, width, _INDENT), style="dim"))
        if result.fix:
            for number, fix in enumerate(result.fix.split("\n")):
                lead = _INDENT + ("fix: " if number == 0 else "also: ")
                text = Text(self._wrap(fix, width, lead, _INDENT + "     "))
                text.stylize(style, len(_INDENT), len(lead))
                self.console.print(text)
        self.out.flush()

    def summary(self, results: list[CheckResult], seconds: float, exit_code: int) -> None:
        counts = Counter(r.status.value for r in results)
        worst = next((s for s in ("fail", "warn", "pass") if counts[s]), "skip")
        if self.as_json:
            self._line(
                {
                    "check": "summary",
                    "status": worst,
                    "counts": {s: counts[s] for s in ("pass", "warn", "fail", "skip")},
                    "exit": exit_code,
                    "seconds": round(seconds, 3),
                }
            )
            return
        from rich import box
        from rich.table import Table
        from rich.text import Text

        assert self.console is not None
        table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("check", no_wrap=True)
        table.add_column("status", no_wrap=True)
        # each check's summary was printed with it, above: the table is the overview
        for result in results:
            mark, style = _MARKS[result.status.value]
            table.add_row(
                str(result.number),
                result.title,
                Text(f"{mark} {result.status.value}", style=style),
            )
        self.console.print()
        self.console.print(table)
        parts = [f"{counts['pass']} passed"]
        if counts["warn"]:
            parts.append(f"{counts['warn']} warning{'s' if counts['warn'] > 1 else ''}")
        if counts["fail"]:
            parts.append(f"{counts['fail']} failed")
        if counts["skip"]:
            parts.append(f"{counts['skip']} skipped")
        line = f"{len(results)} checks in {seconds:.1f} s: {', '.join(parts)} (exit {exit_code})"
        self.console.print(Text(line, style=_MARKS[worst][1]))
        self.out.flush()

    def _line(self, record: dict[str, Any]) -> None:
        self.out.write(dumps_line(record) + "\n")
        self.out.flush()

    @staticmethod
    def _wrap(text: str, width: int, first: str, rest: str | None = None) -> str:
        return textwrap.fill(
            escape_text(text),
            width=width,
            initial_indent=first,
            subsequent_indent=first if rest is None else rest,
            break_long_words=False,
            break_on_hyphens=False,
        )
