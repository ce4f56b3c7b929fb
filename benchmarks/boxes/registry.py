"""The foreign boxes: one directory each, its facts in ``box.json``.

A box directory holds a user circuit (``circuit.yaml`` and its SPICE
templates), a README citing the published source of its target box, and
``box.json``, the one place the benchmark reads its facts from::

    {"circuit": "circuit.yaml",            # relative to the box directory
     "tech": "ptm45.yaml" | "sky130",      # a path relative to it, or a name
     "source": "...",                      # one line: paper / repository file
     "ceiling": {"value": 0.995, "met": 995, "targets": 1000, "seed": 1,
                 "sims": {...}, "seconds": ..., "date": ..., "command": ...}}

``ceiling`` is written by ``record_ceiling`` from a ``python -m sim specs
--json`` report of the declared box (null until measured), through
``train.ceiling``: the one reader and writer of a box's ceiling, which
``python -m train`` also reads when a run's circuit YAML sits in a box
directory.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from envs.targets import draw_by_seed
from sim.errors import UserInputError
from sim.search.archive import archive_meets
from sim.sizing.session import ProblemOptions, open_session
from sim.storage.store import SimulationStore
from train.ceiling import FACTS, read_ceiling, read_facts
from train.ceiling import write_ceiling as write_box_ceiling

BOXES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Box:
    """One foreign box: where its circuit and technology are, its ceiling.

    ``tech`` is a built-in technology name or an absolute path; ``ceiling``
    the fraction (0..1) of its 1000 seed-1 box targets an extensive search
    met, None until measured.
    """

    name: str
    directory: Path
    circuit: str
    tech: str
    source: str
    ceiling: float | None
    facts: dict

    @property
    def technology_path(self) -> Path | None:
        """The technology YAML of the box, None for a built-in name."""
        return Path(self.tech) if self.tech.endswith((".yaml", ".yml")) else None


def box_names() -> list[str]:
    """Every box directory with a ``box.json``, sorted."""
    return sorted(p.parent.name for p in BOXES_DIR.glob(f"*/{FACTS}"))


def load_box(name: str) -> Box:
    """The box ``name`` (a directory under ``benchmarks/boxes``)."""
    path = BOXES_DIR / name / FACTS
    if not path.is_file():
        raise UserInputError(
            f"unknown box {name!r}: choose from {', '.join(box_names())}"
        )
    directory = path.parent
    facts = read_facts(directory)
    tech = str(facts["tech"])
    if tech.endswith((".yaml", ".yml")):
        tech = str(directory / tech)
    return Box(
        name=name,
        directory=directory,
        circuit=str(directory / facts["circuit"]),
        tech=tech,
        source=str(facts.get("source", "")),
        ceiling=read_ceiling(directory),
        facts=facts,
    )


def load_boxes(names: list[str] | None = None) -> list[Box]:
    """The boxes ``names`` (default: all), in that order."""
    return [load_box(n) for n in (names or box_names())]


def record_ceiling(name: str, report_path: Path, argv: list[str]) -> dict:
    """Write the ceiling of a ``python -m sim specs --json`` report (of the
    declared box, ``argv`` the command that made it) into the box's facts."""
    report = json.loads(Path(report_path).read_text())
    met = report["targets"]["met"]
    ceiling = {
        "value": float(report["ceiling"]),
        "met": int(sum(bool(m) for m in met)),
        "targets": len(met),
        "seed": int(report["ceiling_seed"]),
        "met_by_archive": report.get("ceiling_met_by_archive"),
        "sims": report["sims"],
        "seconds": report["seconds"],
        "date": report["date"],
        "command": shlex.join(argv),
    }
    return write_ceiling(name, ceiling)


def write_ceiling(name: str, ceiling: dict) -> dict:
    """``ceiling`` as the box's measured ceiling in its ``box.json``."""
    return write_box_ceiling(BOXES_DIR / name, ceiling)


def store_ceiling(name: str, store_path: Path, argv: list[str], note: str) -> dict:
    """A lower bound of the ceiling when a ``sim specs`` search could not
    finish: the share of the box's 1000 seed-1 targets that some design
    verified in its store ``store_path`` meets; written into ``box.json``."""
    box = load_box(name)
    options = ProblemOptions(box.circuit, box.tech)
    session = open_session(options, store=SimulationStore(":memory:"))
    try:
        spec_box = session.problem.box
        circuit = session.simulator.circuit.name
    finally:
        session.close()
    with SimulationStore(store_path) as store:
        rows = store.query(circuit=circuit, status="ok")
    figures = np.asarray(
        [[r.performance.get(s, np.nan) for s in spec_box.names] for r in rows],
        np.float64,
    ).reshape(-1, len(spec_box.names))
    met = archive_meets(figures, draw_by_seed(spec_box, 1000, 1), spec_box)
    ceiling = {
        "value": float(met.mean()),
        "met": int(met.sum()),
        "targets": len(met),
        "seed": 1,
        "lower_bound": True,
        "sims": {"total": len(rows)},
        "note": note,
        "command": shlex.join(argv),
    }
    return write_ceiling(name, ceiling)
