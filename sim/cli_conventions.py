"""The option conventions every command line follows (docs/cli.md).

    --json PATH   write the command's JSON to PATH; ``-`` prints it on stdout
                  (the human-readable output then goes to stderr)
    --n N         how many designs (targets, requests) the command draws
    --out DIR     the directory the command writes its files into

Each command builds these options with the functions below, so the names,
metavars and meanings stay the same everywhere; tests/test_cli_conventions.py
parses every command's options and checks them.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from sim.errors import UserInputError, positive_int

STDOUT = "-"

# The stdout a command had before ``keeps_stdout_for_json`` sent its
# human-readable output to stderr (``write_json(STDOUT, ...)`` writes there).
_JSON_STREAM: contextvars.ContextVar[TextIO | None] = contextvars.ContextVar(
    "json_stream", default=None
)


class _Deprecated(argparse.Action):
    """An old spelling of an option: stores into the new one's ``dest`` and
    says once on stderr which name to use."""

    def __init__(self, option_strings, dest, new: str, **kwargs) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        sys.stderr.write(f"warning: {option_string} is now {self.new}\n")
        setattr(namespace, self.dest, values)


def add_deprecated_alias(
    parser: argparse.ArgumentParser | argparse._ActionsContainer,
    old: str,
    new: str,
    **kwargs: Any,
) -> None:
    """``old`` as a hidden alias of the option ``new`` (same ``dest`` and
    ``type``; not in ``--help``)."""
    parser.add_argument(
        old,
        dest=new.removeprefix("--").replace("-", "_"),
        action=_Deprecated,
        new=new,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
        **kwargs,
    )


def _blocking_file(path: Path) -> Path | None:
    """The first existing ancestor of ``path`` that is not a directory."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def json_path(text: str) -> str:
    """argparse type of ``--json``: ``-`` or a file path whose folder can be
    made (no file in the way, not a directory itself)."""
    if text == STDOUT:
        return text
    path = Path(text)
    blocking = _blocking_file(path)
    if blocking is not None:
        raise argparse.ArgumentTypeError(
            f"{text}: {blocking} is a file, so no folder can hold the JSON there"
        )
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory, not a file")
    return text


def out_dir(text: str) -> Path:
    """argparse type of ``--out``: a directory, or a path where one can be made."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a directory")
    blocking = _blocking_file(path)
    if blocking is not None:
        raise argparse.ArgumentTypeError(
            f"{text}: {blocking} is a file, so the directory cannot be made"
        )
    return path


def max_count() -> int:
    """The largest ``--n`` this machine can hold: one kibibyte of memory per
    item (a design, a target and its results take more), at least 1."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):  # pragma: no cover - not POSIX
        memory = 1 << 34
    return max(1, memory // 1024)


def count(text: str) -> int:
    """argparse type of ``--n``: an integer >= 1 the machine can hold."""
    try:
        value = positive_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    limit = max_count()
    if value > limit:
        raise argparse.ArgumentTypeError(
            f"{text} is more than this machine can hold (at most {limit}: one "
            "KiB of memory per item)"
        )
    return value


def add_json_option(
    parser: argparse.ArgumentParser | argparse._ActionsContainer,
    what: str = "the results",
    default: str | None = None,
    required: bool = False,
) -> None:
    """``--json PATH``: where the command writes ``what`` as JSON (``-``:
    stdout). ``default``: a path written even without the flag."""
    suffix = f"; default {default}" if default else ""
    parser.add_argument(
        "--json",
        type=json_path,
        default=default,
        required=required,
        metavar="PATH",
        help=f"write {what} (JSON) to PATH ('-': stdout{suffix})",
    )


def add_count_option(
    parser: argparse.ArgumentParser | argparse._ActionsContainer,
    default: int | None,
    what: str,
    old: Iterable[str] = (),
) -> None:
    """``--n N``: how many ``what`` the command draws (an integer >= 1);
    ``old`` spellings stay as hidden aliases."""
    shown = f" (default {default})" if default is not None else ""
    parser.add_argument(
        "--n", type=count, default=default, metavar="N", help=f"{what}{shown}"
    )
    for flag in old:
        add_deprecated_alias(parser, flag, "--n", type=count, metavar="N")


def add_out_option(
    parser: argparse.ArgumentParser | argparse._ActionsContainer,
    what: str,
    default: str | None = None,
    **kwargs: Any,
) -> None:
    """``--out DIR``: the directory the command writes ``what`` into."""
    shown = f" (default {default})" if default else ""
    parser.add_argument(
        "--out",
        type=out_dir,
        default=Path(default) if default else None,
        metavar="DIR",
        help=f"directory for {what}{shown}",
        **kwargs,
    )


def _plain(value: Any) -> Any:
    """JSON for numpy scalars and arrays (``json.dumps(default=...)``)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_json(target: str | Path, value: Any, indent: int = 1) -> str:
    """Write ``value`` as JSON to the file ``target`` (its folder is made) or,
    for ``-``, to stdout; returns what was written to, for a ``wrote`` line."""
    text = json.dumps(value, indent=indent, default=_plain) + "\n"
    if str(target) == STDOUT:
        stream = _JSON_STREAM.get() or sys.stdout
        stream.write(text)
        stream.flush()
        return "stdout"
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as error:
        raise UserInputError(f"cannot write {path} ({error.strerror})") from None
    return str(path)


def wants_json_on_stdout(argv: Iterable[str]) -> bool:
    """Whether the command line asks ``--json -``."""
    words = list(argv)
    for i, word in enumerate(words):
        if word == "--":
            return False
        if word == f"--json={STDOUT}" or (
            word == "--json" and words[i + 1 : i + 2] == [STDOUT]
        ):
            return True
    return False


def keeps_stdout_for_json(main: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command's ``main(argv)``: with ``--json -`` everything else
    it prints goes to stderr, so stdout holds exactly one JSON document."""

    @functools.wraps(main)
    def wrapped(argv: list[str] | None = None) -> Any:
        words = sys.argv[1:] if argv is None else argv
        if not wants_json_on_stdout(words):
            return main(argv)
        token = _JSON_STREAM.set(sys.stdout)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                return main(argv)
        finally:
            _JSON_STREAM.reset(token)

    wrapped.keeps_stdout_for_json = True  # type: ignore[attr-defined]
    return wrapped
