"""Exceptions raised at the user boundary.

Inside simulation loops failures are values (see ``sim.result.Status``); these
exceptions are for bad input that a user must fix, and the CLI turns them into
one clear line and exit code 2 (``EXIT_USAGE``); ``OneLineArgumentParser``
does the same for command-line syntax errors.
"""

import argparse
import sys

EXIT_USAGE = 2


class UserInputError(ValueError):
    """Bad input from the user: unknown names, malformed files, out-of-range values."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value
