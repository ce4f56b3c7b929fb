"""Circuit definitions: a YAML file plus SPICE netlist templates.

The format is documented in ``docs/circuit_format.md``. Built-in circuits live
in ``sim/circuits/<name>/circuit.yaml``; a user's circuit loads from any
directory with ``load_circuit(path)``.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

import yaml

from sim.engine.deck_check import SAFE_ANALYSIS, absolute_includes, expand_deck
from sim.errors import UserInputError
from sim.format import circuit_checks as checks
from sim.format.circuit_model import (
    VDD_PLACEHOLDER,
    Analysis,
    Circuit,
    Measure,
    Parameter,
    Testbench,
)
from sim.format.measure_kinds import DESIGN_KINDS, KINDS
from sim.format.targets import TargetBox, spec_range

BUILTIN_DIR = Path(__file__).parents[1] / "circuits"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
# Names ngspice's expression parser reserves (functions, constants, keywords).
RESERVED = frozenset(
    """
    abs acos acosh asin asinh atan atanh cos cosh exp ln log log10 sin sinh
    sqrt tan tanh min max pow pwr sgn sign int floor ceil nint uramp u u2
    ternary_fcn temper hertz time pi e boltz echarge kelvin planck vdd gauss
    agauss aunif unif limit if else def par
    """.split()
)
SCALES = ("linear", "log")
REWARDS = ("amplifier", "distance")


def _fail(where: str, message: str) -> UserInputError:
    return UserInputError(f"{where}: {message}")


def _float(value: Any, where: str, what: str) -> float:
    if isinstance(value, bool):
        raise _fail(where, f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(where, f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise _fail(where, f"{what} must be finite")
    return number


def _parameter(name: str, spec: Any, where: str, tech: Any) -> Parameter:
    if not _NAME.match(name) or name.lower() in RESERVED:
        raise _fail(where, f"{name!r} cannot be a parameter name (reserved or invalid)")
    if not isinstance(spec, dict):
        raise _fail(where, f"parameter {name} must be a mapping")
    where = f"{where}: parameter {name}"
    kind = spec.get("type", "real")
    if kind not in ("real", "integer", "grid"):
        raise _fail(where, f"type must be real, integer or grid, got {kind!r}")
    scale = spec.get("scale", "linear")
    if scale not in SCALES:
        raise _fail(where, f"scale must be linear or log, got {scale!r}")
    unit = str(spec.get("unit", ""))
    if problem := checks.unit_problem(unit):
        raise _fail(where, problem)
    grid: tuple[float, ...] = ()
    if kind == "grid":
        values = spec.get("grid")
        if not isinstance(values, list) or not values:
            raise _fail(where, "a grid parameter needs a non-empty 'grid' list")
        grid = tuple(sorted(_float(v, where, "grid value") for v in values))
        low, high = grid[0], grid[-1]
    else:
        bounds = spec.get("bounds")
        if bounds == "width" and tech is not None:
            bounds = list(tech.width_limits)
        elif bounds == "length" and tech is not None:
            bounds = list(tech.length_limits)
        if bounds in ("width", "length"):
            raise _fail(
                where,
                f"'bounds: {bounds}' takes the technology's limits: "
                "load the circuit with a technology",
            )
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise _fail(where, "needs 'bounds: [min, max]' (or width/length)")
        low, high = (_float(b, where, "bound") for b in bounds)
        if not low < high:
            raise _fail(where, f"bounds must have min < max, got {bounds}")
        if scale == "log" and low <= 0:
            raise _fail(where, "a log-scaled parameter needs positive bounds")
    if "default" in spec:
        default = _float(spec["default"], where, "default")
    elif scale == "log":
        default = math.sqrt(low * high)
    else:
        default = 0.5 * (low + high)
    if kind == "integer":
        default = float(round(default))
    if kind == "grid":
        default = min(grid, key=lambda g: abs(g - default))
    parameter = Parameter(name, low, high, default, unit, kind, scale, grid)
    try:
        parameter.check(default)
    except UserInputError as error:
        raise _fail(where, f"default: {error}") from None
    return parameter


def _merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``, mapping by mapping; a null value removes a key."""
    merged = dict(base)
    for key, value in override.items():
        if value is None and key in merged and isinstance(merged[key], dict):
            del merged[key]
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _one_target_kind(base: Any, merged: Any, override: dict) -> None:
    """A technology's spec entry that gives ``value`` drops the circuit's
    ``range`` and ``scale`` from ``merged`` (one giving ``range`` drops its
    ``value``): a technology may fix a spec the circuit draws, or the reverse.
    """
    specs = override.get("specs")
    if not all(isinstance(d, dict) for d in (base, merged, specs)):
        return
    for name, entry in specs.items():
        spec = merged.get(name)
        if not all(isinstance(d, dict) for d in (entry, spec, base.get(name))):
            continue  # a new entry (or a removal): nothing merged into it
        if "value" in entry and "range" not in entry:
            spec.pop("range", None)
            if "scale" not in entry:
                spec.pop("scale", None)
        elif "range" in entry and "value" not in entry:
            spec.pop("value", None)


