"""Circuit definitions: a YAML file plus SPICE netlist templates.

The format is documented in ``docs/circuit_format.md``. Built-in circuits live
in ``sim/circuits/<name>/circuit.yaml``; a user's circuit loads from any
directory with ``load_circuit(path)``, which reads the files
(``circuit_files``), parses each section (``circuit_parameters``,
``circuit_sections``), checks the netlists against the YAML
(``circuit_checks``) and returns the ``Circuit`` of ``circuit_model``
(re-exported here with its parts, as importers name them from this module).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from sim.errors import UserInputError
from sim.format import circuit_checks as checks
from sim.format.circuit_files import (
    merge,
    one_target_kind,
    read_template,
    read_text,
    with_base,
)
from sim.format.circuit_model import (
    VDD_PLACEHOLDER,
    Analysis,
    Circuit,
    Measure,
    Parameter,
    Testbench,
)
from sim.format.circuit_parameters import NAME, RESERVED, as_float, parse_parameter
from sim.format.circuit_sections import (
    parse_box,
    parse_measures,
    parse_operating_point,
    parse_pvt,
    parse_testbenches,
)
from sim.format.circuit_values import display_name, fail
from sim.format.netlist_parameters import include_declarations, parameter_use
from sim.format.strict_yaml import load_yaml, yaml_problem

__all__ = [
    "BUILTIN_DIR",
    "REWARDS",
    "VDD_PLACEHOLDER",
    "Analysis",
    "Circuit",
    "Measure",
    "Parameter",
    "Testbench",
    "builtin_circuits",
    "circuit_file",
    "load_circuit",
]

BUILTIN_DIR = Path(__file__).parents[1] / "circuits"
REWARDS = ("amplifier", "distance")


def circuit_file(name_or_path: str | Path) -> Path:
    """Path of a circuit's YAML from a built-in name, a directory or a file."""
    text = str(name_or_path)
    if NAME.match(text) and (BUILTIN_DIR / text / "circuit.yaml").is_file():
        return BUILTIN_DIR / text / "circuit.yaml"
    path = Path(text)
    if path.is_dir() and (path / "circuit.yaml").is_file():
        return path / "circuit.yaml"
    if path.is_file():
        return path
    known = sorted(
        p.name for p in BUILTIN_DIR.iterdir() if (p / "circuit.yaml").exists()
    )
    raise UserInputError(
        f"unknown circuit {text!r}: use one of {', '.join(known)} "
        "or the path of a circuit YAML file (or its directory)"
    )


def builtin_circuits() -> list[str]:
    """Names of the circuits that ship with the package."""
    return sorted(
        p.name for p in BUILTIN_DIR.iterdir() if (p / "circuit.yaml").exists()
    )


