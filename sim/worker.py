"""Worker process: one persistent ngspice session answering jobs over a pipe."""

from __future__ import annotations

import os
import tempfile
from multiprocessing.connection import Connection


def worker_main(conn: Connection) -> None:
    """Serve ``(job_id, SimulationJob)`` messages until ``None`` arrives.

    Replies ``(job_id, RawResult, exiting)``. After a fatal ngspice error the worker
    answers and exits, so the pool starts a fresh one.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # ngspice writes model-check logs (e.g. bsim4v5.out) into the working
    # directory: keep them out of the user's.
    workdir = tempfile.TemporaryDirectory(prefix="jaxsizer-worker-")
    os.chdir(workdir.name)
    from sim.ngspice_session import NgspiceSession

    try:
        session = NgspiceSession()
    except Exception as error:  # noqa: BLE001 - reported to the parent
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        job_id, job = message
        result = session.run(job)
        conn.send((job_id, result, session.fatal))
        if session.fatal:
            return