def _read_template(directory: Path, name: Any, where: str) -> str:
    """A netlist template, checked as ngspice will read it (its includes
    too, see ``sim.engine.deck_check``), relative includes made absolute."""
    if not isinstance(name, str):
        raise _fail(where, f"netlist must be a file name, got {name!r}")
    path = directory / name
    if not path.is_file():
        raise _fail(where, f"netlist file not found: {path}")
    text = _read_text(path, where)
    try:
        expand_deck(text, str(path), path.parent)
    except UserInputError as error:
        raise _fail(where, str(error)) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().lower() == ".end" or line.strip().lower().startswith(".end "):
            raise _fail(where, f"{path}:{number}: a template must not contain .end")
    return absolute_includes(text, path.parent)


def _read_text(path: Path, where: str) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(where, f"cannot read {path} ({error})") from None


MAX_YAML_NODES = 100_000  # nodes of a YAML document with aliases expanded


def _expanded_size(root: yaml.Node) -> int:
    """Nodes of the document with every alias expanded (``MAX_YAML_NODES``
    + 1 once it is over that); a ``yaml.YAMLError`` for a cyclic alias."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = node.value if isinstance(node.value, list) else []
        items = [
            child
            for item in children
            for child in (item if isinstance(item, tuple) else (item,))
        ]
        if done:
            active.discard(key)
            sizes[key] = min(MAX_YAML_NODES + 1, 1 + sum(sizes[id(c)] for c in items))
            continue
        if key in active:
            raise yaml.YAMLError("a YAML alias refers to itself (a cycle)")
        active.add(key)
        stack.append((node, True))
        for child in items:
            if id(child) in active:
                raise yaml.YAMLError("a YAML alias refers to itself (a cycle)")
            stack.append((child, False))
    return sizes[id(root)]


class StrictYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key given twice in one mapping
    (the plain loader keeps the last silently) and a document whose aliases
    expand to more than ``MAX_YAML_NODES`` nodes (an alias bomb)."""

    def compose_document(self) -> yaml.Node:
        node = super().compose_document()
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            raise yaml.YAMLError(
                f"the YAML expands to more than {MAX_YAML_NODES} values through "
                "its aliases (&name/*name): refused"
            )
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # explicit keys may override merged ones
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable: the base loader reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    """YAML ``text`` with the safe loader, refusing duplicate keys.

    Every problem comes out as a ``yaml.YAMLError`` (PyYAML lets a bad
    date through as ``ValueError``).
    """
    try:
        return yaml.load(text, Loader=StrictYamlLoader)  # noqa: S506 - safe loader
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise yaml.YAMLError(f"{type(error).__name__}: {error}") from None


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error as one line (PyYAML's messages span several)."""
    return " ".join(str(error).split())


def _with_base(data: dict, directory: Path, where: str) -> dict:
    """Merge a circuit over its ``base:`` YAML (shared testbenches and measures).

    The base's testbench netlists are resolved relative to the base's file;
    keys of the circuit override the base's, mapping by mapping.
    """
    base_path = (directory / str(data["base"])).resolve()
    if not base_path.is_file():
        raise _fail(where, f"base file not found: {base_path}")
    try:
        base = load_yaml(_read_text(base_path, where))
    except yaml.YAMLError as error:
        problem = yaml_problem(error)
        raise _fail(where, f"base {base_path} is not valid YAML ({problem})") from None
    if not isinstance(base, dict) or "base" in base:
        raise _fail(where, f"base {base_path} must be a mapping without its own base")
    if not isinstance(base.get("testbenches") or {}, dict):
        raise _fail(where, f"base {base_path}: 'testbenches' must be a mapping")
    for tb in (base.get("testbenches") or {}).values():
        if isinstance(tb, dict) and isinstance(tb.get("netlist"), str):
            tb["netlist"] = str(base_path.parent / tb["netlist"])
    return _merge(base, {k: v for k, v in data.items() if k != "base"})


def circuit_file(name_or_path: str | Path) -> Path:
    """Path of a circuit's YAML from a built-in name, a directory or a file."""
    text = str(name_or_path)
    if _NAME.match(text) and (BUILTIN_DIR / text / "circuit.yaml").is_file():
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
        data = load_yaml(_read_text(path, where))
    except yaml.YAMLError as error:
        raise _fail(where, f"not valid YAML ({yaml_problem(error)})") from None
    if not isinstance(data, dict):
        raise _fail(where, "expected a mapping at the top level")
    if "base" in data:
        data = _with_base(data, path.parent, where)
    tech_name = getattr(technology, "name", None)
    overrides = data.get("technologies", {}) or {}
    if not isinstance(overrides, dict):
        raise _fail(where, "'technologies' must map technology names to overrides")
    if tech_name in overrides:
        if not isinstance(overrides[tech_name] or {}, dict):
            raise _fail(where, f"technologies.{tech_name} must be a mapping")
        base_specs = data.get("specs")
        data = _merge(data, overrides[tech_name] or {})
        _one_target_kind(base_specs, data.get("specs"), overrides[tech_name] or {})
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
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    for key in ("netlist", "parameters", "testbenches", "measures"):
        if key not in data:
            raise _fail(where, f"missing required key {key!r}")
    directory = path.parent
    netlist = _read_template(directory, data["netlist"], where)
    if not isinstance(data["parameters"], dict) or not data["parameters"]:
        raise _fail(where, "'parameters' must be a non-empty mapping")
    parameters = tuple(
        _parameter(str(n), s, where, technology) for n, s in data["parameters"].items()
    )
    if not isinstance(data.get("constants") or {}, dict):
        raise _fail(where, "'constants' must map names to numbers")
    title = str(data.get("name", directory.name))
    if not title.isprintable():  # it heads every deck: one line, nothing more
        raise _fail(where, f"name must be one line of text, got {title!r}")
    constants = {}
    for name, value in (data.get("constants") or {}).items():
        if not _NAME.match(str(name)) or str(name).lower() in RESERVED:
            raise _fail(where, f"{name!r} cannot be a constant name")
        constants[str(name)] = _float(value, where, f"constant {name}")
    clash = set(constants) & {p.name for p in parameters}
    if clash:
        raise _fail(
            where, f"names used as both parameter and constant: {sorted(clash)}"
        )
    testbenches = _testbenches(data["testbenches"], directory, where)
    measures = _measures(data["measures"], testbenches, where)
    devices, op_tb, op_an = _operating_point(
        data.get("operating_point"), testbenches, where
    )
    ports = _check_netlists(
        data, netlist, testbenches, measures, devices, where, technology
    )
    box = _box(data.get("specs") or {}, measures, where)
    reward = data.get("reward", "amplifier")
    if reward not in REWARDS:
        raise _fail(
            where, f"reward must be one of {', '.join(REWARDS)}, got {reward!r}"
        )
    procedures = {}
    for key in ("electrical_space", "surrogate_physics"):
        value = data.get(key, "")
        if not isinstance(value, str) or (value and not _NAME.match(value)):
            raise _fail(where, f"{key} must be a procedure name, got {value!r}")
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
        pvt=_pvt(data.get("pvt"), where),
        **procedures,
    )


