"""``-q/--quiet`` and ``-v/--verbose``, one convention for every command
(docs/cli.md), and progress bars that follow it.

    -q, --quiet    only the result and errors: no progress bars, no
                   per-round lines
    -v, --verbose  progress bars even when stderr is not a terminal (a log
                   file), and every per-step line the command has

Progress bars (tqdm) go to stderr, so stdout keeps the result (and the JSON
of ``--json -``); by default they show only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from typing import Any

from tqdm import tqdm

QUIET, NORMAL, VERBOSE = -1, 0, 1


def add_verbosity_options(parser: argparse.ArgumentParser) -> None:
    """``-q/--quiet`` and ``-v/--verbose`` (exclusive) into ``verbosity``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=QUIET,
        help="only the result and errors (no progress bars or per-step lines)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=VERBOSE,
        help="progress bars even when stderr is not a terminal",
    )
    parser.set_defaults(verbosity=NORMAL)


def progress(
    total: int | None = None, desc: str = "", unit: str = "it", verbosity: int = 0
) -> tqdm:
    """A tqdm bar on stderr: off with ``-q``, and off by default when
    stderr is not a terminal (``-v`` shows it anyway)."""
    shown = verbosity >= VERBOSE or (verbosity == NORMAL and sys.stderr.isatty())
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not shown,
        dynamic_ncols=True,
    )


def quiet_stdout(verbosity: int) -> Any:
    """A context that drops what the command prints along the way with
    ``-q`` (the result is printed after it ends)."""
    if verbosity <= QUIET:
        return contextlib.redirect_stdout(io.StringIO())
    return contextlib.nullcontext()
