"""``python -m sim`` as a user runs it: exit codes, stdout, one-line errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, write_circuit


def run_cli(
    *args: str, store: Path, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run ``python -m sim *args`` with its own store; capture everything."""
    env = {
        **os.environ,
        "JAXSIZER_STORE": str(store),
        "PYTHONPATH": os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO,
        timeout=300,
    )


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> str:
    """Exit code 2, one line on stderr naming the problem, no traceback."""
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    return lines[0]


@pytest.fixture
def store_file(tmp_path) -> Path:
    return tmp_path / "cli-store.sqlite"


GENERIC_OP2 = ("run", "--circuit", "op2", "--tech", "generic")


# -- run ------------------------------------------------------------------------
def test_run_prints_performance_table(store_file):
    result = run_cli(*GENERIC_OP2, store=store_file)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "op2 performance (ok)" in result.stdout
    for figure in ("a_0", "ugbw", "pm", "power"):
        assert f" {figure} " in result.stdout
    assert "operating point" in result.stdout and "MND11" in result.stdout


def test_run_json_then_served_from_store_then_forced(store_file):
    first = run_cli(*GENERIC_OP2, "--json", "-", store=store_file)
    assert first.returncode == 0, first.stderr
    [entry] = json.loads(first.stdout)
    assert entry["status"] == "ok" and entry["stored"] is False
    assert entry["performance"]["a_0"] > 20
    assert entry["params"]["Mcm12"] == 4  # the default design

    second = run_cli(*GENERIC_OP2, "--json", "-", store=store_file)
    [again] = json.loads(second.stdout)
    assert again["stored"] is True
    assert again["performance"] == entry["performance"]

    forced = run_cli(*GENERIC_OP2, "--json", "-", "--force", store=store_file)
    [fresh] = json.loads(forced.stdout)
    assert fresh["stored"] is False and fresh["status"] == "ok"
    assert fresh["performance"]["a_0"] == pytest.approx(entry["performance"]["a_0"])


def test_run_random_json(store_file):
    result = run_cli(*GENERIC_OP2, "--n", "3", "--json", "-", store=store_file)
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert len(entries) == 3
    assert len({json.dumps(e["params"], sort_keys=True) for e in entries}) == 3
    for entry in entries:
        assert entry["status"] in ("ok", "nonconvergence", "measurement_missing")
        assert set(entry["params"]) >= {"Wdp1", "Ldp1", "Mcm22"}


def test_run_sky130(store_file):
    result = run_cli(
        "run",
        "--circuit",
        "op2",
        "--tech",
        "sky130",
        "--params",
        '{"Wdp1": 1e-5}',
        "--json",
        "-",
        store=store_file,
    )
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(result.stdout)
    assert entry["status"] == "ok", entry["message"]
    assert entry["params"]["Wdp1"] == 1e-5
    assert entry["performance"]["a_0"] > 20
    assert 0 < entry["performance"]["v_out"] < 1.8


# -- bad input: exit 2, one line, no traceback ----------------------------------
def _user_files(directory: Path) -> dict[str, Path]:
    """Technology and circuit files, each broken in one way."""
    lib = REPO / "sim" / "technologies" / "generic.lib"
    good_tech = textwrap.dedent(f"""\
        name: mine
        vdd: 1.2
        models: [{{file: {lib}, section: tt}}]
        nmos: nmos
        pmos: pmos
        limits: {{w: [0.2e-6, 200e-6], l: [0.13e-6, 10e-6]}}
        """)
    files = {
        "missing_model": good_tech.replace(str(lib), str(directory / "gone.lib")),
        "tech_not_yaml": "name: [unclosed\nvdd: 1.2\n",
        "tech_no_nmos": good_tech.replace("nmos: nmos\n", ""),
        "tech_bad_vdd": good_tech.replace("vdd: 1.2", "vdd: -1.2"),
    }
    out = {}
    for name, text in files.items():
        out[name] = directory / f"{name}.yaml"
        out[name].write_text(text)
    out["good_tech"] = directory / "good_tech.yaml"
    out["good_tech"].write_text(good_tech)
    out["circuit_not_yaml"] = directory / "broken" / "circuit.yaml"
    out["circuit_not_yaml"].parent.mkdir()
    out["circuit_not_yaml"].write_text("netlist: [oops\n  parameters: {\n")
    out["circuit_no_measures"] = _divider(
        directory / "no_measures", measures=None, name="no_measures"
    )
    out["circuit_bad_measure"] = _divider(
        directory / "bad_measure",
        measures="va: {measure: fourier_magic, analysis: tb.op, node: v(a)}",
    )
    return out


