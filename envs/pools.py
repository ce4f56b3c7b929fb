"""Simulation pools for environments: shared per process, or owned.

``gymnasium.make(id, pool="shared")`` runs the env's simulations on a pool
created on first use and closed at interpreter exit, instead of starting (and
closing) a private pool per env. Unlike a pool object, the string survives
gymnasium's deep copy of an env spec's kwargs (``env.spec.make()``).

Inside a daemonic process (the workers of gymnasium's ``AsyncVectorEnv``)
multiprocessing refuses to start children; there the env starts its pool
with the daemon flag lifted (``_children_allowed``) and closes it itself.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import os

from sim.engine.backend import BackendConfig, SimulationBackend, make_backend
from sim.errors import UserInputError

SHARED = "shared"
_pools: dict[tuple[int, int | None, float], SimulationBackend] = {}


@contextlib.contextmanager
def _children_allowed():
    """Let a daemonic process start the pool's worker processes.

    multiprocessing refuses children of daemons because a daemon may be killed
    without cleaning up. The pool's workers exit by themselves when their
    parent's end of the pipe closes, and the env closes its pool on
    ``close()``, so none outlives its parent for long.
    """
    process = mp.current_process()
    daemonic = process.daemon
    if daemonic:
        process.daemon = False
    try:
        yield
    finally:
        if daemonic:
            process.daemon = True


def in_daemon() -> bool:
    """Whether this process is daemonic (as ``AsyncVectorEnv`` workers are)."""
    return bool(mp.current_process().daemon)


def _local_pool(n_workers: int | None, timeout: float) -> SimulationBackend:
    """A local pool (``sim.engine.backend``, the one place pools are made)."""
    return make_backend(BackendConfig(workers=n_workers, timeout=timeout))


def shared_pool(n_workers: int | None, timeout: float) -> SimulationBackend:
    """The process's pool with ``n_workers`` workers (created on first use;
    a forked child gets its own, never its parent's)."""
    key = (os.getpid(), n_workers, timeout)
    if key not in _pools:
        if not _pools:
            atexit.register(close_shared_pools)
        with _children_allowed():
            _pools[key] = _local_pool(n_workers, timeout)
    return _pools[key]


def close_shared_pools() -> None:
    """Close this process's shared pools (also run at exit)."""
    for key in [k for k in _pools if k[0] == os.getpid()]:
        _pools.pop(key).close()


def resolve_pool(
    pool: SimulationBackend | str | None, n_workers: int | None, timeout: float
) -> tuple[SimulationBackend | None, bool]:
    """A backend object from the ``pool`` keyword, and whether the env owns it.

    A backend (``sim.engine.backend``: a local pool, Ray, ...) is shared as given.
    None: the simulator starts its own pool on first use, except in a daemonic
    process, where one is started here and owned by the env.
    """
    if pool is not None and not isinstance(pool, str):
        if not callable(getattr(pool, "map", None)):
            raise UserInputError(
                f"pool must be a simulation backend, None or 'shared', got {pool!r}"
            )
        return pool, False
    if pool == SHARED:
        return shared_pool(n_workers, timeout), False
    if pool is None:
        if not in_daemon():
            return None, False
        with _children_allowed():
            return _local_pool(n_workers, timeout), True
    raise UserInputError(
        f"pool must be a simulation backend, None or 'shared', got {pool!r}"
    )
