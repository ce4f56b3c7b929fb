"""Technologies: model files, transistor names, supply and size limits.

Three kinds load through one interface, ``load_technology(name_or_path)``:
``generic`` (this project's BSIM4 card, ~130 nm, for speed), ``sky130``
(SkyWater's continuous models, trimmed per corner and cached) and a user's YAML
file (see ``docs/technology_format.md``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.errors import UserInputError
from sim.format.binning import BinnedLibrary
from sim.format.strict_yaml import load_yaml

GENERIC_LIBRARY = Path(__file__).parents[1] / "technologies" / "generic.lib"
BUILTIN = ("generic", "sky130")
QUANTITIES = ("id", "gm", "gds", "vth", "vdsat", "cgg", "vgs", "vds")


@dataclass(frozen=True)
class DeviceType:
    """How a transistor of one polarity is written in a netlist.

    ``kind`` is ``"model"`` (a ``.model`` card, instance ``M<name>``) or
    ``"subcircuit"`` (instance ``X<name>``; ``inner`` is the name of the
    transistor inside the subcircuit, used to read its operating point).
    """

    name: str
    kind: str = "model"
    inner: str = ""

    def instance(self, device: str) -> str:
        """Netlist instance name for circuit device ``device`` (e.g. ``MND11``)."""
        return device if self.kind == "model" else f"X{device}"

    def op_vector(self, device: str, quantity: str) -> str:
        """ngspice name of an operating-point quantity of ``device``."""
        if self.kind == "model":
            return f"@{device.lower()}[{quantity}]"
        inner = self.inner or f"m{self.name}"
        return f"@m.x{device.lower()}.{inner.lower()}[{quantity}]"


@dataclass(frozen=True)
class Technology:
    """A process: devices, supply (V), size limits (m), corners.

    ``length_unit`` is the number of metres in one netlist length unit
    (1e-6 when the models set ``.option scale=1u``, as sky130's do).
    ``corner_includes`` maps corner name to the netlist lines that load it.
    """

    name: str
    vdd: float
    nmos: DeviceType
    pmos: DeviceType
    length_unit: float
    width_limits: tuple[float, float]
    length_limits: tuple[float, float]
    corner_includes: dict[str, tuple[str, ...]]
    default_corner: str = "tt"
    source: str = ""  # where it came from, for reports and store keys
    # corner -> split transistor subcircuits (see sim.format.binning); None when the
    # technology's devices are used as they are.
    binned: Callable[[str], BinnedLibrary] | None = None
    # Passive-device densities for area estimates (``sim.format.netlist.area``):
    # MIM capacitance (F/m²), poly sheet resistance (ohm/sq), resistor width (m).
    # Defaults are sky130's MIM cap (2 fF/um²) and high-value poly (~2 kohm/sq,
    # 0.35 um wide), used for every technology unless it says otherwise.
    # Threshold mismatch (Pelgrom): sigma(Vt) of one device = coefficient /
    # sqrt(W L m), coefficient in V·m per polarity; NaN when unknown.
    vth_mismatch: tuple[float, float] = (float("nan"), float("nan"))
    cap_density: float = 2e-3
    sheet_resistance: float = 2000.0
    resistor_width: float = 0.35e-6

    @property
    def corners(self) -> tuple[str, ...]:
        return tuple(self.corner_includes)

    def with_supply(self, scale: float) -> Technology:
        """The technology at ``scale`` × its VDD (``sim.pvt``): decks, analyses
        and power read the scaled ``vdd``; the name says the scale
        (``sky130@0.9vdd``) so stored rows keep conditions apart. Load
        circuits with the unscaled technology (overrides go by name)."""
        if scale == 1.0:
            return self
        return dataclasses.replace(
            self, name=f"{self.name}@{scale:g}vdd", vdd=self.vdd * scale
        )

    def device(self, polarity: str) -> DeviceType:
        return {"nmos": self.nmos, "pmos": self.pmos}[polarity]

    def includes(
        self, corner: str | None = None, prebinned: bool = False
    ) -> tuple[str, ...]:
        """Netlist lines that load the models of ``corner``.

        With ``prebinned`` (only for technologies with ``binned``), the lines
        load the library without its binned transistor subcircuits, which the
        deck then defines itself, one bin at a time.
        """
        corner = corner or self.default_corner
        if corner not in self.corner_includes:
            raise UserInputError(
                f"technology {self.name!r} has no corner {corner!r}; "
                f"choose one of {', '.join(self.corners)}"
            )
        if prebinned and self.binned is not None:
            return (f".include {self.binned(corner).base}",)
        return self.corner_includes[corner]


def _generic() -> Technology:
    path = GENERIC_LIBRARY
    return Technology(
        name="generic",
        vdd=1.2,
        nmos=DeviceType("nmos"),
        pmos=DeviceType("pmos"),
        length_unit=1.0,
        width_limits=(0.2e-6, 200e-6),
        length_limits=(0.13e-6, 10e-6),
        corner_includes={c: (f".lib {path} {c}",) for c in _CORNERS},
        source=str(path),
        # A_VT ~ 1 mV·um per nm of oxide for a pair (Pelgrom et al., JSSC 1989;
        # Kinget, JSSC 2005): 2.7 nm -> ~4 mV·um, i.e. 2.83 mV·um per device.
        vth_mismatch=(2.83e-9, 2.83e-9),
    )


_CORNERS = ("tt", "ss", "ff", "sf", "fs")


class _Sky130Includes(dict):
    """Corner -> include lines, generating the trimmed library on first use."""

    def __missing__(self, corner: str) -> tuple[str, ...]:
        from sim.format.sky130_models import sky130_library

        lines = (f".include {sky130_library(corner)}",)
        self[corner] = lines
        return lines

    def __contains__(self, corner: object) -> bool:
        return corner in _CORNERS

    def __iter__(self):
        return iter(_CORNERS)


def _sky130() -> Technology:
    return Technology(
        name="sky130",
        vdd=1.8,
        nmos=DeviceType("sky130_fd_pr__nfet_01v8", "subcircuit"),
        pmos=DeviceType("sky130_fd_pr__pfet_01v8", "subcircuit"),
        length_unit=1e-6,
        width_limits=(0.42e-6, 100e-6),
        length_limits=(0.15e-6, 20e-6),
        corner_includes=_Sky130Includes(),
        source="sky130",
        binned=_sky130_bins,
        # SkyWater's mismatch coefficients sw_mm_vth0_* of nfet_01v8 / pfet_01v8
        # (3.356 / 5.856 mV·um per device, parameters_fet_*.spice).
        vth_mismatch=(3.356e-9, 5.856e-9),
    )


def _sky130_bins(corner: str) -> BinnedLibrary:
    from sim.format.sky130_models import prebinned_library

    return prebinned_library(corner)


def load_technology(name_or_path: str | Path) -> Technology:
    """A built-in technology by name, or a user technology from a YAML file."""
    text = str(name_or_path)
    if text == "generic":
        return _generic()
    if text == "sky130":
        return _sky130()
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        return load_technology_file(path)
    raise UserInputError(
        f"unknown technology {text!r}: use one of {', '.join(BUILTIN)} "
        "or the path of a technology YAML file"
    )


def _number(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UserInputError(f"{what} must be a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise UserInputError(f"{what} must be finite, got {value!r}")
    return number


def _pair(value: object, what: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise UserInputError(f"{what} must be a [min, max] pair, got {value!r}")
    low, high = (_number(v, what) for v in value)
    if not 0 < low < high:
        raise UserInputError(f"{what} must satisfy 0 < min < max, got {value!r}")
    return low, high


# Model, subcircuit and section names as written into decks: one word.
_SPICE_NAME = re.compile(r"[A-Za-z_][\w.\-]*", re.ASCII)


def _spice_name(value: object, where: str) -> str:
    if not isinstance(value, str) or not _SPICE_NAME.fullmatch(value):
        raise UserInputError(f"{where}: {value!r} is not a valid SPICE name")
    return value


def _model_lines(entries: object, base: Path, where: str) -> tuple[str, ...]:
    if isinstance(entries, (str, dict)):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise UserInputError(f"{where}: 'models' must list one or more model files")
    lines = []
    for entry in entries:
        section = None
        if isinstance(entry, dict):
            file, section = entry.get("file"), entry.get("section")
        else:
            file = entry
        if not isinstance(file, str):
            raise UserInputError(f"{where}: a model entry needs a file path: {entry!r}")
        path = (base / file).resolve()
        if not path.is_file():
            raise UserInputError(f"{where}: model file not found: {path}")
        if not str(path).isprintable():
            raise UserInputError(f"{where}: bad model path {str(path)!r}")
        if section is not None:
            _spice_name(section, f"{where}: model section")
        lines.append(f".lib {path} {section}" if section else f".include {path}")
    return tuple(lines)


def _device_type(spec: object, where: str) -> DeviceType:
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise UserInputError(f"{where} must name a model or subcircuit")
    kind = spec.get("kind", "model")
    if kind not in ("model", "subcircuit"):
        raise UserInputError(f"{where}: kind must be 'model' or 'subcircuit'")
    inner = spec.get("inner") or ""
    if inner:
        _spice_name(inner, f"{where}: inner")
    return DeviceType(_spice_name(spec["name"], where), kind, inner)


_UNITS = {"m": 1.0, "um": 1e-6}


def load_technology_file(path: Path) -> Technology:
    """A user technology from YAML (format in ``docs/technology_format.md``)."""
    if not path.is_file():
        raise UserInputError(f"technology file not found: {path}")
    where = f"technology {path}"
    try:
        data = load_yaml(path.read_text())
    except (OSError, UnicodeDecodeError) as error:
        raise UserInputError(f"{where}: cannot read it ({error})") from None
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())  # one line
        raise UserInputError(f"{where}: not valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise UserInputError(f"{where}: expected a mapping at the top level")
    known = {
        "name",
        "vdd",
        "models",
        "corners",
        "nmos",
        "pmos",
        "length_unit",
        "limits",
        "default_corner",
    }
    unknown = set(data) - known
    if unknown:
        raise UserInputError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("vdd", "nmos", "pmos", "limits"):
        if key not in data:
            raise UserInputError(f"{where}: missing required key {key!r}")
    base = path.parent
    if "corners" in data:
        if not isinstance(data["corners"], dict) or not data["corners"]:
            raise UserInputError(f"{where}: 'corners' must map names to models")
        corners = {
            _spice_name(str(k), f"{where}: corner"): _model_lines(v, base, where)
            for k, v in data["corners"].items()
        }
    elif "models" in data:
        corners = {"tt": _model_lines(data["models"], base, where)}
    else:
        raise UserInputError(f"{where}: give 'models' (or 'corners')")
    unit = data.get("length_unit", "m")
    if not isinstance(unit, str) or unit not in _UNITS:
        raise UserInputError(f"{where}: length_unit must be 'm' or 'um', got {unit!r}")
    limits = data["limits"]
    if not isinstance(limits, dict) or not {"w", "l"} <= set(limits):
        raise UserInputError(f"{where}: limits needs 'w' and 'l' as [min, max] in m")
    default = str(data.get("default_corner", next(iter(corners))))
    if default not in corners:
        raise UserInputError(f"{where}: default_corner {default!r} is not a corner")
    name = str(data.get("name", path.stem))
    if not name.isprintable():  # it is written into every deck's title line
        raise UserInputError(f"{where}: name must be one line of text, got {name!r}")
    vdd = _number(data["vdd"], f"{where}: vdd")
    if vdd <= 0:
        raise UserInputError(f"{where}: vdd must be positive")
    return Technology(
        name=name,
        vdd=vdd,
        nmos=_device_type(data["nmos"], f"{where}: nmos"),
        pmos=_device_type(data["pmos"], f"{where}: pmos"),
        length_unit=_UNITS[unit],
        width_limits=_pair(limits["w"], f"{where}: limits.w"),
        length_limits=_pair(limits["l"], f"{where}: limits.l"),
        corner_includes=corners,
        default_corner=default,
        source=str(path.resolve()),
    )
