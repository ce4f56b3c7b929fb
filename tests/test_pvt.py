"""Declared PVT conditions (sim.pvt): parsing, supply scaling, worst cases and
conditional verification, on real ngspice (a user common-source amplifier on
PTM 45 nm and the generic op2, both fast)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sim.errors import UserInputError
from sim.format.circuit import load_circuit
from sim.format.pvt_conditions import (
    Condition,
    Declaration,
    parse_declaration,
    resolve,
    worst_case,
)
from sim.format.technology import load_technology
from sim.pvt.verify import ConditionalVerifier
from sim.sizing.problem import spec_circuit
from sim.sizing.session import ProblemOptions, open_session
from sim.sizing.simulator import Simulator
from tests.conftest import REPO


# -- declarations -------------------------------------------------------------
def test_named_declarations_resolve_per_technology(ptm45_tech):
    generic = load_technology("generic")  # five library sections: corners
    signoff = resolve(parse_declaration("signoff"), generic)
    assert len(signoff) == 5 * 3 * 3
    assert signoff.conditions[0] == signoff.nominal == Condition("tt", 27.0, 1.0)
    assert {c.corner for c in signoff} == {"tt", "ss", "ff", "sf", "fs"}
    assert {c.supply for c in signoff} == {0.9, 1.0, 1.1}
    one_corner = load_technology(ptm45_tech)  # models only: no corners
    signoff = resolve(parse_declaration("signoff"), one_corner)
    assert len(signoff) == 3 * 3 and {c.corner for c in signoff} == {"tt"}
    nominal = resolve(parse_declaration("nominal"), generic, "ss", 85.0)
    assert nominal.single and nominal.conditions == (Condition("ss", 85.0, 1.0),)
    assert resolve(None, generic).single


def test_flag_text_and_yaml_mapping_agree():
    text = parse_declaration("corners=tt,ss temperatures=-40,125 supply=0.9,1.1")
    mapping = parse_declaration(
        {"corners": ["tt", "ss"], "temperatures": [-40, 125], "supply": [0.9, 1.1]}
    )
    assert text == mapping
    assert parse_declaration(text.to_text()) == text
    partial = resolve(
        parse_declaration({"supply": [0.9, 1.0]}), load_technology("generic")
    )
    assert partial.conditions == (
        Condition("tt", 27.0, 1.0),
        Condition("tt", 27.0, 0.9),
    )
    every = resolve(Declaration(corners=("all",)), load_technology("generic"))
    assert len(every) == 5


@pytest.mark.parametrize(
    "value",
    [
        "sometimes",
        "supply=0.9,x",
        "supply=0",
        "temperatures=-300",
        "corners=tt corners=ss",
        {"voltage": [1.0]},
        {"corners": []},
        ["tt"],
    ],
)
def test_bad_declarations_are_refused(value):
    with pytest.raises(UserInputError):
        parse_declaration(value)


def test_unknown_corner_is_refused():
    with pytest.raises(UserInputError, match="no corner 'zz'"):
        resolve(parse_declaration("corners=zz"), load_technology("generic"))


def test_circuit_yaml_declares_pvt(cs_amp, ptm45_tech, tmp_path):
    text = cs_amp.read_text()
    cs_amp.write_text(text + "pvt: {temperatures: [-40, 27, 125]}\n")
    circuit = load_circuit(cs_amp, load_technology(ptm45_tech))
    assert circuit.pvt == Declaration(temperatures=(-40.0, 27.0, 125.0))
    session = open_session(ProblemOptions(str(cs_amp), str(ptm45_tech)))
    assert len(session.conditions) == 3  # the YAML's
    flagged = open_session(ProblemOptions(str(cs_amp), str(ptm45_tech), pvt="signoff"))
    assert len(flagged.conditions) == 9  # the flag wins
    cs_amp.write_text(text + "pvt: {supply: [5.0]}\n")
    with pytest.raises(UserInputError, match="circuit .*supply"):
        load_circuit(cs_amp, load_technology(ptm45_tech))


def test_bad_pvt_flag_is_one_line_and_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "sim", "corners", "--tech", "generic", "--pvt", "x=1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "pvt" in result.stderr


# -- worst case ---------------------------------------------------------------
def test_worst_case_follows_each_specs_direction():
    figures = np.array([[40.0, 1e-4], [35.0, 2e-4], [45.0, 0.5e-4]])
    worst, index = worst_case(figures, [True, False])  # gain >=, power <=
    assert worst.tolist() == [35.0, 2e-4] and index.tolist() == [1, 1]
    figures[2, 0] = np.nan  # a missing figure is the worst of all
    worst, index = worst_case(figures, [True, False])
    assert np.isnan(worst[0]) and index[0] == 2


# -- supply -------------------------------------------------------------------
def test_supply_scale_changes_the_simulated_supply_current(pool, store):
    generic = load_technology("generic")
    circuit = load_circuit("op2", generic).restricted(["i_supply", "power"])
    results = {}
    for scale in (0.9, 1.0, 1.1):
        tech = generic.with_supply(scale)
        assert tech.vdd == pytest.approx(1.2 * scale)
        simulator = Simulator(circuit, tech, backend=pool, store=store)
        assert f".param VDD={1.2 * scale:g}" in simulator.deck("open_loop")
        results[scale] = simulator.simulate_one()
        assert results[scale].ok, results[scale].message
    current = [results[s].performance["i_supply"] for s in (0.9, 1.0, 1.1)]
    assert current[0] < current[1] < current[2]  # more headroom, more current
    power = results[0.9].performance["power"]
    assert power == pytest.approx(1.2 * 0.9 * current[0], rel=1e-9)
    rows = {row.technology for row in store.query()}
    assert rows == {"generic", "generic@0.9vdd", "generic@1.1vdd"}
    assert generic.with_supply(1.0) is generic


# -- conditional verification -------------------------------------------------
@pytest.fixture
def amp(cs_amp, ptm45_tech, store, pool):
    """A verifier of the common-source amplifier over 3 temperatures x 2
    supplies, and every condition's figures of its default design."""
    tech = load_technology(ptm45_tech)
    circuit = spec_circuit(load_circuit(cs_amp, tech))
    declaration = parse_declaration("temperatures=27,-40,125 supply=1.0,0.9")
    conditions = resolve(declaration, tech)

    def verifier():
        return ConditionalVerifier(
            circuit, tech, conditions, circuit.box, backend=pool, store=store
        )

    full = verifier().verify([{}], circuit.box.easy, stop_on_fail=False)[0]
    assert full.complete and len(full.evaluations) == len(conditions) == 6
    return verifier, full


