"""Where jaxsizer reads and writes (sim.paths, surrogate.model_paths): one
variable moves every generated file, fitted models shadow shipped ones, and
fits never write into the package."""

from __future__ import annotations

import json

import pytest

from sim import paths
from sim.storage.store import SimulationStore, default_store_path
from surrogate.circuit.store import surrogate_dir
from surrogate.device.model_file import model_dir, sweep_cache_dir
from surrogate.model_paths import SHIPPED_MODELS, output_dir

PARTS = ("JAXSIZER_MODELS", "JAXSIZER_STORE", "JAXSIZER_CACHE")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """``$JAXSIZER_HOME`` in tmp, no per-part override."""
    for name in PARTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JAXSIZER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_one_variable_moves_everything(home):
    from sim.format.sky130_models import _default_cache_root

    assert paths.jaxsizer_home() == home
    assert default_store_path() == home / "simulations.sqlite"
    assert paths.user_models_dir() == home / "models"
    assert _default_cache_root() == home / "cache" / "sky130"
    assert sweep_cache_dir() == home / "cache" / "sweeps"
    assert output_dir("sky130", "op2") == home / "models" / "sky130" / "op2"
    with SimulationStore() as store:
        assert store.path == home / "simulations.sqlite" and store.path.is_file()


def test_default_home_is_the_platform_user_data_folder(monkeypatch):
    import platformdirs

    monkeypatch.delenv("JAXSIZER_HOME", raising=False)
    expected = platformdirs.user_data_path("jaxsizer", appauthor=False)
    assert paths.jaxsizer_home() == expected


def test_each_part_can_still_be_moved_alone(home, tmp_path, monkeypatch):
    monkeypatch.setenv("JAXSIZER_MODELS", str(tmp_path / "m"))
    monkeypatch.setenv("JAXSIZER_STORE", str(tmp_path / "s.sqlite"))
    monkeypatch.setenv("JAXSIZER_CACHE", str(tmp_path / "c"))
    assert paths.user_models_dir() == tmp_path / "m"
    assert default_store_path() == tmp_path / "s.sqlite"
    assert sweep_cache_dir() == tmp_path / "c" / "sweeps"


def test_shipped_models_are_found_without_a_fitted_one(home):
    assert surrogate_dir("sky130", "op2") == SHIPPED_MODELS / "sky130" / "op2"
    assert (surrogate_dir("sky130", "op2") / "surrogate.json").is_file()
    for tech, device in (("sky130", "nfet_01v8"), ("generic", "pmos")):
        assert model_dir(tech, device) == SHIPPED_MODELS / tech / device
        assert (model_dir(tech, device) / "model.json").is_file()


def test_a_fitted_model_shadows_the_shipped_one(home):
    fitted = home / "models" / "sky130" / "op2"
    fitted.mkdir(parents=True)
    (fitted / "weights.npz").write_bytes(b"")  # no surrogate.json: not a model
    assert surrogate_dir("sky130", "op2") == SHIPPED_MODELS / "sky130" / "op2"
    (fitted / "surrogate.json").write_text(json.dumps({}))
    assert surrogate_dir("sky130", "op2") == fitted
    device = home / "models" / "generic" / "nmos"
    device.mkdir(parents=True)
    (device / "model.json").write_text("{}")
    assert model_dir("generic", "nmos") == device
    assert model_dir("generic", "pmos") == SHIPPED_MODELS / "generic" / "pmos"


def test_a_missing_model_points_where_a_fit_would_write_it(home):
    assert surrogate_dir("generic", "op9") == home / "models" / "generic" / "op9"
    assert model_dir("nosuch", "nmos") == home / "models" / "nosuch" / "nmos"


def test_an_explicit_root_wins(home, tmp_path):
    assert model_dir("generic", "nmos", tmp_path) == tmp_path / "generic" / "nmos"
    assert surrogate_dir("x", "y", tmp_path) == tmp_path / "x" / "y"
    assert output_dir("x", "y", tmp_path) == tmp_path / "x" / "y"
