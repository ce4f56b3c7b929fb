"""Fuzz, second trust pass (issue 24): mutated circuit, technology and run
directory files never give a traceback and never run a command.

Five classes of mutation, ``fuzz(n)`` spreads ``n`` over them:

- ``star_hash``: command-bearing lines (``*#`` however spelled, ``pre_*``,
  ``*ng_script``, ``.control``) and harmless near misses, injected into a
  copy of st1's netlists, a nested include, and a technology's model library
  (in the section used and in one that is not);
- ``includes``: nested include names (non-ASCII with latin-1 decoys, ``..``
  chains, ``~``, quotes, symlinks, folders, missing files) with command-
  bearing files planted where ngspice looks first (its working folder and
  the shared temp folder);
- ``yaml_aliases``: alias trees of random fan-out and depth, cycles, merges,
  undefined aliases in circuit and technology YAML;
- ``run_dir``: byte flips, truncations, non-UTF-8 bytes, wrong JSON types,
  deletions and folders in place of files, over every file of a run
  directory, then every reader of a run (and the store);
- ``concurrent``: processes racing for one run directory's lock.

Every outcome is "accepted" or one ``UserInputError`` line; the canary files
that every injected command would create never appear; a sample of accepted
circuits is simulated in real ngspice, by workers whose shared temp folder
holds planted files. The quick test runs ``QUICK`` mutations; the slow one
``FULL`` (>= 2,000), or ``$JAXSIZER_FUZZ_N``.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.engine.deck_check import expand_deck
from sim.engine.pool import SimulationPool
from sim.engine.result import Status
from sim.errors import UserInputError
from sim.format.circuit import BUILTIN_DIR, load_circuit
from sim.format.strict_yaml import MAX_YAML_NODES, load_yaml
from sim.format.technology import GENERIC_LIBRARY, load_technology_file
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore
from tests.conftest import fill_store
from train.run_dir import RunDir

QUICK = 30
FULL = 2100
SHARE = {
    "star_hash": 0.30,
    "includes": 0.25,
    "yaml_aliases": 0.15,
    "run_dir": 0.25,
    "concurrent": 0.05,
}
NETLISTS = ("st1.sp", "delay.sp", "thresholds.sp", "sub/extra.inc")


class Fuzz:
    """One fuzz run's folders, canaries and counts."""

    def __init__(self, root: Path, seed: int, pool: SimulationPool | None) -> None:
        self.rng = random.Random(seed)
        self.root = root
        self.pool = pool
        # ngspice lower-cases command lines: the canary path must be lower case.
        self.canary_dir = Path(tempfile.mkdtemp(prefix="jxfuzzcanary"))
        self.canary = self.canary_dir / "canary"
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.tracebacks: list[str] = []
        self.simulated = 0
        self._circuit_base()

    # -- helpers --------------------------------------------------------------------
    def _commands(self) -> list[str]:
        c = self.canary
        return [
            f"echo x > {c}",
            f"shell touch {c}",
            f"SHELL touch {c}",
            f"set x=1\n*#shell touch {c}",
            f"write {c} all",
        ]

    def _refusal(self, kind: str, error: UserInputError) -> None:
        message = str(error)
        if not message or "\n" in message:
            self.tracebacks.append(f"{kind}: multi-line message {message!r}")
        self.counts[kind]["refused"] += 1

    def _unexpected(self, kind: str, error: BaseException) -> None:
        self.tracebacks.append(f"{kind}: {type(error).__name__}: {error}")
        self.counts[kind]["traceback"] += 1

    # -- circuit and technology files -------------------------------------------------
    def _circuit_base(self) -> None:
        base = self.root / "base"
        shutil.copytree(BUILTIN_DIR / "st1", base)
        (base / "sub").mkdir()
        (base / "sub" / "extra.inc").write_text("* extra\nCX out 0 1f\n")
        with (base / "st1.sp").open("a") as handle:
            handle.write(".include sub/extra.inc\n")
        shutil.copy(GENERIC_LIBRARY, base / "models.lib")
        lib = (base / "models.lib").read_text()
        (base / "models.lib").write_text(lib.replace("generic.lib", "models.lib"))
        (base / "tech.yaml").write_text(
            "name: fuzztech\nvdd: 1.2\n"
            "corners:\n  tt: [{file: models.lib, section: tt}]\n"
            "  ff: [{file: models.lib, section: ff}]\n"
            "default_corner: tt\nnmos: nmos\npmos: pmos\n"
            "limits: {w: [0.2e-6, 200e-6], l: [0.13e-6, 10e-6]}\n"
        )
        self.base = base
        self.work = self.root / "work"

    def _fresh(self) -> Path:
        if self.work.exists():
            shutil.rmtree(self.work)
        shutil.copytree(self.base, self.work, symlinks=True)
        return self.work

    def _load(self, kind: str, folder: Path, must_refuse: bool) -> None:
        try:
            tech = load_technology_file(folder / "tech.yaml")
            circuit = load_circuit(folder, tech)
            simulator = Simulator(circuit, tech, store=None, backend=self.pool)
        except UserInputError as error:
            self._refusal(kind, error)
            return
        except Exception as error:  # noqa: BLE001 - the fuzz counts them
            self._unexpected(kind, error)
            return
        self.counts[kind]["accepted"] += 1
        if must_refuse:
            self.tracebacks.append(f"{kind}: a command-bearing mutant was accepted")
        sample = self.counts[kind]["accepted"] % 25 == 1
        if self.pool is not None and sample:
            with simulator:
                result = simulator.simulate_one()
            assert isinstance(result.status, Status)
            self.simulated += 1

    def star_hash(self) -> None:
        rng = self.rng
        folder = self._fresh()
        target = rng.choice([*NETLISTS, "models.lib", "models.lib"])
        path = folder / target
        lines = path.read_text().splitlines()
        lead = rng.choice(["", "", " ", "\t", "\f", "\r", "+", "  \t"])
        harmful = rng.random() < 0.8
        if harmful:
            command = rng.choice(self._commands())
            form = rng.randrange(5)
            if form <= 1:
                block = [lead + rng.choice(["*#", "*# ", "*#\t"]) + command]
            elif form == 2:
                block = [lead + "pre_" + command]
            elif form == 3:
                block = [
                    lead + rng.choice([".control", ".CONTROL_x", ".endc"]),
                    command,
                ]
            else:
                block = [lead + "*ng_script"]
        else:  # near misses ngspice reads as comments: must not be refused for it
            block = [rng.choice(["* #1 stage", "** # note", "*  # x", "* shell"])]
        where = rng.randrange(len(lines) + 1)
        if target == "models.lib" and rng.random() < 0.5:  # an unused section
            ff = next(i for i, line in enumerate(lines) if line.startswith(".lib ff"))
            where = ff + 1
        lines[where:where] = "\n".join(block).split("\n")
        path.write_text("\n".join(lines) + "\n")
        self._load("star_hash", folder, must_refuse=harmful)

    # -- include names and lookups --------------------------------------------
    def includes(self) -> None:
        rng = self.rng
        folder = self._fresh()
        sub = folder / "sub"
        evil = f"* evil\n*#echo x > {self.canary}\n"
        evil += f".control\nshell touch {self.canary}\n.endc\n"
        good = "* good\nCY out 0 1f\n"
        names = [
            "\u00e9.inc",
            "\u00fc\u00df.inc",
            "\u65e5\u672c.inc",
            "../x.inc",
            "../../x.inc",
            "../../../x.inc",
            "./y.inc",
            "~/x.inc",
            '"q.inc"',
            "sp ace.inc",
            "link.inc",
            "dir.inc",
            "missing.inc",
            "/dev/zero",
        ]
        name = rng.choice(names)
        plain = name.strip('"')
        kind = rng.randrange(3)
        if (
            name.startswith("\u00e9")
            or name.startswith("\u00fc")
            or name[0] == "\u65e5"
        ):
            decoy = plain.encode("utf-8").decode("latin-1")
            (sub / plain).write_text(evil if kind else good)
            (sub / decoy).write_text(good)  # what a latin-1 reading would check
        elif plain.startswith(".."):
            (sub / plain).parent.mkdir(parents=True, exist_ok=True)
            (sub / plain).write_text(evil if kind == 0 else good)
        elif plain == "link.inc":
            (folder / "target.inc").write_text(evil if kind else good)
            (sub / "link.inc").symlink_to(folder / "target.inc")
        elif plain == "dir.inc":
            (sub / "dir.inc").mkdir()
        elif plain not in ("missing.inc", "/dev/zero", "~/x.inc"):
            (sub / plain).write_text(evil if kind else good)
        (sub / "extra.inc").write_text(f"* extra\n.include {name}\n")
        # Where the simulator's ngspice would look first: a private folder
        # two levels below a shared one, with planted files around it.
        fake_shared = self.root / "fake_tmp"
        fake_cwd = fake_shared / "jaxsizer-worker-x" / "cwd"
        fake_cwd.mkdir(parents=True, exist_ok=True)
        planted = rng.random() < 0.5
        for candidate in (
            fake_cwd / plain,
            fake_cwd / "../x.inc",
            fake_shared / "x.inc",
        ):
            if planted and not candidate.name.startswith("."):
                try:
                    candidate.resolve().parent.mkdir(parents=True, exist_ok=True)
                    candidate.resolve().write_text(evil)
                except OSError:
                    pass
            else:
                for path in (candidate.resolve(),):
                    if path.is_file():
                        path.unlink()
        text = (sub / "extra.inc").read_text()
        try:
            deck = expand_deck(
                text, str(sub / "extra.inc"), sub, search_dirs=(fake_cwd,)
            )
            for included in deck.files:
                if "*#" in included.path.read_text(errors="replace"):
                    self.tracebacks.append(f"includes: evil file accepted: {included}")
        except UserInputError as error:
            self._refusal("includes", error)
        except Exception as error:  # noqa: BLE001
            self._unexpected("includes", error)
        else:
            self.counts["includes"]["accepted"] += 1
        # The same circuit through the loader (and a sample through ngspice,
        # whose workers have planted files in their shared temp folder).
        self._load("includes_circuit", folder, must_refuse=False)

    # -- YAML aliases ------------------------------------------------------------------
    def yaml_aliases(self) -> None:
        rng = self.rng
        fan, depth = rng.randint(1, 12), rng.randint(1, 9)
        lines = ['a0: &a0 "x"']
        for level in range(1, depth + 1):
            items = ", ".join([f"*a{level - 1}"] * fan)
            lines.append(f"a{level}: &a{level} [{items}]")
        shape = rng.randrange(4)
        if shape == 1:
            lines.append("cyc: &c [*c]")
        elif shape == 2:
            lines.append("m: &m {k: 1}\nn:\n  <<: *m\n  j: 2")
        elif shape == 3:
            lines.append("u: *undefined")
        block = "\n".join(lines) + "\n"
        expanded = sum(fan**k for k in range(depth + 1))
        too_big = expanded > MAX_YAML_NODES
        where = rng.choice(["circuit", "tech", "text", "realistic"])
        try:
            if where == "text":
                load_yaml(block + f"description: *a{depth}\n")
            else:
                folder = self._fresh()
                name = "tech.yaml" if where == "tech" else "circuit.yaml"
                path = folder / name
                text = path.read_text()
                if where == "realistic":  # aliases as a user writes them
                    block = ""
                    text = text.replace("  Wp0: {", "  Wp0: &w {", 1)
                    text = re.sub(r"(?m)^  Wp1: \{.*$", "  Wp1: *w", text)
                    text = text.replace("  Wn0: {", "  Wn0: &n {", 1)
                    text = re.sub(r"(?m)^  Wn1: \{.*$", "  Wn1: {<<: *n}", text)
                path.write_text(block + text)
                tech = load_technology_file(folder / "tech.yaml")
                load_circuit(folder, tech)
        except (UserInputError, yaml.YAMLError) as error:
            self._refusal("yaml_aliases", UserInputError(" ".join(str(error).split())))
            return
        except Exception as error:  # noqa: BLE001
            self._unexpected("yaml_aliases", error)
            return
        self.counts["yaml_aliases"]["accepted"] += 1
        if where != "realistic" and (too_big or shape in (1, 3)):
            self.tracebacks.append(
                f"yaml_aliases: accepted {fan}^{depth}, shape {shape}"
            )

    # -- run directories ---------------------------------------------------------------
    def _run_base(self) -> Path:
        base = self.root / "run_base"
        if base.exists():
            return base
        run = RunDir(base)
        config = {
            "problem": {"circuit": "op1", "tech": "generic", "corner": None},
            "backend": {},
            "run": str(base),
            "seed": 0,
            "sim_budget": 100,
            "ppo": {"gamma": 0.99},
        }
        run.write_config(config)
        for i in range(20):
            run.add_verified(
                {"round": 0, "purpose": "initial", "params": {"a": i}, "status": "ok"}
            )
        run._append("metrics.jsonl", {"step": 1, "held_out_success": 0.5})
        run.save_checkpoint({"format": 2, "round": 1, "best": 0.5, "curve": "[]"})
        (base / "surrogate").mkdir()
        (base / "surrogate" / "surrogate.json").write_text(json.dumps({"mean": [1]}))
        np.savez(base / "surrogate" / "weights.npz", w=np.arange(64.0))
        fill_store(base / "simulations.sqlite", 30)
        return base

    def run_dir(self) -> None:
        rng = self.rng
        base = self._run_base()
        run = self.root / "run"
        if run.exists():
            shutil.rmtree(run)
        shutil.copytree(base, run)
        files = [
            "config.json",
            "verified.jsonl",
            "metrics.jsonl",
            "checkpoint.msgpack",
            "surrogate/surrogate.json",
            "surrogate/weights.npz",
            "simulations.sqlite",
        ]
        for _ in range(rng.choice([1, 1, 2, 3])):
            path = run / rng.choice(files)
            if path.is_dir():  # a folder put there by an earlier mutation
                continue
            data = bytearray(path.read_bytes()) if path.is_file() else bytearray()
            op = rng.randrange(7)
            if op == 0 and data:  # flip bytes
                for _ in range(rng.randint(1, 20)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            elif op == 1:  # truncate
                data = data[: rng.randrange(len(data) + 1)]
            elif op == 2:  # a non-UTF-8 byte
                data[rng.randrange(len(data) + 1) : 0] = b"\xff\xc3"
            elif op == 3 and path.suffix == ".json":  # a wrong JSON type
                try:
                    value = json.loads(data)
                    key = rng.choice(sorted(value)) if isinstance(value, dict) else None
                    if key is not None:
                        value[key] = rng.choice(
                            [5, "x", None, [1], {"a": 1}, -1, 1e308]
                        )
                    data = bytearray(json.dumps(value).encode())
                except ValueError:
                    pass
            elif op == 4:  # deleted
                path.unlink(missing_ok=True)
                continue
            elif op == 5:  # a folder in its place
                path.unlink(missing_ok=True)
                path.mkdir()
                continue
            else:  # lines duplicated, torn, mixed
                lines = bytes(data).split(b"\n")
                rng.shuffle(lines)
                data = bytearray(b"\n".join(lines[: rng.randint(0, len(lines))]))
            path.write_bytes(bytes(data))
        try:
            directory = RunDir.existing(run)
            from train.config import config_from_dict

            config = config_from_dict(directory.read_config())
            config.options  # noqa: B018 - builds the problem options
            directory.verified()
            directory.last_metrics()
            directory.load_checkpoint()
            with SimulationStore(run / "simulations.sqlite") as store:
                store.count()
                store.query(circuit="op1")
        except UserInputError as error:
            self._refusal("run_dir", error)
            return
        except Exception as error:  # noqa: BLE001
            self._unexpected("run_dir", error)
            return
        self.counts["run_dir"]["accepted"] += 1

    # -- concurrent writers ------------------------------------------------------------
    def concurrent(self) -> None:
        rng = self.rng
        run = self.root / "race"
        run.mkdir(exist_ok=True)
        log = run / "events.log"
        log.write_text("")
        children = []
        start = time.time() + 0.3  # every child tries at about the same moment
        for _ in range(rng.randint(2, 5)):
            hold = 0.05 + rng.random() * 0.1
            pid = os.fork()
            if pid == 0:  # a would-be second --resume
                code = 1
                try:
                    directory = RunDir(run)
                    time.sleep(max(0.0, start - time.time()))
                    directory.lock()
                    with log.open("a") as handle:
                        handle.write(f"start {os.getpid()}\n")
                    time.sleep(hold)
                    with log.open("a") as handle:
                        handle.write(f"end {os.getpid()}\n")
                    directory.unlock()
                    code = 0
                except UserInputError as error:
                    code = 3 if "being written by pid" in str(error) else 1
                finally:
                    os._exit(code)
            children.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        events = log.read_text().split()
        pairs = list(zip(events[0::2], events[1::2], strict=False))
        ok = all(codes_ok in (0, 3) for codes_ok in codes) and 0 in codes
        nested = all(
            events[i] == "start"
            and events[i + 2] == "end"
            and events[i + 1] == events[i + 3]
            for i in range(0, len(events), 4)
        )
        if not ok or not nested or not pairs:
            self.tracebacks.append(f"concurrent: codes {codes}, events {events}")
            self.counts["concurrent"]["traceback"] += 1
            return
        self.counts["concurrent"]["refused"] += codes.count(3)
        self.counts["concurrent"]["accepted"] += codes.count(0)

    def run(self, n: int) -> dict:
        plan = [
            k for k, share in SHARE.items() for _ in range(max(1, round(n * share)))
        ]
        self.rng.shuffle(plan)
        for kind in plan:
            getattr(self, kind)()
        return {
            "mutations": len(plan),
            "per_class": {k: plan.count(k) for k in SHARE},
            "outcomes": {k: dict(v) for k, v in self.counts.items()},
            "simulated": self.simulated,
            "canary": self.canary.exists(),
            "tracebacks": self.tracebacks,
        }


def fuzz(n: int, root: Path, seed: int = 24, workers: int = 2) -> dict:
    """Run ``n`` mutations in ``root``; workers whose shared temp folder
    holds planted command files simulate a sample of the accepted circuits."""
    shared = root / "shared_tmp"
    shared.mkdir(parents=True, exist_ok=True)
    canary_note = shared / "x.inc"
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(shared)
    try:
        with SimulationPool(workers, timeout=60) as pool:
            run = Fuzz(root, seed, pool)
            canary_note.write_text(f"*#echo x > {run.canary}\n")
            report = run.run(n)
        if not report["canary"]:
            shutil.rmtree(run.canary_dir, ignore_errors=True)
        return report
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved


def _check(report: dict) -> None:
    assert not report["tracebacks"], report["tracebacks"][:5]
    assert not report["canary"]
    for kind in SHARE:
        seen = report["outcomes"][kind]
        assert sum(seen.values()) >= 1, (kind, report)


def test_fuzz_quick(tmp_path):
    report = fuzz(int(os.environ.get("JAXSIZER_FUZZ_QUICK", QUICK)), tmp_path)
    _check(report)
    assert report["simulated"] >= 1


@pytest.mark.slow
def test_fuzz_full(tmp_path):
    n = int(os.environ.get("JAXSIZER_FUZZ_N", FULL))
    report = fuzz(n, tmp_path)
    print(json.dumps({k: v for k, v in report.items() if k != "tracebacks"}))
    _check(report)
    assert report["mutations"] >= min(n, 2000)
