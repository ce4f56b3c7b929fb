"""Read a deck the way ngspice will, and refuse what could run commands.

ngspice starts a control section (a script that may run ``shell``) on any
line that begins, after blanks, with ``.control`` in any case and with any
suffix (``.control_x`` too), in the deck or in a file it pulls in with
``.include`` / ``.inc<anything>`` / ``.lib<anything> FILE SECTION``, and it
keeps reading past ``.end``. ``expand_deck`` follows includes recursively
(relative paths against the including file's folder), joins ``+``
continuation lines, and refuses with the file and line:

- comment lines that start ``*#`` (ngspice runs the rest of such a line as
  a control command, ``*#echo x > FILE`` writes a file) and a first line
  ``*ng_script`` (the whole file becomes a command script);
- control sections (``.control*``, ``.endc*``) and dot commands that load
  code or run scripts (``.osdi``, ``.exec``, ``.shell``, ...), matched
  case-insensitively by prefix, on the physical line and after a ``+``;
- interactive commands written as netlist lines (``shell``, ``source``, ...);
- backquotes outside comments (ngspice's front end runs them through a shell);
- includes that are missing, not regular files, cyclic or too deep, and
  nested relative includes that ngspice would find somewhere other than
  next to the including file (see below).

Include names are taken as the bytes ngspice reads (files are decoded as
UTF-8 with ``surrogateescape``, so a name maps back to its exact bytes). For
a relative name in an included file, ngspice 39 tries its working folder
and every ``sourcepath`` folder before the including file's folder
(measured with strace); ``expand_deck(search_dirs=...)`` refuses the name
when one of those earlier candidates exists, so the file checked and keyed
is the file ngspice opens. Workers run in a private, empty folder.

The same walk gives a content digest of everything the simulation reads
(``ExpandedDeck.digest``): include lines count by the content of the file
they name, not its path, so an edited include is a new digest.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserInputError

# Dot commands refused wherever they appear: control sections and anything
# that loads code or runs a script. Matched as prefixes, like ngspice does.
REFUSED_DOT_PREFIXES = (
    ".control",
    ".endc",
    ".osdi",
    ".exec",
    ".shell",
    ".system",
    ".source",
    ".codemodel",
    ".newcontrol",
)
# Front-end commands that run programs, read scripts or load code. As netlist
# lines they are harmless element names; refused anyway as a second fence.
REFUSED_COMMANDS = frozenset(
    """
    shell source exec system codemodel osdi pre_osdi pre_codemodel aspice
    rspice edit gnuplot bug unalias alias sh
    """.split()
)
# Comment prefixes ngspice turns into commands: ``*#`` lines become a control
# section, a first line ``*ng_script`` makes the file a command script.
REFUSED_COMMENT_PREFIXES = ("*#", "*ng_script")
MAX_INCLUDE_DEPTH = 32
# One ngspice analysis command on one line (as sent with ngSpice_Command):
# letters, digits, blanks and the punctuation of numbers and v(a,b) only.
SAFE_ANALYSIS = re.compile(
    r"^(op|ac|dc|tran|noise|tf|pz)\b[\w .+\-(),=]*\Z", re.I | re.ASCII
)
# Leading characters ngspice skips or that hide a keyword from a reader.
_LEADING = " \t\r\n\f\v\x00\ufeff+"


@dataclass(frozen=True)
class IncludedFile:
    """A file the deck reads: its path and the SHA-256 of its content."""

    path: Path
    sha256: str


@dataclass(frozen=True)
class ExpandedDeck:
    """A checked deck: the files it reads and a digest of all its content."""

    digest: str
    files: tuple[IncludedFile, ...]


def _refusal(source: str, number: int, reason: str, line: str) -> UserInputError:
    shown = line.strip()
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return UserInputError(f"{source}:{number}: {reason}: {shown!r}")


def _check_physical_line(line: str, source: str, number: int) -> None:
    """Refuse one physical line that could start a script or run a command."""
    bare = line.lstrip(_LEADING)
    lowered = bare.lower()
    if lowered.startswith("*"):
        if lowered.startswith("*#"):
            raise _refusal(
                source,
                number,
                "'*#' comment refused (ngspice runs the rest of the line as a command)",
                line,
            )
        if lowered.startswith("*ng_script"):
            raise _refusal(source, number, "ngspice script marker refused", line)
        return  # a comment
    for prefix in REFUSED_DOT_PREFIXES:
        if lowered.startswith(prefix):
            raise _refusal(
                source,
                number,
                f"'{prefix}' refused (ngspice would run its commands)",
                line,
            )
    first = lowered.split(None, 1)[0] if lowered.split() else ""
    if first in REFUSED_COMMANDS or first.startswith("pre_"):
        raise _refusal(source, number, f"command '{first}' refused in a deck", line)
    if "`" in bare:
        raise _refusal(source, number, "backquote refused (shell substitution)", line)
    if any(ord(c) < 32 and c not in "\t\r\n\f\v" for c in line):
        raise _refusal(source, number, "control character refused", line)


def _physical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line): numbered by newlines as editors count them, and
    split further wherever Python sees a line break (``\\r`` and the like)."""
    return [
        (number, piece)
        for number, line in enumerate(text.split("\n"), start=1)
        for piece in line.splitlines() or [""]
    ]


