"""Fuzz: mutated circuit files never give a traceback and never run a command.

1,200 mutations of a copy of st1 (its YAML and its three netlists): deleted,
duplicated and swapped lines, swapped tokens, control keywords with random
case, prefixes, suffixes and continuation lines, includes (direct, nested,
``.inc<suffix>``, ``.lib<suffix>``) of files holding control sections. Every
mutant either loads or fails with one ``UserInputError`` line; the loaded
ones build a ``Simulator`` (which checks the assembled decks); a sample
simulates in real ngspice and comes back with a status. A canary file that
the injected ``shell`` commands would create never appears.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from sim.engine.result import Status
from sim.errors import UserInputError
from sim.format.circuit import BUILTIN_DIR, load_circuit
from sim.format.technology import load_technology
from sim.sizing.simulator import Simulator

N_MUTATIONS = 1200
N_SIMULATED = 12
FILES = ("circuit.yaml", "st1.sp", "delay.sp", "thresholds.sp")
KEYWORDS = (".control", ".endc", ".osdi", ".exec", ".shell")


def _random_case(rng: random.Random, text: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def _keyword(rng: random.Random) -> str:
    """A control keyword as ngspice would still read it (or nearly)."""
    word = _random_case(rng, rng.choice(KEYWORDS))
    suffix = rng.choice(["", "", "_x", "x", "1", "_endc", "s", "_" + "a" * 5])
    lead = rng.choice(["", "", " ", "\t", "  \t", "+", "+ ", "\r"])
    return lead + word + suffix


def _evil_files(folder: Path, canary: Path) -> list[str]:
    """Files holding control sections; returns include lines naming them."""
    body = f".control\nshell touch {canary}\n.endc\n"
    (folder / "evil.inc").write_text(body)
    (folder / "evil.lib").write_text(f"* lib\n.lib sec\nR9 a 0 1k\n{body}.endl sec\n")
    (folder / "nested.inc").write_text("* clean first\n.include evil.inc\n")
    (folder / "upper.inc").write_text(f".CONTROL_X\nshell touch {canary}\n.ENDC_X\n")
    (folder / "cont.inc").write_text(f"R8 a 0\n+ 1k\n.control\n+shell touch {canary}\n")
    return [
        ".include evil.inc",
        ".inc evil.inc",
        ".incfoo evil.inc",
        ".INCLUDE nested.inc",
        '.include "upper.inc"',
        ".include cont.inc",
        ".lib evil.lib sec",
        ".libxyz evil.lib sec",
        f".include {folder / 'nested.inc'}",
        ".include\n+ evil.inc",
    ]


def _mutate(rng: random.Random, text: str, includes: list[str], canary: Path) -> str:
    lines = text.splitlines()
    if not lines:
        lines = [""]
    where = rng.randrange(len(lines) + 1)
    op = rng.randrange(10)
    if op == 0:  # delete a line
        del lines[min(where, len(lines) - 1)]
    elif op == 1:  # duplicate a line (a duplicate YAML key, element, ...)
        i = min(where, len(lines) - 1)
        lines.insert(i, lines[i])
    elif op == 2:  # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:  # swap two tokens of a line
        i = rng.randrange(len(lines))
        tokens = lines[i].split(" ")
        a, b = rng.randrange(len(tokens)), rng.randrange(len(tokens))
        tokens[a], tokens[b] = tokens[b], tokens[a]
        lines[i] = " ".join(tokens)
    elif op in (4, 5):  # a control section, however spelled
        block = [_keyword(rng), f"shell touch {canary}", _keyword(rng)]
        lines[where:where] = block
    elif op == 6:  # an include of a file that holds a control section
        lines[where:where] = rng.choice(includes).split("\n")
    elif op == 7:  # a control keyword hidden in a continuation line
        lines[where:where] = [f"R7 a 0 1k{rng.choice(['', ' $'])}", f"+{_keyword(rng)}"]
    elif op == 8:  # case of a whole line
        i = rng.randrange(len(lines))
        lines[i] = _random_case(rng, lines[i])
    else:  # one character replaced
        i = rng.randrange(len(lines))
        if lines[i]:
            k = rng.randrange(len(lines[i]))
            char = rng.choice(":{}[]-=.+*\"'`$;,0 \tx")
            lines[i] = lines[i][:k] + char + lines[i][k + 1 :]
    return "\n".join(lines) + "\n"


def _mutants(tmp_path: Path, canary: Path):
    """Yield (index, folder) of mutated st1 copies (the folder is reused)."""
    rng = random.Random(20)
    source = BUILTIN_DIR / "st1"
    originals = {name: (source / name).read_text() for name in FILES}
    folder = tmp_path / "st1"
    folder.mkdir()
    includes = _evil_files(folder, canary)
    for index in range(N_MUTATIONS):
        for name, text in originals.items():
            (folder / name).write_text(text)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            name = rng.choice(FILES)
            path = folder / name
            path.write_text(_mutate(rng, path.read_text(), includes, canary))
        yield index, folder


@pytest.mark.slow
def test_mutated_circuit_files_never_traceback_nor_run_commands(tmp_path, pool, store):
    canary = tmp_path / "CANARY"
    tech = load_technology("generic")
    outcomes = {"refused": 0, "loaded": 0}
    sampled = []
    for index, folder in _mutants(tmp_path, canary):
        try:
            circuit = load_circuit(folder, tech)
            simulator = Simulator(circuit, tech, store=store, backend=pool)
        except UserInputError as error:
            message = str(error)
            assert message and "\n" not in message, message
            outcomes["refused"] += 1
            continue
        outcomes["loaded"] += 1
        if len(sampled) < N_SIMULATED and index % 7 == 0:
            # Copy what loaded: the folder is rewritten by the next mutation.
            kept = tmp_path / f"kept{index}"
            shutil.copytree(folder, kept)
            sampled.append(kept)
        assert simulator.deck(circuit.testbenches[0].name)
    assert outcomes["refused"] + outcomes["loaded"] == N_MUTATIONS
    assert outcomes["refused"] > 100 and outcomes["loaded"] > 100, outcomes
    for kept in sampled:
        try:
            simulator = Simulator(kept, tech, store=store, backend=pool)
        except UserInputError:
            pytest.fail(f"{kept} loaded once and not again")
        result = simulator.simulate_one()
        assert isinstance(result.status, Status)
        assert result.ok or result.message, result
    assert not canary.exists()