def load_circuit(name_or_path: str | Path, technology: Any = None) -> Circuit:
    """Load a circuit, applying the overrides of ``technology`` (a Technology).

    Raises ``UserInputError`` with one line naming the problem if the YAML or
    its netlists are malformed.
    """

    path = circuit_file(name_or_path)
    where = f"circuit {path}"
    try:
        data = load_yaml(read_text(path, where))
    except yaml.YAMLError as error:
        raise fail(where, f"not valid YAML ({yaml_problem(error)})") from None
    if not isinstance(data, dict):
        raise fail(where, "expected a mapping at the top level")
    if "base" in data:
        data = with_base(data, path.parent, where)
    tech_name = getattr(technology, "name", None)
    overrides = data.get("technologies", {}) or {}
    if not isinstance(overrides, dict):
        raise fail(where, "'technologies' must map technology names to overrides")
    if tech_name in overrides:
        if not isinstance(overrides[tech_name] or {}, dict):
            raise fail(where, f"technologies.{tech_name} must be a mapping")
        base_specs = data.get("specs")
        data = merge(data, overrides[tech_name] or {})
        one_target_kind(base_specs, data.get("specs"), overrides[tech_name] or {})
    known = {
        "name",
        "description",
        "netlist",
        "parameters",
        "constants",
        "testbenches",
        "measures",
        "operating_point",
        "specs",
        "technologies",
        "base",
        "reward",
        "electrical_space",
        "surrogate_physics",
        "ports",
        "pvt",
    }
    unknown = set(data) - known
    if unknown:
        raise fail(where, f"unknown keys {sorted(unknown)}")
    for key in ("netlist", "parameters", "testbenches", "measures"):
        if key not in data:
            raise fail(where, f"missing required key {key!r}")
    directory = path.parent
    netlist = read_template(directory, data["netlist"], where)
    if not isinstance(data["parameters"], dict) or not data["parameters"]:
        raise fail(where, "'parameters' must be a non-empty mapping")
    parameters = tuple(
        parse_parameter(str(n), s, where, technology)
        for n, s in data["parameters"].items()
    )
    if not isinstance(data.get("constants") or {}, dict):
        raise fail(where, "'constants' must map names to numbers")
    title = str(data.get("name", directory.name))
    if not title.isprintable():  # it heads every deck: one line, nothing more
        raise fail(where, f"name must be one line of text, got {title!r}")
    constants = {}
    for name, value in (data.get("constants") or {}).items():
        if not NAME.match(str(name)) or str(name).lower() in RESERVED:
            raise fail(where, f"{name!r} cannot be a constant name")
        constants[str(name)] = as_float(value, where, f"constant {name}")
    clash = set(constants) & {p.name for p in parameters}
    if clash:
        raise fail(where, f"names used as both parameter and constant: {sorted(clash)}")
    testbenches = parse_testbenches(data["testbenches"], directory, where)
    measures = parse_measures(data["measures"], testbenches, where)
    devices, op_tb, op_an = parse_operating_point(
        data.get("operating_point"), testbenches, where
    )
    ports = _check_netlists(
        data, netlist, testbenches, measures, devices, where, technology
    )
    box = parse_box(data.get("specs") or {}, measures, where)
    reward = data.get("reward", "amplifier")
    if reward not in REWARDS:
        raise fail(where, f"reward must be one of {', '.join(REWARDS)}, got {reward!r}")
    procedures = {}
    for key in ("electrical_space", "surrogate_physics"):
        value = data.get(key, "")
        if not isinstance(value, str) or (value and not NAME.match(value)):
            raise fail(where, f"{key} must be a procedure name, got {value!r}")
        procedures[key] = value
    # Only what changes simulation results: specs, bounds and comments in the
    # YAML may be edited without invalidating stored simulations.
    digest = hashlib.sha256(
        repr(
            (
                netlist,
                sorted(constants.items()),
                [p.name for p in parameters],
                testbenches,
                measures,
                sorted(devices.items()),
                op_tb,
                op_an,
            )
        ).encode()
    )
    return Circuit(
        name=title,
        description=str(data.get("description", "")),
        directory=directory,
        netlist=netlist,
        parameters=parameters,
        constants=constants,
        testbenches=testbenches,
        measures=measures,
        devices=devices,
        op_testbench=op_tb,
        op_analysis=op_an,
        box=box,
        technology=tech_name or "",
        fingerprint=digest.hexdigest()[:16],
        reward=reward,
        ports=ports,
        pvt=parse_pvt(data.get("pvt"), where),
        **procedures,
    )


def _check_netlists(
    data: dict,
    netlist: str,
    testbenches: tuple[Testbench, ...],
    measures: tuple[Measure, ...],
    devices: dict[str, str],
    where: str,
    technology: Any,
) -> tuple[str, ...]:
    """The netlists against the YAML (``sim.format.circuit_checks``): transistor
    lines, element names, parameters, measured vectors, op-point devices
    and, with ``ports`` declared, nodes shared with the testbenches."""
    netlist_file = display_name(data["netlist"])
    files = {
        str(name): display_name(tb["netlist"])
        for name, tb in data["testbenches"].items()
    }
    checks.check_transistors(netlist, f"{where}: {data['netlist']}")
    checks.check_element_names(netlist, testbenches, where)
    templates = {netlist_file: netlist}
    for tb in testbenches:
        templates.setdefault(files[tb.name], tb.template)
        if templates[files[tb.name]] != tb.template:  # same name, other folder
            templates[f"{files[tb.name]} ({tb.name})"] = tb.template
    checks.check_parameters(
        (data.get("parameters") or {}).keys(),
        (data.get("constants") or {}).keys(),
        templates,
        where,
        lambda: _technology_declarations(technology),
    )
    checks.check_measures(measures, netlist, testbenches, netlist_file, files, where)
    op = (data.get("operating_point") or {}).get("analysis", "")
    commands = {
        f"{tb.name}.{a.name}": a.command for tb in testbenches for a in tb.analyses
    }
    if devices:
        checks.check_operating_point(devices, netlist, commands[op], op, where)
    checks.check_measure_devices(measures, netlist, devices, where)
    ports = checks.port_list(data.get("ports"), where)
    if ports:
        checks.check_ports(ports, netlist, netlist_file, testbenches, files, where)
    return ports


def _technology_declarations(technology: Any) -> set[str]:
    """Parameter names the technology's model files declare (lower case)."""
    if technology is None or not hasattr(technology, "includes"):
        return set()
    try:
        deck = "\n".join(technology.includes(None))
        return parameter_use(deck).declared | include_declarations(deck)
    except (UserInputError, OSError):
        return set()