def test_verification_stops_at_the_first_failure(amp):
    verifier, full = amp
    gains = full.figures[:, 0]
    assert np.ptp(gains) > 0.1  # the conditions differ
    nominal = gains[0]
    worst = int(np.argmin(gains))
    assert worst != 0
    # a target the nominal meets and some other condition misses
    target = np.array([(nominal + gains[worst]) / 2])
    fresh = verifier()
    [verdict] = fresh.verify([{}], target)
    assert not verdict.met and verdict.failed_at is not None
    assert verdict.simulated[0]  # the nominal first
    assert gains[verdict.failed_at] < target[0]
    # it stopped there: only the conditions up to the failure were simulated
    assert verdict.sims == int(verdict.simulated.sum()) == fresh.sims
    assert fresh.sims < len(fresh.conditions)
    assert fresh.failures[verdict.failed_at, 0] == 1
    # a target every condition meets: all six simulated, met
    [easy] = verifier().verify([{}], np.array([gains.min() - 1.0]))
    assert easy.met and easy.complete and easy.sims == 6
    # the worst case is the lowest gain, from the condition that gave it
    value, index = easy.worst()
    assert value[0] == gains.min() and index[0] == int(np.argmin(gains))


def test_the_condition_that_failed_before_goes_right_after_the_nominal(amp):
    verifier, full = amp
    gains = full.figures[:, 0]
    worst = int(np.argmin(gains))
    others = np.delete(gains, worst)
    assert worst != 0 and gains[worst] < others.min()
    target = np.array([(gains[worst] + others.min()) / 2])  # only it misses
    first = verifier()
    prior = first.order()  # nothing failed yet: nominal, then the extremes
    [verdict] = first.verify([{}], target)
    assert verdict.failed_at == worst
    assert verdict.sims == prior.index(worst) + 1
    learned = verifier()
    learned.failures[:] = first.failures  # what the first verification saw
    assert learned.order()[:2] == [0, worst]
    [again] = learned.verify([{}], target)
    assert again.failed_at == worst and again.sims == 2  # nominal, then it
    assert learned.from_store == 2  # both served by the store, still counted


