"""The one way siocli makes a rich Console: ``--no-color`` and ``NO_COLOR`` both honoured
(no escape sequence at all: :func:`~siocli.render.text.plain_console`), no guessing of
highlights in what peers sent, long lines left whole."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["make_console"]


def make_console(
    file: IO[str] | None = None,
    *,
    stderr: bool = False,
    no_color: bool = False,
    force_terminal: bool | None = None,
) -> Console:
    from rich.console import Console

    from .text import plain_console

    return Console(
        file=file,
        stderr=stderr,
        highlight=False,
        soft_wrap=True,
        force_terminal=force_terminal,
        **plain_console(no_color),
    )