def _divider(
    directory: Path,
    analysis: str = "op",
    name: str = "divider",
    measures: str | None = "va: {measure: node_voltage, analysis: tb.op, node: v(a)}",
) -> Path:
    """A resistive divider as a user circuit (YAML fields overridable)."""
    yaml_text = (
        f"name: {json.dumps(name)}\n"
        "netlist: dut.sp\n"
        "parameters:\n"
        "  R: {bounds: [100, 1.0e+4], default: 1000}\n"
        "testbenches:\n"
        f"  tb: {{netlist: tb.sp, analyses: {{op: {json.dumps(analysis)}}}}}\n"
    )
    if measures is not None:
        yaml_text += f"measures:\n  {measures}\n"
    return write_circuit(
        directory, "R1 in a {R}\nR2 a 0 1k\n", "V1 in 0 1\n", yaml_text
    )


BAD_INPUT: dict[str, tuple[Callable[[dict[str, Path]], list[str]], tuple]] = {
    "unknown circuit": (
        lambda f: ["run", "--circuit", "op99", "--tech", "generic"],
        ("unknown circuit", "op99"),
    ),
    "unknown technology": (
        lambda f: ["run", "--circuit", "op2", "--tech", "tsmc7"],
        ("unknown technology", "tsmc7"),
    ),
    "out of bounds": (
        lambda f: [*GENERIC_OP2, "--params", '{"Wdp1": 1.0}'],
        ("Wdp1", "out of bounds"),
    ),
    "not a number": (
        lambda f: [*GENERIC_OP2, "--params", '{"Wdp1": "abc"}'],
        ("Wdp1", "must be a number"),
    ),
    "numeric text": (
        lambda f: [*GENERIC_OP2, "--params", '{"Wdp1": "1e-5"}'],
        ("Wdp1", "must be a number"),
    ),
    "boolean": (
        lambda f: [*GENERIC_OP2, "--params", '{"Mcm11": true}'],
        ("Mcm11", "must be a number"),
    ),
    "NaN": (
        lambda f: [*GENERIC_OP2, "--params", '{"Wdp1": NaN}'],
        ("Wdp1", "finite"),
    ),
    "not an integer": (
        lambda f: [*GENERIC_OP2, "--params", '{"Mcm11": 1.5}'],
        ("Mcm11", "integer"),
    ),
    "unknown parameter": (
        lambda f: [*GENERIC_OP2, "--params", '{"Wbogus": 1e-6}'],
        ("no parameter", "Wbogus"),
    ),
    "malformed JSON": (
        lambda f: [*GENERIC_OP2, "--params", '{"Wdp1": 1e-5'],
        ("--params", "JSON"),
    ),
    "JSON not an object": (
        lambda f: [*GENERIC_OP2, "--params", "[1e-5]"],
        ("--params", "object"),
    ),
    "params file missing": (
        lambda f: [*GENERIC_OP2, "--params", "no-such-file.json"],
        ("--params", "no-such-file.json"),
    ),
    "missing model file": (
        lambda f: ["run", "--circuit", "op2", "--tech", str(f["missing_model"])],
        ("model file not found", "gone.lib"),
    ),
    "technology not YAML": (
        lambda f: ["run", "--circuit", "op2", "--tech", str(f["tech_not_yaml"])],
        ("not valid YAML",),
    ),
    "technology missing key": (
        lambda f: ["run", "--circuit", "op2", "--tech", str(f["tech_no_nmos"])],
        ("missing required key", "nmos"),
    ),
    "technology negative vdd": (
        lambda f: ["run", "--circuit", "op2", "--tech", str(f["tech_bad_vdd"])],
        ("vdd", "positive"),
    ),
    "circuit not YAML": (
        lambda f: [
            "run",
            "--circuit",
            str(f["circuit_not_yaml"]),
            "--tech",
            "generic",
        ],
        ("not valid YAML",),
    ),
    "circuit missing key": (
        lambda f: [
            "run",
            "--circuit",
            str(f["circuit_no_measures"]),
            "--tech",
            "generic",
        ],
        ("missing required key", "measures"),
    ),
    "circuit unknown measure": (
        lambda f: [
            "run",
            "--circuit",
            str(f["circuit_bad_measure"]),
            "--tech",
            "generic",
        ],
        ("unknown function", "fourier_magic"),
    ),
    "unknown corner": (
        lambda f: [*GENERIC_OP2, "--corner", "xx"],
        ("no corner", "xx"),
    ),
    "unknown corner of a user technology": (
        lambda f: [
            "run",
            "--circuit",
            "op2",
            "--tech",
            str(f["good_tech"]),
            "--corner",
            "ss",
        ],
        ("no corner", "ss"),
    ),
    "random 0": (lambda f: [*GENERIC_OP2, "--n", "0"], ("--n",)),
    "negative seed": (
        lambda f: [*GENERIC_OP2, "--n", "2", "--seed", "-1"],
        ("--seed",),
    ),
    "NaN temperature": (
        lambda f: [*GENERIC_OP2, "--temperature", "nan"],
        ("--temperature",),
    ),
    "zero workers": (lambda f: [*GENERIC_OP2, "--workers", "0"], ("--workers",)),
    "explore n 0": (
        lambda f: ["explore", "--circuit", "op2", "--tech", "generic", "--n", "0"],
        ("--n",),
    ),
    "store not a database": (
        lambda f: [*GENERIC_OP2, "--store", str(f["tech_not_yaml"])],
        ("store",),
    ),
    "unknown subcommand": (lambda f: ["simulate"], ("invalid choice", "simulate")),
    "unknown flag": (
        lambda f: [*GENERIC_OP2, "--turbo"],
        ("unrecognized arguments", "--turbo"),
    ),
    "no subcommand": (lambda f: [], ("required",)),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, store_file):
    build, words = BAD_INPUT[case]
    result = run_cli(*build(_user_files(tmp_path)), store=store_file)
    assert_refused(result, *words)
    assert result.stdout == ""