def test_many_designs_go_through_each_condition_in_one_batch(amp, cs_amp):
    verifier, _ = amp
    from sim.sizing.sampling import random_designs

    v = verifier()
    designs = random_designs(v.circuit, 6, 0)
    verdicts = v.verify(designs, v.box.easy)
    assert v.sims == sum(d.sims for d in verdicts)
    assert v.sims_per_condition[0] == 6  # all six at the nominal
    passed_nominal = sum(1 for d in verdicts if d.simulated[0] and d.failed_at != 0)
    assert v.sims_per_condition[1:].max() <= passed_nominal


# -- nothing declared: the single-condition path as before ------------------------
def test_without_pvt_the_nominal_path_is_unchanged(store, pool):
    options = ProblemOptions("op2", "generic")
    assert "pvt" not in options.to_json()
    session = open_session(options, store=store, backend=pool)
    conditions = session.conditions
    assert conditions.single
    verifier = ConditionalVerifier.for_session(session)
    assert verifier.simulator(conditions.nominal) is session.simulator
    plain = Simulator(session.simulator.circuit, "generic", backend=pool, store=store)
    design = session.simulator.circuit.default_design()
    assert plain.key(design) == session.simulator.key(design)
    [verdict] = verifier.verify([design], session.problem.box.easy)
    again = plain.simulate_one(design)
    assert again.cached  # the verifier wrote the key a plain run reads
    assert verdict.evaluations[0].performance == again.performance
    assert [r.key for r in store.query()] == [plain.key(design)]