def _pvt(value: Any, where: str):
    """The ``pvt:`` declaration (``sim.format.pvt_conditions``), checked here."""
    from sim.format.pvt_conditions import parse_declaration

    try:
        return parse_declaration(value)
    except UserInputError as error:
        raise _fail(where, str(error)) from None


_SAFE_COMMAND = SAFE_ANALYSIS  # one line: no newline may smuggle a command in


def _testbenches(spec: Any, directory: Path, where: str) -> tuple[Testbench, ...]:
    if not isinstance(spec, dict) or not spec:
        raise _fail(where, "'testbenches' must be a non-empty mapping")
    out = []
    for name, tb in spec.items():
        if not _NAME.match(str(name)):
            raise _fail(where, f"{name!r} cannot be a testbench name")
        if not isinstance(tb, dict) or "netlist" not in tb or "analyses" not in tb:
            raise _fail(where, f"testbench {name} needs 'netlist' and 'analyses'")
        analyses = tb["analyses"]
        if not isinstance(analyses, dict) or not analyses:
            raise _fail(where, f"testbench {name}: 'analyses' maps names to commands")
        items = []
        for an_name, command in analyses.items():
            if not _NAME.match(str(an_name)):
                raise _fail(where, f"testbench {name}: bad analysis name {an_name!r}")
            if not isinstance(command, str) or not _SAFE_COMMAND.match(
                command.strip().replace(VDD_PLACEHOLDER, "1")
            ):
                raise _fail(
                    where,
                    f"testbench {name}: analysis {an_name} must be one ngspice "
                    "analysis command (op, ac, dc, tran, noise, tf, pz), "
                    f"got {command!r}",
                )
            problem = checks.analysis_problem(command.strip())
            if problem:
                raise _fail(
                    where,
                    f"testbench {name}: analysis {an_name} {command.strip()!r}: "
                    f"{problem}",
                )
            items.append(Analysis(str(an_name), command.strip()))
        template = _read_template(
            directory, tb["netlist"], f"{where}: testbench {name}"
        )
        out.append(Testbench(str(name), template, tuple(items)))
    return tuple(out)


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
    netlist_file = checks.display_name(data["netlist"])
    files = {
        str(name): checks.display_name(tb["netlist"])
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
        return checks.parameter_use(deck).declared | checks.include_declarations(deck)
    except (UserInputError, OSError):
        return set()


def _locate(
    ref: Any, testbenches: tuple[Testbench, ...], where: str
) -> tuple[str, str]:
    if not isinstance(ref, str) or "." not in ref:
        raise _fail(where, f"expected '<testbench>.<analysis>', got {ref!r}")
    tb_name, an_name = ref.split(".", 1)
    for tb in testbenches:
        if tb.name == tb_name and any(a.name == an_name for a in tb.analyses):
            return tb_name, an_name
    raise _fail(where, f"no analysis {ref!r} among the testbenches")


def _measure_args(name: str, kind_name: str, m: dict, where: str) -> dict[str, str]:
    """Arguments of one measure, checked against its kind
    (``sim.format.measure_kinds``)."""
    if kind_name in DESIGN_KINDS:
        args = {k: v for k, v in m.items() if k not in ("measure", "unit")}
        if set(args) != set(DESIGN_KINDS[kind_name]):
            raise _fail(
                where,
                f"measure {name}: {kind_name} takes exactly "
                f"{list(DESIGN_KINDS[kind_name])}",
            )
        for value in args.values():
            if not isinstance(value, str) or not re.match(r"^[\w/, ]+$", value):
                raise _fail(where, f"measure {name}: bad argument {value!r}")
        return dict(args)
    kind = KINDS[kind_name]
    allowed = {
        *kind.vectors,
        *kind.optional_vectors,
        *kind.numbers,
        *kind.optional_numbers,
        *kind.words,
    }
    args = {k: v for k, v in m.items() if k not in ("measure", "analysis", "unit")}
    unknown = set(args) - allowed
    if unknown:
        raise _fail(
            where,
            f"measure {name}: unknown arguments {sorted(unknown)} "
            f"for {kind_name} (takes {sorted(allowed)})",
        )
    missing = {*kind.vectors, *kind.numbers} - set(args)
    if missing:
        raise _fail(where, f"measure {name}: {kind_name} needs {sorted(missing)}")
    out = {}
    for key, value in args.items():
        if key in kind.numbers or key in kind.optional_numbers:
            out[key] = repr(_float(value, where, f"measure {name}: {key}"))
        elif key in kind.words:
            if value not in kind.words[key]:
                raise _fail(
                    where,
                    f"measure {name}: {key} must be one of "
                    f"{', '.join(kind.words[key])}",
                )
            out[key] = str(value)
        else:
            if not isinstance(value, str) or not re.match(
                r"^[\w().,:\[\]@#-]+\Z", value
            ):
                raise _fail(where, f"measure {name}: bad vector name {value!r}")
            out[key] = value
    return out


def _measures(spec: Any, testbenches, where: str) -> tuple[Measure, ...]:
    if not isinstance(spec, dict) or not spec:
        raise _fail(where, "'measures' must be a non-empty mapping")
    out = []
    for name, m in spec.items():
        if not isinstance(m, dict) or "measure" not in m:
            raise _fail(where, f"measure {name} needs 'measure'")
        kind = m["measure"]
        if kind not in KINDS and kind not in DESIGN_KINDS:
            known = ", ".join([*KINDS, *DESIGN_KINDS])
            raise _fail(
                where, f"measure {name}: unknown function {kind!r}; known: {known}"
            )
        tb = an = ""
        if kind in KINDS:
            if "analysis" not in m:
                raise _fail(where, f"measure {name} needs 'analysis'")
            tb, an = _locate(m["analysis"], testbenches, f"{where}: measure {name}")
        args = _measure_args(str(name), kind, m, where)
        unit = str(m.get("unit", ""))
        if problem := checks.unit_problem(unit):
            raise _fail(where, f"measure {name}: {problem}")
        out.append(Measure(str(name), kind, tb, an, args, unit))
    return tuple(out)


def _operating_point(spec: Any, testbenches, where: str):
    if spec is None:
        return {}, "", ""
    if not isinstance(spec, dict) or "analysis" not in spec:
        raise _fail(where, "'operating_point' needs 'analysis' and 'devices'")
    tb, an = _locate(spec["analysis"], testbenches, f"{where}: operating_point")
    devices = spec.get("devices") or {}
    if not isinstance(devices, dict):
        raise _fail(where, "operating_point.devices maps device names to nmos/pmos")
    for name, polarity in devices.items():
        if polarity not in ("nmos", "pmos") or not _NAME.match(str(name)):
            raise _fail(where, f"operating_point: device {name}: {polarity!r}")
    return {str(k): str(v) for k, v in devices.items()}, tb, an


def _box(spec: Any, measures: tuple[Measure, ...], where: str) -> TargetBox:
    """The declared target box (``specs:``): each entry names a measure."""
    if not isinstance(spec, dict):
        raise _fail(where, "'specs' must map measure names to bounds")
    units = {m.name: m.unit for m in measures}
    out = []
    for name, entry in spec.items():
        if name not in units:
            raise _fail(where, f"spec {name}: no measure of that name")
        try:
            out.append(spec_range(str(name), entry, units[name]))
        except UserInputError as error:
            raise _fail(where, str(error)) from None
    return TargetBox(tuple(out))
