"""``connect``'s interactive prompt, on prompt_toolkit: line editing, a persistent history,
completion of commands, namespaces and the event names seen so far, and what the session
prints written above the line being typed, never through it.

Imported only when stdin is a terminal: a piped script reads plain lines
(:func:`siocli.live.prompt.connect_main`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import IO, Any, cast

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.patch_stdout import StdoutProxy

from ..exit import CommandError, ExitStatus

__all__ = ["COMMANDS", "Terminal", "history_path"]

COMMANDS = ("emit", "ack", "join", "leave", "use", "wait", "help", "quit", "disconnect")
_NAMESPACE_COMMANDS = frozenset(("join", "leave", "use"))


def history_path() -> Path:
    """``$SIOCLI_HISTORY``, else ``siocli/history`` in the XDG state directory."""
    given = os.environ.get("SIOCLI_HISTORY")
    if given:
        return Path(given)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "siocli" / "history"


def _history() -> History:
    path = history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:  # a read-only home: the history lasts the session
        return InMemoryHistory()
    return FileHistory(str(path))


class _Completer(Completer):
    """The first word: a command; after join/leave/use: a namespace; after emit [--ack]
    and wait: an event name seen (or sent) so far."""

    def __init__(
        self, namespaces: Callable[[], Iterable[str]], events: Callable[[], Iterable[str]]
    ) -> None:
        self.namespaces = namespaces
        self.events = events

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Any:
        text = document.text_before_cursor
        words = text.split()
        if text.endswith(" ") or not words:
            words.append("")
        word = words[-1]
        if len(words) == 1:
            candidates: Iterable[str] = COMMANDS
        elif words[0] in _NAMESPACE_COMMANDS and len(words) == 2:
            candidates = self.namespaces()
        elif words[0] == "emit" and len(words) == 2:
            candidates = ["--ack", *self.events()]
        elif (words[0] == "emit" and words[1] == "--ack" and len(words) == 3) or (
            words[0] == "wait" and len(words) == 2
        ):
            candidates = self.events()
        else:
            return
        for candidate in sorted(set(candidates)):
            if candidate.startswith(word) and candidate != word:
                yield Completion(candidate, -len(word))


class Terminal:
    """The prompt, and ``output``: where the session prints while it shows (above it)."""

    def __init__(self, namespaces: Callable[[], Iterable[str]]) -> None:
        self.seen: set[str] = set()  # event names, for completion
        # raw: rich's styles pass through; written at once (no 0.2 s batching). A text
        # stream in all but its type: write, flush, fileno, isatty, encoding, close.
        self.output = cast("IO[str]", StdoutProxy(sleep_between_writes=0.0, raw=True))
        self.session: PromptSession[str] = PromptSession(
            history=_history(),
            completer=_Completer(namespaces, lambda: self.seen),
            complete_while_typing=False,  # Tab completes; typing is never interrupted
        )

    async def lines(self, prompt: Callable[[], str]) -> AsyncIterator[str]:
        """Lines as the user enters them; the end at Ctrl-D. Ctrl-C is left to the caller
        (it interrupts the command, exit 130, as anywhere else)."""
        while True:
            try:
                line = await self.session.prompt_async(prompt())
            except EOFError:
                return
            except KeyboardInterrupt:
                raise CommandError(ExitStatus.INTERRUPTED, "interrupted") from None
            yield line

    def close(self) -> None:
        self.output.close()