# -- the exported testbench of a condition ------------------------------------
def test_exported_testbench_of_a_condition_prints_its_figures(tmp_path, pool, store):
    from sim.commands.export import export_conditions, printed_figures

    generic = load_technology("generic")
    circuit = load_circuit("op2", generic).restricted(["a_0", "ugbw", "power"])
    condition = Condition("ss", 125.0, 0.9)
    [written] = export_conditions(
        circuit, generic, circuit.default_design(), tmp_path, [condition]
    ).values()
    deck = written.testbenches[0]
    assert deck.parent.name == condition.slug
    text = deck.read_text()
    assert "generic.lib ss" in text and ".temp 125" in text
    assert f".param VDD={1.2 * 0.9:g}" in text
    run = subprocess.run(
        ["ngspice", "-b", deck.name],
        cwd=deck.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    printed = printed_figures(run.stdout, written.printed)
    simulator = Simulator(
        circuit, generic.with_supply(0.9), "ss", 125.0, backend=pool, store=store
    )
    expected = simulator.simulate_one().performance
    nominal = Simulator(circuit, generic, backend=pool, store=store).simulate_one()
    assert set(printed) == {"a_0", "ugbw", "power"}
    for name, value in printed.items():
        assert value == pytest.approx(expected[name], rel=1e-6)
    assert printed["power"] != pytest.approx(nominal.performance["power"], rel=1e-3)


# -- sizing over conditions (train.pvt_sizing) ---------------------------------
def test_tighten_moves_each_target_by_the_margin_asked():
    from train.pvt_sizing import tighten

    box = load_circuit("op2", load_technology("generic")).box
    targets = np.stack([box.easy, box.hard])
    targets[1, 2] = np.nan  # no requirement stays none
    aims = tighten(box, targets, np.full(4, 0.25))
    assert np.isnan(aims[1, 2])
    asked = np.isfinite(targets)
    # a design exactly at the aim meets the original target by 0.25
    margins = box.margin(aims, targets)
    assert np.allclose(margins[asked], 0.25)
    assert np.all(aims[0, box.lower] > targets[0, box.lower])  # harder both ways
    assert np.all(aims[0, ~box.lower] < targets[0, ~box.lower])


class _ClosestSizer:
    """A stand-in for the run's sizer: of fixed candidate designs (their
    nominal figures simulated), the one meeting the aim with the least slack,
    one simulation each (the over-tight choice a nominal sizer makes)."""

    def __init__(self, verifier, designs):
        self.designs = designs
        self.box = verifier.box
        self.figures = np.stack(
            [verifier.spec_figures(e) for e in verifier.evaluate(designs, 0)]
        )

    def size(self, aims, max_sims):
        from train.sizer import SizingResult

        out = []
        for aim in aims:
            margins = self.box.margin(self.figures, aim).min(axis=1)
            ok = np.flatnonzero(margins >= 0)
            if not len(ok):
                out.append(SizingResult(aim, False, 1, {}, {}, margins, "search", aim))
                continue
            j = ok[np.argmin(margins[ok])]
            figures = self.figures[j]
            out.append(
                SizingResult(
                    aim, True, 1, self.designs[j], {}, margins, "search", figures
                )
            )
        return out


def test_derating_learned_from_a_failure_meets_every_condition(amp):
    from sim.sizing.sampling import random_designs
    from train.pvt_sizing import PvtSizer

    verifier, full = amp
    v = verifier()
    designs = random_designs(v.circuit, 40, 3)
    sizer = _ClosestSizer(v, designs)
    gains = sizer.figures[:, 0]
    target = np.array([[np.nanpercentile(gains, 40)]])
    nominal_only = PvtSizer(sizer, v, attempts=1).size(target, 5)[0]
    assert nominal_only.result.met and not nominal_only.met  # lost at a corner
    derated = PvtSizer(sizer, verifier()).size(target, 5)[0]
    assert derated.met and derated.verdict.complete
    assert derated.attempts > 1 and derated.derate[0] > 0
    worst, _ = derated.verdict.worst()
    assert worst[0] >= target[0, 0]
    # every condition of every returned design: more condition sims
    naive = PvtSizer(sizer, verifier(), conditional=False).size(target, 5)[0]
    assert naive.met
    assert naive.condition_sims > derated.condition_sims


# -- the all-condition ceiling (sim specs --pvt) --------------------------------
def test_all_condition_ceiling_is_verified_and_below_the_nominal(amp):
    from sim.pvt.ceiling import pvt_ceiling
    from sim.search.archive import SpiceEvaluator

    verifier, _ = amp
    v = verifier()
    nominal = v.simulator(v.conditions.nominal)
    evaluator = SpiceEvaluator(nominal, v.box)
    evaluator.evaluate(np.random.default_rng(0).random((30, len(v.circuit.parameters))))
    gains = evaluator.archive.figures[:, 0]
    targets = np.linspace(np.nanmin(gains), np.nanmax(gains), 12)[:, None]
    ceiling = pvt_ceiling(v, evaluator.archive, targets, progress=False)
    assert np.all(ceiling.met <= ceiling.met_nominal)
    assert 0 < ceiling.met.sum() < ceiling.met_nominal.sum()  # corners cost some
    assert ceiling.sims == v.sims <= ceiling.full_sims
    check = verifier()  # every met target: its design at every condition
    for t in np.flatnonzero(ceiling.met):
        design = evaluator.archive.params(int(ceiling.rows[t]))
        [verdict] = check.verify([design], targets[t], stop_on_fail=False)
        assert verdict.met
