"""The one seam for where simulations run.

A backend runs ``sim.engine.job.SimulationJob``s (a deck, a sizing, the analyses and
vectors to read) and returns their ``sim.engine.result.RawResult``s; everything
around it (rendering decks, figures, the store) stays in ``Simulator``, on
the driver. Implementations:

- ``local`` (default): ``sim.engine.pool.SimulationPool``, persistent ngspice
  worker processes on this machine;
- ``ray``: the same worker code in Ray actors (``sim.engine.ray_backend``), for a
  cluster (``pip install -e .[ray]``);
- ``remote``: a ``sim.commands.server`` somewhere else that holds the circuits and
  the PDK. It simulates whole designs, not jobs (clients send numbers, never
  netlists): ``Simulator(..., backend=BackendConfig(kind="remote", ...))``
  sends its designs there through ``open_remote`` (``sim.engine.remote``) and still
  writes the results into its own store.

``make_backend`` and ``open_remote`` are the only places a backend is
constructed: this module imports the three (Ray's and the remote's inside the
function that needs them, as those need optional packages); none of them
imports this one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sim.engine.job import SimulationJob
from sim.engine.pool import SimulationPool
from sim.engine.result import RawResult
from sim.errors import UserInputError

BACKENDS = ("local", "ray", "remote")


class SimulationBackend(Protocol):
    """Runs simulation jobs; ``n_workers`` is how many run at once."""

    n_workers: int

    def map(
        self,
        jobs: Sequence[SimulationJob],
        on_result: Callable[[int, RawResult], None] | None = None,
    ) -> list[RawResult]:
        """Results of ``jobs`` in order; ``on_result(index, result)`` as each
        one finishes (so the caller can store it at once)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class BackendConfig:
    """Where simulations run (the ``--sim-backend`` options).

    workers: simulations at once (default: this machine's cores, or the
    cluster's for Ray); timeout: seconds per simulation; ray_address: an
    existing Ray cluster (None: start a local one); server/token_env: the
    simulation server's URL and the environment variable holding its token.
    """

    kind: str = "local"
    workers: int | None = None
    timeout: float = 60.0
    ray_address: str | None = None
    server: str | None = None
    token_env: str = "JAXSIZER_TOKEN"

    def __post_init__(self) -> None:
        if self.kind not in BACKENDS:
            raise UserInputError(
                f"unknown simulation backend {self.kind!r}; use {', '.join(BACKENDS)}"
            )
        if self.workers is not None and self.workers < 1:
            raise UserInputError(f"workers must be >= 1, got {self.workers}")
        if not self.timeout > 0:
            raise UserInputError(f"timeout must be > 0 s, got {self.timeout}")
        if self.kind == "remote" and not self.server:
            raise UserInputError("the remote backend needs --server URL")


def make_backend(config: BackendConfig | None = None) -> SimulationBackend:
    """A job backend for ``config`` (default: the local pool)."""
    config = config or BackendConfig()
    if config.kind == "local":
        return SimulationPool(config.workers, config.timeout)
    if config.kind == "ray":
        try:
            from sim.engine.ray_backend import RayBackend
        except ImportError as error:
            raise UserInputError(
                f"the ray backend needs Ray: pip install -e .[ray] ({error})"
            ) from None
        return RayBackend(
            _one_worker_pool, config.workers, config.timeout, config.ray_address
        )
    raise UserInputError(
        "the remote backend simulates whole designs on its server: pass "
        "BackendConfig(kind='remote', server=URL) to Simulator"
    )


def _one_worker_pool(timeout: float) -> SimulationBackend:
    """The local pool of one Ray actor: one worker, ``timeout`` s per job."""
    return SimulationPool(1, timeout)


def open_remote(
    config: BackendConfig,
    circuit: str,
    technology: str,
    corner: str,
    temperature: float,
    measures: Sequence[str] | None = None,
):
    """A ``sim.engine.remote.RemoteSimulation`` of one served circuit (remote kind).

    ``temperature`` in °C; ``measures``: the figures wanted (None: all).
    """
    if config.kind != "remote":
        raise UserInputError(f"open_remote needs the remote backend, not {config.kind}")
    try:
        from sim.engine.remote import RemoteSimulation, token_from_env
    except ImportError as error:
        raise UserInputError(
            f"the remote backend needs httpx: pip install -e .[server] ({error})"
        ) from None
    assert config.server is not None  # checked in BackendConfig
    return RemoteSimulation(
        config.server,
        token_from_env(config.token_env),
        circuit,
        technology,
        corner,
        temperature,
        measures=measures,
        request_timeout=max(config.timeout, 600.0),
    )


def add_backend_options(parser) -> None:
    """The ``--sim-backend`` flags (one set for every command that simulates)."""
    parser.add_argument(
        "--sim-backend",
        choices=BACKENDS,
        default="local",
        help="where simulations run (sim.engine.backend)",
    )
    parser.add_argument("--ray-address", default=None, help="an existing Ray cluster")
    parser.add_argument("--server", default=None, help="simulation server URL (remote)")
    parser.add_argument(
        "--token-env",
        default="JAXSIZER_TOKEN",
        help="environment variable holding the server's token (remote)",
    )


def backend_from_args(args, timeout: float = 60.0) -> BackendConfig:
    """The ``BackendConfig`` of ``add_backend_options``'s flags, ``args.workers``
    workers and ``timeout`` seconds per simulation."""
    return BackendConfig(
        kind=args.sim_backend,
        workers=args.workers,
        timeout=timeout,
        ray_address=args.ray_address,
        server=args.server,
        token_env=args.token_env,
    )
