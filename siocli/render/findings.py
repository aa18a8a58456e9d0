"""Writes docs/findings.md from the catalogue (the core only builds the text):
``python -m siocli.render.findings > docs/findings.md``."""

from __future__ import annotations

import sys

from ..protocol.findings import markdown

if __name__ == "__main__":
    sys.stdout.write(markdown())