def _logical_lines(text: str) -> list[tuple[int, int, int, str]]:
    """(line number, first and last index into ``_physical_lines``, logical
    line) with ``+`` continuation lines joined."""
    out: list[tuple[int, int, int, str]] = []
    for index, (number, raw) in enumerate(_physical_lines(text)):
        stripped = raw.strip()
        if stripped.startswith("+") and out:
            start, first, _, previous = out[-1]
            out[-1] = (start, first, index, previous + " " + stripped[1:].strip())
        else:
            out.append((number, index, index, raw))
    return out


def _include_target(line: str) -> tuple[str, str] | None:
    """(file, section) named by an include or library line, else None."""
    tokens = line.strip().split()
    if not tokens:
        return None
    word = tokens[0].lower()
    if word.startswith(".inc") and len(tokens) >= 2:
        return _unquote(tokens[1]), ""
    if word.startswith(".lib") and len(tokens) >= 3:
        return _unquote(tokens[1]), tokens[2]
    if word.startswith(".inc") or (word.startswith(".lib") and len(tokens) == 1):
        raise ValueError("names no file")
    return None


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def _name_path(name: str) -> Path:
    """The path of an include name, from the exact bytes of the name."""
    return Path(os.fsdecode(name.encode("utf-8", "surrogateescape")))


def _resolve(name: str, directory: Path | None) -> Path | None:
    path = Path(os.path.expanduser(_name_path(name)))
    if path.is_absolute():
        return path
    return None if directory is None else directory / path


def decode_deck_bytes(data: bytes) -> str:
    """File bytes as the checker reads them: UTF-8, any other byte kept as a
    surrogate, so names map back to the bytes ngspice opens."""
    return data.decode("utf-8", "surrogateescape")


