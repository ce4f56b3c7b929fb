"""A pool of ngspice worker processes with per-simulation timeouts.

A worker that hangs past its job's timeout is killed; one that dies (segfault,
SIGKILL, fatal ngspice error) is replaced. Either way the job comes back as a
``RawResult`` with a failure status and the pool keeps going.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from sim.job import SimulationJob
from sim.result import RawResult, Status
from sim.worker import worker_main

_START_TIMEOUT = 120.0  # seconds for a worker to load ngspice


class SimulatorUnavailable(RuntimeError):
    """ngspice's shared library could not be started in a worker."""


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    conn: Connection
    busy_with: int | None = None  # index of the job it runs
    deadline: float = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid or -1


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
        self.n_workers = n_workers or default_workers()
        self.timeout = timeout
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self.restarts = 0
        for _ in range(self.n_workers):
            self._workers.append(self._launch())
        for worker in self._workers:
            self._await_ready(worker)

    # -- lifecycle -------------------------------------------------------------
    def _launch(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=worker_main, args=(child,), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _await_ready(self, worker: _Worker) -> None:
        ready = worker.conn.poll(_START_TIMEOUT)
        try:
            tag, detail = worker.conn.recv() if ready else (None, "no answer")
        except (EOFError, OSError):
            tag, detail = None, "the worker died while starting"
        if tag != "ready":
            worker.process.kill()
            raise SimulatorUnavailable(
                f"ngspice could not be started in a worker process ({detail}); "
                "install the Debian packages ngspice, libngspice0 and "
                "libngspice0-dev (or set NGSPICE_LIBRARY_PATH to libngspice.so.0)"
            )

    def _replace(self, worker: _Worker) -> _Worker:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()
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
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=2)
            worker.conn.close()
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
            handles = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            wait(handles, timeout=max(0.0, wait_for))
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
        if worker.conn.poll():
            try:
                job_id, result, exiting = worker.conn.recv()
            except (EOFError, OSError):
                job_id, result, exiting = index, None, True
            if result is not None and job_id == index:
                worker.busy_with = None
                finish(index, result)
                if exiting:
                    self._replace(worker)
                return
        if not worker.process.is_alive():
            code = worker.process.exitcode
            worker.busy_with = None
            self._replace(worker)
            finish(index, RawResult(Status.CRASH, f"worker died (exit code {code})"))
        elif time.monotonic() >= worker.deadline:
            worker.busy_with = None
            self._replace(worker)
            message = f"simulation exceeded its timeout of {self.timeout:g} s"
            finish(index, RawResult(Status.TIMEOUT, message, elapsed=self.timeout))
