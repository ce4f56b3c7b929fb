"""A simulation server: the circuits and the PDK stay here, clients send numbers.

    python -m sim.commands.server --host 127.0.0.1 --port 8000 --token-file token.txt \\
        --circuits op2:generic,op2:sky130

``POST /v1/simulate`` takes ``{circuit, technology, corner, temperature,
designs: [{parameter: SI value}], measures}`` and answers each design's status
and figures. Only the ``--circuits`` set is served; a request names a circuit,
a technology, a corner and figures by name and gives finite numbers within the
declared parameter bounds, so nothing a client sends reaches ngspice as text
(ngspice's ``shell`` command would run anything). Every request needs
``Authorization: Bearer <token>`` (compared in constant time) and an
``Idempotency-Key``: a retried request gets the same answer, never a second
simulation. Results are served from the server's own simulation store, keyed
like every store (``Simulator.key``), so a restarted server recomputes nothing
that finished. Needs ``pip install -e .[server]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import math
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.engine.backend import BackendConfig, SimulationBackend, make_backend
from sim.errors import OneLineArgumentParser, UserInputError, positive_int
from sim.format.circuit import Circuit, load_circuit
from sim.format.technology import Technology, load_technology
from sim.sizing.simulator import Simulator
from sim.storage.store import SimulationStore

API = "/v1"
NAME_PATTERN = r"^[A-Za-z0-9_]{1,64}$"  # circuit, technology, corner, measure
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
TEMPERATURE_RANGE = (-60.0, 200.0)  # °C accepted in a request
MAX_SIMULATORS = 32  # (circuit, corner, temperature, measures) kept ready
MAX_REMEMBERED = 4096  # idempotency keys whose answers are kept


class SimulateRequest(BaseModel):
    """One batch: designs of one served circuit at one corner and temperature.

    ``designs``: parameter name -> SI value (missing ones take the default);
    ``measures``: the figures wanted (None: all of the circuit's).
    """

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)

    circuit: str = Field(pattern=NAME_PATTERN)
    technology: str = Field(pattern=NAME_PATTERN)
    corner: str | None = Field(default=None, pattern=NAME_PATTERN)
    temperature: float = 27.0
    designs: list[dict[str, float]] = Field(min_length=1)
    measures: list[str] | None = None


@dataclass(frozen=True)
class ServerConfig:
    """What the server serves and its limits.

    circuits: (circuit, technology) pairs served; workers: ngspice processes;
    timeout: seconds per simulation; request_timeout: seconds a request waits
    for its batch (a retry with the same key collects it later); max_batch:
    designs per request; max_request_bytes: size of a request body.
    """

    token: bytes
    circuits: tuple[tuple[str, str], ...] = (("op2", "generic"),)
    workers: int | None = None
    timeout: float = 60.0
    request_timeout: float = 300.0
    max_batch: int = 256
    max_request_bytes: int = 1_000_000
    store: Path | None = None


def _finite_or_text(value: float) -> float | str:
    """JSON has no NaN/inf: send them as "nan", "inf", "-inf"."""
    return value if math.isfinite(value) else str(value)


def _pydantic_message(error: ValidationError) -> str:
    """One line per problem: ``field.path: message``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


class SimulationService:
    """Validates batches and runs them, one at a time, on one worker pool.

    All ngspice and store work happens in a single thread (the pool and the
    SQLite store are not shared between threads); the pool runs each batch's
    simulations in parallel.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._served: dict[tuple[str, str], tuple[Circuit, Technology]] = {}
        for circuit_name, tech_name in config.circuits:
            technology = load_technology(tech_name)
            circuit = load_circuit(circuit_name, technology)
            self._served[(circuit.name, technology.name)] = (circuit, technology)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="jaxsizer-sim")
        self._simulators: OrderedDict[tuple, Simulator] = OrderedDict()
        self._pool: SimulationBackend | None = None
        self._store: SimulationStore | None = None
        self._answers: OrderedDict[str, tuple[str, Future]] = OrderedDict()
        self._lock = threading.Lock()

    # -- what is served --------------------------------------------------------
    def describe(self) -> list[dict[str, Any]]:
        """The served circuits with their corners, parameters and figures."""
        return [
            {
                "circuit": circuit.name,
                "technology": technology.name,
                "corners": list(technology.corners),
                "default_corner": technology.default_corner,
                "parameters": {
                    p.name: {
                        "low": p.low,
                        "high": p.high,
                        "default": p.default,
                        "unit": p.unit,
                    }
                    for p in circuit.parameters
                },
                "measures": [m.name for m in circuit.measures],
            }
            for circuit, technology in self._served.values()
        ]

    def validate(self, request: SimulateRequest) -> tuple[tuple, list[dict]]:
        """The simulator key and checked designs of ``request``.

        Raises ``LookupError`` (not served) or ``UserInputError`` (bad value).
        """
        served = self._served.get((request.circuit, request.technology))
        if served is None:
            names = ", ".join(f"{c}:{t}" for c, t in self._served)
            raise LookupError(
                f"circuit {request.circuit!r} on technology {request.technology!r} "
                f"is not served here; served: {names}"
            )
        circuit, technology = served
        corner = request.corner or technology.default_corner
        if corner not in technology.corners:
            raise UserInputError(
                f"corner {corner!r} is not a corner of {technology.name}; "
                f"use one of {', '.join(technology.corners)}"
            )
        low, high = TEMPERATURE_RANGE
        if not low <= request.temperature <= high:
            raise UserInputError(
                f"temperature {request.temperature:g} °C is outside [{low:g}, {high:g}]"
            )
        if len(request.designs) > self.config.max_batch:
            raise UserInputError(
                f"a batch of {len(request.designs)} designs exceeds the limit of "
                f"{self.config.max_batch}; split it"
            )
        known = [m.name for m in circuit.measures]
        measures = tuple(known)
        if request.measures is not None:
            unknown = sorted(set(request.measures) - set(known))
            if unknown or not request.measures:
                raise UserInputError(
                    f"unknown measures {unknown} of {circuit.name}; "
                    f"its measures are {', '.join(known)}"
                )
            measures = tuple(m for m in known if m in request.measures)
        checked = []
        for i, design in enumerate(request.designs):
            try:
                checked.append(circuit.check_design(dict(design)))
            except UserInputError as error:
                raise UserInputError(f"designs[{i}]: {error}") from None
        key = (circuit.name, technology.name, corner, request.temperature, measures)
        return key, checked

    # -- running ---------------------------------------------------------------
    def submit(self, idempotency_key: str, body: bytes, request: SimulateRequest):
        """The future answer of ``request``: the same future for a repeated key.

        A key reused with a different body is a ``UserInputError``.
        """
        simulator_key, designs = self.validate(request)
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            known = self._answers.get(idempotency_key)
            if known is not None:
                if known[0] != digest:
                    raise UserInputError(
                        "this Idempotency-Key was used for a different request"
                    )
                return known[1]
            future = self._executor.submit(self._run, simulator_key, designs)
            self._answers[idempotency_key] = (digest, future)
            while len(self._answers) > MAX_REMEMBERED:
                oldest, (_, old) = next(iter(self._answers.items()))
                if not old.done():
                    break
                del self._answers[oldest]
            return future

    def _simulator(self, key: tuple) -> Simulator:
        """A ready simulator for ``key`` (runs in the simulation thread)."""
        simulator = self._simulators.get(key)
        if simulator is not None:
            self._simulators.move_to_end(key)
            return simulator
        if self._pool is None:
            self._pool = make_backend(
                BackendConfig(workers=self.config.workers, timeout=self.config.timeout)
            )
            self._store = SimulationStore(self.config.store)
        circuit_name, tech_name, corner, temperature, measures = key
        circuit, technology = self._served[(circuit_name, tech_name)]
        if measures != tuple(m.name for m in circuit.measures):
            circuit = circuit.restricted(measures)
        simulator = Simulator(
            circuit,
            technology,
            corner,
            temperature,
            store=self._store,
            backend=self._pool,
        )
        self._simulators[key] = simulator
        if len(self._simulators) > MAX_SIMULATORS:
            self._simulators.popitem(last=False)
        return simulator

    def _run(self, key: tuple, designs: Sequence[dict]) -> list[dict[str, Any]]:
        simulator = self._simulator(key)
        answers = []
        for evaluation in simulator.simulate(designs):
            answers.append(
                {
                    "key": simulator.key(evaluation.params),
                    "status": evaluation.status.value,
                    "message": evaluation.message,
                    "performance": {
                        name: _finite_or_text(value)
                        for name, value in evaluation.performance.items()
                    },
                    "elapsed": evaluation.elapsed,
                    "cached": evaluation.cached,
                }
            )
        return answers

    def close(self) -> None:
        """Finish the running batch, then stop the workers and the store."""
        self._executor.submit(self._close_in_thread).result()
        self._executor.shutdown()

    def _close_in_thread(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._store is not None:
            self._store.close()


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes (413)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(413, f"request body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"request body larger than {limit} bytes")
    return bytes(body)


def create_app(config: ServerConfig) -> FastAPI:
    """The FastAPI application serving ``config``."""
    if not config.token:
        raise UserInputError("the server needs a non-empty token")
    service = SimulationService(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await asyncio.to_thread(service.close)

    # The API description is served behind the token like the rest.
    app = FastAPI(
        title="jaxsizer simulation server",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service

    def authorize(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        good = hmac.compare_digest(token.strip().encode(), config.token)
        if scheme.lower() != "bearer" or not good:
            raise HTTPException(
                401,
                "missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.get(f"{API}/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> dict[str, Any]:
        authorize(request)
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        authorize(request)
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title)

    @app.get(f"{API}/circuits")
    def circuits(request: Request) -> dict[str, Any]:
        authorize(request)
        return {"circuits": service.describe(), "max_batch": config.max_batch}

    @app.post(f"{API}/simulate")
    async def simulate(request: Request) -> dict[str, Any]:
        authorize(request)
        key = request.headers.get("idempotency-key", "")
        if not IDEMPOTENCY_KEY.match(key):
            raise HTTPException(
                400, "an Idempotency-Key header of 8-128 letters, digits, - or _"
            )
        body = await _read_body(request, config.max_request_bytes)
        try:
            parsed = SimulateRequest.model_validate_json(body)
            future = service.submit(key, body, parsed)
        except ValidationError as error:
            raise HTTPException(422, _pydantic_message(error)) from None
        except LookupError as error:
            raise HTTPException(404, str(error.args[0])) from None
        except UserInputError as error:
            raise HTTPException(422, str(error)) from None
        try:
            results = await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(future)), config.request_timeout
            )
        except TimeoutError:
            raise HTTPException(
                504,
                f"the batch did not finish within {config.request_timeout:g} s; "
                "retry with the same Idempotency-Key to collect it",
            ) from None
        return {"results": results}

    return app


def read_token(path: Path) -> bytes:
    """The token in ``path`` (surrounding whitespace removed); refused when
    the file is readable or writable by its group or others (``chmod 600``)."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise UserInputError(f"cannot read the token file {path}: {error}") from None
    if mode & 0o077:
        raise UserInputError(
            f"the token file {path} is open to its group or others (mode "
            f"{stat.S_IMODE(mode):04o}): chmod 600 {path}"
        )
    try:
        token = path.read_text().strip()
    except OSError as error:
        raise UserInputError(f"cannot read the token file {path}: {error}") from None
    if not token:
        raise UserInputError(f"the token file {path} is empty")
    return token.encode()


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in text.split(","):
        circuit, sep, tech = item.strip().partition(":")
        if not sep or not circuit or not tech:
            raise argparse.ArgumentTypeError(
                f"expected circuit:technology[,...], got {item!r}"
            )
        pairs.append((circuit, tech))
    return tuple(pairs)


def main(argv: list[str] | None = None) -> None:
    """Entry of ``python -m sim.commands.server``."""
    parser = OneLineArgumentParser(
        prog="python -m sim.commands.server", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default loopback)"
    )
    parser.add_argument("--port", type=int, default=8000, help="TCP port")
    parser.add_argument(
        "--token-file",
        type=Path,
        required=True,
        metavar="PATH",
        help="file holding the bearer token clients must send",
    )
    parser.add_argument(
        "--circuits",
        type=_pairs,
        default=(("op2", "generic"),),
        help="served circuit:technology pairs, comma separated (default op2:generic)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="ngspice workers (default: cores)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="s per simulation")
    parser.add_argument(
        "--request-timeout", type=float, default=300.0, help="s per request"
    )
    parser.add_argument(
        "--max-batch", type=positive_int, default=256, help="designs per request"
    )
    parser.add_argument(
        "--max-request-bytes",
        type=positive_int,
        default=1_000_000,
        help="request body size limit (bytes)",
    )
    parser.add_argument("--store", type=Path, default=None, help="SQLite store")
    args = parser.parse_args(argv)
    try:
        config = ServerConfig(
            token=read_token(args.token_file),
            circuits=args.circuits,
            workers=args.workers,
            timeout=args.timeout,
            request_timeout=args.request_timeout,
            max_batch=args.max_batch,
            max_request_bytes=args.max_request_bytes,
            store=args.store,
        )
        app = create_app(config)
    except UserInputError as error:
        parser.exit(2, f"error: {' '.join(str(error).split())}\n")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
