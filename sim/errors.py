"""Exceptions raised at the user boundary.

Inside simulation loops failures are values (see ``sim.engine.result.Status``); these
exceptions are for bad input that a user must fix, and the CLI turns them into
one clear line and exit code 2 (``EXIT_USAGE``); ``OneLineArgumentParser``
does the same for command-line syntax errors.
"""

import argparse
import contextlib
import contextvars
import sys
from collections.abc import Iterator

EXIT_USAGE = 2

# The name the next command-line parser shows as its ``prog`` (set by the
# ``jaxsizer`` dispatcher, jaxsizer.command, while it runs a module's ``main``).
_INVOKED_AS: contextvars.ContextVar[list[str]] = contextvars.ContextVar("invoked_as")


class UserInputError(ValueError):
    """Bad input from the user: unknown names, malformed files, out-of-range values."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2.

    Inside ``invoked_as(name)`` the first parser built is named ``name`` (its
    subcommands follow), so usage and errors show how the user called it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        pending = _INVOKED_AS.get([])
        if pending:
            self.prog = pending.pop()

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


@contextlib.contextmanager
def invoked_as(prog: str) -> Iterator[None]:
    """The command's first ``OneLineArgumentParser`` shows ``prog`` (e.g.
    ``jaxsizer sim`` for ``python -m sim``) instead of its own name."""
    token = _INVOKED_AS.set([prog])
    try:
        yield
    finally:
        _INVOKED_AS.reset(token)
