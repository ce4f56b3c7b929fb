"""Workers start without the caller's __main__; a failed start says what failed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import sim.engine.worker
from sim.engine.pool import SimulationPool, SimulatorUnavailable
from tests.conftest import REPO

# No ``if __name__ == "__main__":`` guard, on purpose: a spawned worker that
# re-ran this module would start a pool of its own.
UNGUARDED = textwrap.dedent("""\
    from sim.sizing.simulator import Simulator
    from sim.storage.store import SimulationStore

    store = SimulationStore({store!r})
    simulator = Simulator("op2", "generic", n_workers=2, store=store)
    results = simulator.simulate([{{}}, {{"Wdp1": 20e-6}}])
    print("STATUS", *[r.status.value for r in results])
    print("A_0", results[0].performance["a_0"])
    simulator.close()
    """)


def _python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    return env


def _check(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "STATUS ok ok" in lines, done.stdout + done.stderr
    gain = float(next(line for line in lines if line.startswith("A_0")).split()[1])
    assert gain > 0


def test_unguarded_script_file_simulates(tmp_path):
    script = tmp_path / "first_script.py"
    script.write_text(UNGUARDED.format(store=str(tmp_path / "s.sqlite")))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_python_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    _check(done)


def test_unguarded_script_from_stdin_simulates(tmp_path):
    done = subprocess.run(
        [sys.executable, "-"],
        input=UNGUARDED.format(store=str(tmp_path / "s.sqlite")),
        cwd=tmp_path,
        env=_python_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    _check(done)


def test_worker_that_cannot_load_ngspice_reports_the_library_error(monkeypatch):
    missing = "/nonexistent/jaxsizer-test/libngspice.so"
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", missing)
    with pytest.raises(SimulatorUnavailable) as caught:
        SimulationPool(1, timeout=10)
    message = str(caught.value)
    assert "could not be loaded" in message
    assert missing in message


def test_worker_that_dies_at_start_reports_its_stderr(monkeypatch):
    """A worker process that exits before saying hello: its stderr is the error."""

    def broken(fd: int) -> list[str]:
        code = "import sys; sys.stderr.write('boom: cannot import xyz\\n'); sys.exit(3)"
        return [sys.executable, "-c", code]

    monkeypatch.setattr(sim.engine.worker, "worker_command", broken)
    with pytest.raises(SimulatorUnavailable) as caught:
        SimulationPool(2, timeout=10)
    message = str(caught.value)
    assert "exited with code 3" in message
    assert "boom: cannot import xyz" in message
