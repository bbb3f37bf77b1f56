"""Rich consoles for the CLIs: the terminal's width, or a wide one when output goes to a log."""

from __future__ import annotations

import sys

from rich.console import Console


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Not a terminal (CI logs, pipes): don't wrap addresses and signatures at 80 columns.
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, width=width)
