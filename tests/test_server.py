"""The simulation server and its client on loopback, against real ngspice:
authentication, validation, idempotent retries, concurrent clients, restarts."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from sim.commands.server import ServerConfig, create_app, read_token  # noqa: E402
from sim.engine.backend import BackendConfig  # noqa: E402
from sim.errors import UserInputError  # noqa: E402
from sim.format.circuit import load_circuit  # noqa: E402
from sim.format.technology import load_technology  # noqa: E402
from sim.sizing.sampling import random_designs  # noqa: E402
from sim.sizing.simulator import Simulator  # noqa: E402
from sim.storage.store import SimulationStore  # noqa: E402
from tests.conftest import REPO  # noqa: E402

TOKEN = "test-token-5f0c1d2e"
TOKEN_ENV = "JAXSIZER_TEST_TOKEN"
GOOD = {"circuit": "op2", "technology": "generic", "designs": [{"Wdp1": 5e-6}]}


def _fast_op2():
    """op2 on the generic node measuring only gain and bandwidth (one testbench)."""
    circuit = load_circuit("op2", load_technology("generic"))
    return circuit.restricted(["a_0", "ugbw"])


# -- in-process: auth and validation -----------------------------------------
@pytest.fixture(scope="module")
def client(tmp_path_factory):
    store = tmp_path_factory.mktemp("server") / "server.sqlite"
    config = ServerConfig(
        token=TOKEN.encode(),
        workers=2,
        max_batch=16,
        max_request_bytes=20_000,
        store=store,
    )
    with TestClient(create_app(config)) as test_client:
        yield test_client


def _post(client, body, token: str | None = TOKEN, key: str | None = None):
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, str) else json.dumps(body)
    return client.post("/v1/simulate", content=content, headers=headers)


def test_api_description_is_behind_the_token(client):
    for path in ("/openapi.json", "/docs"):
        assert client.get(path).status_code == 401
        wrong = client.get(path, headers={"Authorization": "Bearer wrong-token"})
        assert wrong.status_code == 401
        good = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert good.status_code == 200
    assert client.get("/redoc").status_code == 404
    spec = client.get("/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"})
    assert "/v1/simulate" in spec.json()["paths"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_token_file_open_to_others_is_refused(tmp_path, mode):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(mode)
    with pytest.raises(UserInputError, match="chmod 600"):
        read_token(path)
    path.chmod(0o600)
    assert read_token(path) == TOKEN.encode()


def test_auth(client):
    assert _post(client, GOOD, token=None).status_code == 401
    assert _post(client, GOOD, token="wrong-token").status_code == 401
    basic = client.post(
        "/v1/simulate",
        json=GOOD,
        headers={"Authorization": f"Basic {TOKEN}", "Idempotency-Key": "k" * 16},
    )
    assert basic.status_code == 401
    assert client.get("/v1/circuits").status_code == 401
    response = _post(client, GOOD)
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result["status"] == "ok" and result["performance"]["a_0"] > 0


BAD = {
    "out of bounds": ({**GOOD, "designs": [{"Wdp1": 1.0}]}, 422, "out of bounds"),
    "nan": (
        '{"circuit": "op2", "technology": "generic", "designs": [{"Wdp1": NaN}]}',
        422,
        "finite",
    ),
    "string value": ({**GOOD, "designs": [{"Wdp1": "5e-6"}]}, 422, "valid number"),
    "unknown circuit": ({**GOOD, "circuit": "op7"}, 404, "not served"),
    "oversized batch": ({**GOOD, "designs": [{}] * 17}, 422, "exceeds the limit"),
    "path": ({**GOOD, "circuit": "../../etc/passwd"}, 422, "circuit"),
    "netlist text": (
        {**GOOD, "corner": "tt\n.control\nshell touch /tmp/x\n.endc"},
        422,
        "corner",
    ),
    "unknown corner": ({**GOOD, "corner": "xx"}, 422, "not a corner"),
    "parameter name text": (
        {**GOOD, "designs": [{"shell rm -rf x": 1.0}]},
        422,
        "no parameter",
    ),
    "deck field": ({**GOOD, "deck": "V1 a 0 1"}, 422, "deck"),
    "unknown measure": ({**GOOD, "measures": ["shell"]}, 422, "unknown measures"),
    "hot temperature": ({**GOOD, "temperature": 1e6}, 422, "temperature"),
    "huge body": ({**GOOD, "designs": [{"Wdp1": 5e-6}] * 2000}, 413, "larger"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_4xx_and_server_keeps_serving(client, case):
    body, code, words = BAD[case]
    response = _post(client, body)
    assert response.status_code == code, response.text
    assert words in response.json()["detail"]
    assert _post(client, GOOD).status_code == 200


def test_idempotency_key_is_required_and_bound_to_its_body(client):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/v1/simulate", json=GOOD, headers=headers).status_code == 400
    key = uuid.uuid4().hex
    first = _post(client, {**GOOD, "designs": [{"Wdp1": 7e-6}]}, key=key)
    again = _post(client, {**GOOD, "designs": [{"Wdp1": 7e-6}]}, key=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other = _post(client, {**GOOD, "designs": [{"Wdp1": 8e-6}]}, key=key)
    assert other.status_code == 422 and "different request" in other.json()["detail"]


# -- a real server process ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``python -m sim.commands.server`` on loopback, started and stopped by a test."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = directory / "server.sqlite"
        self.token_file = directory / "token"
        self.token_file.write_text(TOKEN + "\n")
        self.token_file.chmod(0o600)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sim.commands.server",
                "--port",
                str(self.port),
                "--token-file",
                str(self.token_file),
                "--store",
                str(self.store),
                "--workers",
                "2",
                "--max-batch",
                "64",
            ],
            cwd=self.directory,
            env=env,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server exited"
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def stored(self) -> int:
        if not self.store.exists():
            return 0
        with SimulationStore(self.store) as store:
            return store.count()


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    process = ServerProcess(tmp_path)
    process.start()
    yield process
    process.stop()


def _remote(server: ServerProcess, store_path: Path) -> Simulator:
    config = BackendConfig(kind="remote", server=server.url, token_env=TOKEN_ENV)
    return Simulator(
        _fast_op2(), "generic", backend=config, store=SimulationStore(store_path)
    )


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a
    )


def test_remote_equals_local(server, pool, tmp_path):
    local = Simulator(
        _fast_op2(), "generic", backend=pool, store=SimulationStore(tmp_path / "l")
    )
    designs = random_designs(local.circuit, 20, seed=2)
    expected = local.simulate(designs)
    with _remote(server, tmp_path / "client.sqlite") as remote:
        got = remote.simulate(designs)
        assert [r.status for r in got] == [r.status for r in expected]
        assert all(
            _same(g.performance, e.performance)
            for g, e in zip(got, expected, strict=True)
        )
        again = remote.simulate(designs)  # served from the server's store
        assert all(r.cached for r in again)
        assert remote.store.count() == len(designs)  # each result stored once


@pytest.mark.slow
def test_server_restarted_mid_batch(server, pool, tmp_path):
    """The server is killed while it answers a batch and started again on the
    same port and store: the client retries with its idempotency keys and
    finishes with the same results as the local pool, each stored once."""
    local = Simulator(
        _fast_op2(), "generic", backend=pool, store=SimulationStore(tmp_path / "l")
    )
    designs = random_designs(local.circuit, 300, seed=4)
    expected = local.simulate(designs)
    outcome: dict = {}

    def run() -> None:
        with _remote(server, tmp_path / "client.sqlite") as remote:
            remote._remote.batch = 25
            outcome["results"] = remote.simulate(designs)
            outcome["retries"] = remote._remote.retries
            outcome["stored"] = remote.store.count()

    client = threading.Thread(target=run)
    client.start()
    deadline = time.monotonic() + 120
    while server.stored() < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    done_at_kill = server.stored()
    server.kill()
    server.start()
    client.join(timeout=300)
    assert not client.is_alive()
    assert done_at_kill < len(designs)  # the kill came mid-batch
    assert outcome["retries"] >= 1
    got = outcome["results"]
    assert [g.params for g in got] == [e.params for e in expected]
    assert all(
        _same(g.performance, e.performance) for g, e in zip(got, expected, strict=True)
    )
    assert outcome["stored"] == len(designs)
    assert server.stored() == len(designs)  # nothing simulated twice


@pytest.mark.slow
def test_eight_concurrent_clients_each_result_once(server, tmp_path):
    """8 clients x 200 designs (half of them shared by all): every client gets
    each of its results once, and the server simulates each design once."""
    circuit = _fast_op2()
    shared = random_designs(circuit, 100, seed=100)
    outcomes: dict[int, tuple] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            designs = shared + random_designs(circuit, 100, seed=i)
            with _remote(server, tmp_path / f"client{i}.sqlite") as remote:
                results = remote.simulate(designs)
                outcomes[i] = (designs, results, remote.store.count())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    assert not errors, errors
    for designs, results, stored in outcomes.values():
        assert len(results) == 200 and stored == 200
        assert [r.params for r in results] == [
            circuit.check_design(dict(d)) for d in designs
        ]
        assert all(r.ok for r in results)
    assert len(outcomes) == 8
    assert server.stored() == 100 + 8 * 100