# -- injection: text must never reach ngspice -------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "1u\n.control\nshell touch {marker}\n.endc",
        "{{1}}; shell touch {marker}",
        "5u; shell touch {marker}",
    ],
)
def test_parameter_text_is_refused(value, tmp_path, store_file):
    marker = tmp_path / "pwned"
    params = json.dumps({"Wdp1": value.format(marker=marker)})
    result = run_cli(*GENERIC_OP2, "--params", params, store=store_file)
    assert_refused(result, "Wdp1", "must be a number")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("analysis", "shell touch pwned"),
        ("analysis", "op; shell touch pwned"),
        ("analysis", "op\nshell touch pwned"),
        ("analysis", "op\n.endc\n.control\nshell touch pwned"),
        ("name", "divider\n.control\nshell touch pwned\n.endc"),
    ],
)
def test_circuit_yaml_cannot_run_commands(field, text, tmp_path, store_file):
    path = _divider(tmp_path / "evil", **{field: text})
    result = run_cli(
        "run",
        "--circuit",
        str(path),
        "--tech",
        "generic",
        cwd=tmp_path,
        store=store_file,
    )
    assert_refused(result, field)
    assert not (tmp_path / "pwned").exists()


def test_divider_without_injection_runs(tmp_path, store_file):
    """The control case for the injection tests: the same circuit, clean, runs."""
    path = _divider(tmp_path / "clean")
    result = run_cli(
        "run",
        "--circuit",
        str(path),
        "--tech",
        "generic",
        "--json",
        "-",
        store=store_file,
    )
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(result.stdout)
    assert entry["status"] == "ok"
    assert entry["performance"]["va"] == pytest.approx(0.5, rel=1e-6)


# -- bench and explore ----------------------------------------------------------
def test_bench_writes_json(tmp_path, store_file):
    out = tmp_path / "bench.json"
    result = run_cli(
        "bench",
        "--circuit",
        "op2",
        "--tech",
        "generic",
        "--n",
        "20",
        "--cold-n",
        "3",
        "--json",
        str(out),
        store=store_file,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    for key in (
        "per_worker_sims_per_s",
        "scaling_2_workers",
        "speedup_vs_cold_process",
    ):
        assert math.isfinite(data[key]) and data[key] > 0, key
    assert data["designs"] == 20 and data["cold_designs"] == 3
    assert data["failures_1_worker"] == 0
    assert "per_worker_sims_per_s" in result.stdout


def test_explore_prints_percentiles(store_file):
    result = run_cli(
        "explore",
        "--circuit",
        "op2",
        "--tech",
        "generic",
        "--n",
        "20",
        store=store_file,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for word in ("p10", "median", "p90", "a_0", "ugbw", "20 random designs"):
        assert word in result.stdout, word
