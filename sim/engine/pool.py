"""A pool of ngspice worker processes with per-simulation timeouts.

Workers are ``python -m sim.engine.worker`` processes
(``sim.engine.worker.start_worker``): starting one never re-runs the caller's
``__main__``. A worker that hangs past its job's timeout is killed; one that
dies (segfault, SIGKILL, fatal ngspice error) is replaced. Either way the job
comes back as a ``RawResult`` with a failure status and the pool keeps going.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait

from sim.engine.job import SimulationJob
from sim.engine.result import RawResult, Status
from sim.engine.worker import WorkerProcess, start_worker
from sim.errors import UserInputError

_START_TIMEOUT = 120.0  # seconds for a worker to load ngspice


class SimulatorUnavailable(RuntimeError):
    """A simulation worker could not start (the message says why)."""


@dataclass
class _Worker:
    handle: WorkerProcess
    busy_with: int | None = None  # index of the job it runs
    deadline: float = 0.0  # time.monotonic() by which the job must finish

    @property
    def conn(self):
        return self.handle.conn

    @property
    def pid(self) -> int:
        return self.handle.pid


WORKERS_PER_CORE = 4  # the most workers a pool starts per usable core


def capped_workers(requested: int) -> int:
    """``requested`` workers, at most ``WORKERS_PER_CORE`` per usable core
    (a warning line on stderr when capped); a ``UserInputError`` below 1."""
    if requested < 1:
        raise UserInputError(f"--workers must be at least 1, got {requested}")
    cap = WORKERS_PER_CORE * default_workers()
    if requested > cap:
        sys.stderr.write(
            f"warning: --workers {requested} capped at {cap} "
            f"({WORKERS_PER_CORE} per core on {default_workers()} cores)\n"
        )
        return cap
    return requested


def default_workers() -> int:
    """Number of workers used when none is given: the usable cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class SimulationPool:
    """``n_workers`` persistent ngspice processes.

    Use as a context manager; ``map`` runs jobs and returns results in order.
    ``timeout`` is per simulation, in seconds.
    """

    def __init__(self, n_workers: int | None = None, timeout: float = 60.0) -> None:
        self.n_workers = capped_workers(n_workers or default_workers())
        self.timeout = timeout
        self._workers: list[_Worker] = []
        self.restarts = 0
        try:
            for _ in range(self.n_workers):
                self._workers.append(self._launch())
            for worker in self._workers:
                self._await_ready(worker)
        except BaseException:
            self.close()
            raise

    # -- lifecycle -------------------------------------------------------------
    def _launch(self) -> _Worker:
        try:
            return _Worker(start_worker())
        except OSError as error:
            raise SimulatorUnavailable(
                f"a simulation worker could not be started: {error}"
            ) from None

    def _await_ready(self, worker: _Worker) -> None:
        """Wait for the worker's hello; raise with its real error if none comes."""
        ready = worker.conn.poll(_START_TIMEOUT)
        try:
            tag, detail = worker.conn.recv() if ready else (None, None)
        except (EOFError, OSError):
            tag, detail = None, None
        if tag == "ready":
            return
        code = worker.handle.stop(grace=0.0 if ready else 5.0)
        stderr = worker.handle.stderr_tail()
        if tag == "failed":
            # The worker ran and ngspice's library did not load: say so and
            # what the library reported.
            reason = f"ngspice could not be loaded: {detail}"
            hint = (
                "; install the Debian packages ngspice, libngspice0 and "
                "libngspice0-dev (or set NGSPICE_LIBRARY_PATH to libngspice.so.0)"
            )
        elif not ready:
            reason = f"no answer within {_START_TIMEOUT:g} s"
            hint = ""
        else:
            reason = f"it exited with code {code}"
            hint = ""
        tail = f"\n--- worker stderr ---\n{stderr}" if stderr else ""
        raise SimulatorUnavailable(
            f"a simulation worker could not start: {reason}{hint}{tail}"
        )

    def _replace(self, worker: _Worker) -> _Worker:
        worker.handle.stop(grace=0.0)
        fresh = self._launch()
        self._await_ready(fresh)
        self._workers[self._workers.index(worker)] = fresh
        self.restarts += 1
        return fresh

    def close(self) -> None:
        """Stop all workers."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self._workers:
            worker.handle.stop(grace=2.0)
        self._workers = []

    def __enter__(self) -> SimulationPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def worker_pids(self) -> list[int]:
        return [worker.pid for worker in self._workers]

    # -- running ---------------------------------------------------------------
    def map(
        self,
        jobs: Sequence[SimulationJob],
        on_result: Callable[[int, RawResult], None] | None = None,
    ) -> list[RawResult]:
        """Run ``jobs``; return their results in order.

        ``on_result(index, result)`` is called as each one finishes, so a
        caller can persist results before the whole batch is done.
        """
        results: list[RawResult | None] = [None] * len(jobs)
        pending = deque(range(len(jobs)))

        def finish(index: int, result: RawResult) -> None:
            results[index] = result
            if on_result is not None:
                on_result(index, result)

        done: list[tuple[int, RawResult]] = []
        while pending or any(w.busy_with is not None for w in self._workers):
            self._dispatch(jobs, pending)
            busy = [w for w in self._workers if w.busy_with is not None]
            wait_for = min(w.deadline for w in busy) - time.monotonic()
            # A worker that dies closes its socket: its conn becomes readable.
            wait([w.conn for w in busy], timeout=max(0.0, wait_for))
            for worker in busy:
                self._collect(worker, jobs, lambda i, r: done.append((i, r)))
            # Give idle workers their next job before the caller's per-result
            # work (figures, store), so ngspice never waits on Python.
            self._dispatch(jobs, pending)
            for index, result in done:
                finish(index, result)
            done.clear()
        return [r for r in results if r is not None]

    def _dispatch(self, jobs: Sequence[SimulationJob], pending: deque) -> None:
        """Send the next pending job to every idle worker."""
        for worker in self._workers:
            if worker.busy_with is None and pending:
                index = pending.popleft()
                try:
                    worker.conn.send((index, jobs[index]))
                except (OSError, BrokenPipeError):
                    pending.appendleft(index)
                    self._replace(worker)
                    continue
                worker.busy_with = index
                worker.deadline = time.monotonic() + self.timeout

    def _collect(self, worker: _Worker, jobs, finish) -> None:
        index = worker.busy_with
        assert index is not None
        dead = False
        if worker.conn.poll():
            try:
                job_id, result, exiting = worker.conn.recv()
            except (EOFError, OSError):
                job_id, result, exiting, dead = index, None, True, True
            if result is not None and job_id == index:
                worker.busy_with = None
                finish(index, result)
                if exiting:
                    self._replace(worker)
                return
        if dead or not worker.handle.is_alive():
            code = worker.handle.stop(grace=5.0)
            worker.busy_with = None
            self._replace(worker)
            finish(index, RawResult(Status.CRASH, f"worker died (exit code {code})"))
        elif time.monotonic() >= worker.deadline:
            worker.busy_with = None
            self._replace(worker)
            message = f"simulation exceeded its timeout of {self.timeout:g} s"
            finish(index, RawResult(Status.TIMEOUT, message, elapsed=self.timeout))
