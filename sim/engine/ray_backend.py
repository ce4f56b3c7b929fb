"""Simulations spread over Ray actors (``--sim-backend ray``).

Each actor owns a one-worker local pool (built by the ``local_pool`` function
``sim.engine.backend.make_backend`` hands over, so this module imports no
backend): the same ``python -m sim.engine.worker`` ngspice process,
per-simulation timeout and crash recovery as the local pool, so results are
the same. The driver keeps up to ``DEPTH`` jobs
queued per actor; when an actor dies (its node lost, the process killed) its
jobs go to a fresh actor and each result is still delivered exactly once.
Results come back to the driver, which alone writes the simulation store.

Needs Ray: ``pip install -e .[ray]``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import ray
from ray.exceptions import RayActorError

from sim.engine.job import SimulationJob
from sim.engine.result import RawResult, Status
from sim.engine.worker import SOURCE_ROOT

DEPTH = 2  # jobs queued per actor, so an actor never waits on the driver
MAX_ATTEMPTS = 3  # actors that may die under one job before it is a CRASH


class SimulationActor:
    """A Ray actor holding one persistent ngspice worker (a 1-worker pool)."""

    def __init__(self, local_pool: Callable[[float], Any], timeout: float) -> None:
        self._pool = local_pool(timeout)

    def run(self, job: SimulationJob) -> RawResult:
        """One job's result; timeouts and ngspice crashes come back as statuses."""
        return self._pool.map([job])[0]

    def pid(self) -> int:
        """The actor's process id (tests kill it)."""
        return os.getpid()


class RayBackend:
    """``SimulationBackend`` over ``n_workers`` Ray actors.

    ``address``: an existing cluster (``"auto"``, ``"ray://host:10001"``);
    None starts a local Ray instance with ``n_workers`` CPUs if Ray is not
    running yet. ``timeout``: seconds per simulation, enforced in each actor.
    ``local_pool(timeout)``: the one-worker ``SimulationBackend`` each actor
    runs its jobs on (a module-level function: Ray pickles it by name).
    """

    def __init__(
        self,
        local_pool: Callable[[float], Any],
        n_workers: int | None = None,
        timeout: float = 60.0,
        address: str | None = None,
    ) -> None:
        self._local_pool = local_pool
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            # Ray's workers import ``sim`` from this source tree when jaxsizer
            # is not installed in their environment (a cluster's nodes need
            # ``pip install jaxsizer`` or the same path).
            path = os.pathsep.join(
                p for p in (str(SOURCE_ROOT), os.environ.get("PYTHONPATH", "")) if p
            )
            options: dict = {
                "include_dashboard": False,
                "log_to_driver": False,
                "runtime_env": {"env_vars": {"PYTHONPATH": path}},
            }
            if address is None:
                from sim.engine.pool import default_workers

                options["num_cpus"] = n_workers or default_workers()
            ray.init(address=address, **options)
        if n_workers is None:
            n_workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.n_workers = n_workers
        self.timeout = timeout
        self.restarts = 0  # actors replaced after dying
        self._actor_class = ray.remote(num_cpus=1, max_restarts=0)(SimulationActor)
        self._actors = [self._start_actor() for _ in range(n_workers)]
        # Wait for every actor's ngspice: a start failure surfaces here.
        ray.get([actor.pid.remote() for actor in self._actors])

    def _start_actor(self):
        return self._actor_class.remote(self._local_pool, self.timeout)

    @property
    def actor_pids(self) -> list[int]:
        """Process ids of the current actors."""
        return ray.get([actor.pid.remote() for actor in self._actors])

    def map(
        self,
        jobs: Sequence[SimulationJob],
        on_result: Callable[[int, RawResult], None] | None = None,
    ) -> list[RawResult]:
        """Results of ``jobs`` in order; ``on_result(index, result)`` once per job."""
        results: list[RawResult | None] = [None] * len(jobs)
        attempts = [0] * len(jobs)
        pending = deque(range(len(jobs)))
        in_flight: dict = {}  # ObjectRef -> (actor slot, job index)
        load = [0] * len(self._actors)

        def submit() -> None:
            for slot, actor in enumerate(self._actors):
                while load[slot] < DEPTH and pending:
                    index = pending.popleft()
                    attempts[index] += 1
                    in_flight[actor.run.remote(jobs[index])] = (slot, index)
                    load[slot] += 1

        def replace(slot: int) -> None:
            """A fresh actor in ``slot``; the dead one's jobs are requeued."""
            ray.kill(self._actors[slot], no_restart=True)
            self._actors[slot] = self._start_actor()
            self.restarts += 1
            for ref, (other, index) in list(in_flight.items()):
                if other == slot:
                    del in_flight[ref]
                    requeue(index)
            load[slot] = 0

        def requeue(index: int, why: str = "") -> None:
            if attempts[index] >= MAX_ATTEMPTS:
                message = f"{attempts[index]} simulation actors died under it: {why}"
                deliver(index, RawResult(Status.CRASH, message[:500]))
            else:
                pending.appendleft(index)

        def deliver(index: int, result: RawResult) -> None:
            if results[index] is None:
                results[index] = result
                if on_result is not None:
                    on_result(index, result)

        submit()
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            ref = ready[0]
            if ref not in in_flight:  # requeued by a replace() in this round
                continue
            slot, index = in_flight.pop(ref)
            try:
                result = ray.get(ref)
            except RayActorError as error:
                requeue(index, str(error).splitlines()[0] if str(error) else "")
                replace(slot)
            else:
                load[slot] -= 1
                submit()  # keep the actors busy before the caller's work
                deliver(index, result)
            submit()
        return [r for r in results if r is not None]

    def close(self) -> None:
        """Stop the actors (and the local Ray instance if this backend started it)."""
        for actor in self._actors:
            ray.kill(actor, no_restart=True)
        self._actors = []
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()

    def __enter__(self) -> RayBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
