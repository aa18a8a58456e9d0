"""Every reference in the code, the tests and the docs resolves: to the public protocol
documents (the engine.io-protocol and socket.io-protocol specifications, RFCs), to the
reference implementations' source files, or to the project's own docs. No citation of a
document that is not in the repository (a private protocol notes file, its section numbers)."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = {".py", ".md", ".js", ".json", ".toml", ".sh", ".txt", ".cfg", ".yml", ".yaml"}
SKIP = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".hypothesis"}
SKIP |= {".corpus"}  # bench/.corpus: the benchmark's captures and start-up venv (gitignored)
# A section sign is an RFC's (RFC 6455 §5.2); a bare one (engine.io-parser 2.x
# ``decodePayloadAsBinary``) points at notes nobody else
# has. The vectors' "section" labels are labels, not citations.
SECTION = re.compile(r"§\s?\d")
RFC_BEFORE = re.compile(r"(RFC ?)?\d{3,5},? ?$")  # an RFC number, maybe on the line before


def _files() -> list[Path]:
    found = []
    for directory, subdirectories, names in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories if d not in SKIP]
        for name in names:
            path = Path(directory, name)
            if path.suffix in TEXT or path.parent.name == ".ci":
                found.append(path)
    return found


def _bare_sections(line: str) -> bool:
    return any(not RFC_BEFORE.search(line[: m.start()]) for m in SECTION.finditer(line))


def test_no_citation_of_protocol_notes_outside_the_repository() -> None:
    this = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _files()
        if path != this
        for number, line in enumerate(path.read_text("utf-8", "replace").splitlines(), 1)
        if "PROTOCOL.md" in line
    ]
    assert not offenders, offenders


def test_no_bare_section_numbers() -> None:
    offenders = []
    for path in _files():
        if path == Path(__file__).resolve():
            continue
        if path.parent.name == "vectors" and path.suffix == ".json":
            continue  # the generated vectors' group labels
        for number, line in enumerate(path.read_text("utf-8", "replace").splitlines(), 1):
            if _bare_sections(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not offenders, offenders