class _Walker:
    """One expansion: the files read so far and the include stack.

    ``search_dirs``: the folders ngspice tries before the including file's
    folder for a relative name in an included file (its working folder and
    ``sourcepath``); a candidate there that exists is refused.
    """

    def __init__(self, search_dirs: tuple[Path, ...] = ()) -> None:
        self.files: dict[Path, str] = {}
        self.stack: list[Path] = []
        self.search_dirs = search_dirs

    def text_digest(
        self, text: str, source: str, directory: Path | None, nested: bool = False
    ) -> str:
        """Check ``text`` and its includes; return their content digest.

        ``nested``: ``text`` is an included file's content (ngspice looks up
        its relative includes in ``search_dirs`` first).
        """
        for number, line in _physical_lines(text):
            _check_physical_line(line, source, number)
        digest = hashlib.sha256()
        for number, _, _, line in _logical_lines(text):
            try:
                target = _include_target(line)
            except ValueError:
                raise _refusal(source, number, "include names no file", line) from None
            if target is None:
                digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
                continue
            name, section = target
            if nested and name.startswith("~"):
                raise _refusal(
                    source,
                    number,
                    "'~' in an included file's include refused (ngspice runs "
                    "with its own home folder)",
                    line,
                )
            path = _resolve(name, directory)
            if path is None:
                raise _refusal(
                    source,
                    number,
                    "relative include in an assembled deck (it would be looked "
                    "up in the simulator's working directory)",
                    line,
                )
            if nested and not _name_path(name).is_absolute():
                self._refuse_earlier_candidates(name, path, source, number, line)
            sha = self.file_digest(path, source, number, line, bool(section))
            keyword = ".lib" if section else ".include"
            digest.update(f"{keyword} sha256:{sha} {section}\n".encode())
        return digest.hexdigest()

    def _refuse_earlier_candidates(
        self, name: str, path: Path, source: str, number: int, line: str
    ) -> None:
        """Refuse a relative name ngspice would find before ``path``."""
        relative = _name_path(name)
        for folder in self.search_dirs:
            candidate = folder / relative
            if os.path.lexists(candidate) and candidate != path:
                raise _refusal(
                    source,
                    number,
                    f"include would be found at {candidate.resolve()} (ngspice "
                    "looks in its working and script folders before the "
                    "including file's folder)",
                    line,
                )

    def file_digest(
        self, path: Path, source: str, number: int, line: str, library: bool
    ) -> str:
        """Check the file an include names (and its includes); its digest.

        A library section of a file being read (``.lib self.lib body``, the
        usual layout of corner libraries) is covered by the read under way.
        """
        try:
            resolved = path.resolve()
            info = resolved.stat()
        except (OSError, RuntimeError, ValueError):
            raise _refusal(source, number, f"include not found: {path}", line) from None
        if not stat.S_ISREG(info.st_mode):
            raise _refusal(source, number, f"include is not a file: {path}", line)
        if resolved in self.stack and library:
            return "enclosing-file"
        if resolved in self.stack:
            raise _refusal(source, number, f"include cycle through {path}", line)
        if len(self.stack) >= MAX_INCLUDE_DEPTH:
            raise _refusal(source, number, "includes nested too deep", line)
        if resolved in self.files:
            return self.files[resolved]
        try:
            data = resolved.read_bytes()
        except OSError as error:
            raise _refusal(
                source, number, f"cannot read include {path} ({error})", line
            ) from None
        self.stack.append(resolved)
        try:
            inner = self.text_digest(
                decode_deck_bytes(data), str(resolved), path.parent, nested=True
            )
        finally:
            self.stack.pop()
        sha = hashlib.sha256(data + inner.encode()).hexdigest()
        self.files[resolved] = sha
        return sha


def expand_deck(
    text: str,
    source: str,
    directory: Path | None = None,
    search_dirs: tuple[Path, ...] = (),
) -> ExpandedDeck:
    """Check ``text`` as ngspice would read it, following every include.

    ``source`` names the text in messages (a file path or ``"deck tb"``);
    ``directory`` resolves relative includes (None: an assembled deck, where
    a relative include is refused). ``search_dirs``: where the ngspice that
    will read the deck looks first for a relative name in an included file
    (a worker passes its working folder and ``sourcepath``; elsewhere the
    worker's folder is private and empty, so nothing is there). Raises
    ``UserInputError`` naming the file and line of the first refused line.
    """
    walker = _Walker(tuple(search_dirs))
    digest = walker.text_digest(text, source, directory)
    files = tuple(IncludedFile(p, s) for p, s in walker.files.items())
    return ExpandedDeck(digest, files)


def absolute_includes(text: str, directory: Path) -> str:
    """``text`` with each relative include path made absolute against
    ``directory`` (ngspice would look it up in its working directory).

    Call after ``expand_deck`` has accepted ``text``; other lines are kept
    as they are.
    """
    physical = [line for _, line in _physical_lines(text)]
    out: list[str] = []
    for _, first, last, line in _logical_lines(text):
        try:
            target = _include_target(line)
        except ValueError:
            target = None
        path = None if target is None else _resolve(target[0], directory)
        if target is None or path is None:
            out.extend(physical[first : last + 1])
            continue
        keyword = line.strip().split()[0]
        name = str(path.resolve())
        if any(c.isspace() for c in name):
            name = f'"{name}"'
        out.append(f"{keyword} {name} {target[1]}".rstrip())
    return "\n".join(out)  # the last piece is "" when text ends with a newline


def check_analysis_command(command: str) -> None:
    """Refuse anything but one plain analysis command (sent to ngspice as is)."""
    if not SAFE_ANALYSIS.match(command):
        raise UserInputError(f"not a plain ngspice analysis command: {command!r}")
