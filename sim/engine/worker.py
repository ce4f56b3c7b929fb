"""Worker process: one persistent ngspice session answering jobs over a socket.

A worker is started as ``python -m sim.engine.worker FD`` (``start_worker``): a fresh
interpreter that imports only this package, never the user's ``__main__``, so
an unguarded script, a script piped to ``python -`` and a notebook can all
simulate. The parent and the worker talk over a socket pair wrapped in
``multiprocessing.connection.Connection`` (pickled messages); the worker's
stderr goes to a temporary file that the parent reads when the worker fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

# The directory holding the ``sim`` package: the worker imports from here.
SOURCE_ROOT = Path(__file__).resolve().parents[2]
_STDERR_TAIL = 4000  # characters of a failed worker's stderr put in the error


def serve(conn: Connection) -> None:
    """Serve ``(job_id, SimulationJob)`` messages until ``None`` or EOF arrives.

    Replies ``("ready", pid)`` or ``("failed", reason)`` once, then
    ``(job_id, RawResult, exiting)`` per job. After a fatal ngspice error the
    worker answers and exits, so the pool starts a fresh one.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    workdir = tempfile.TemporaryDirectory(prefix="jaxsizer-worker-")
    enter_private_folder(Path(workdir.name))
    from sim.engine.ngspice_session import NgspiceSession

    try:
        session = NgspiceSession()
    except Exception as error:  # noqa: BLE001 - reported to the parent
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message is None:
            return
        job_id, job = message
        result = session.run(job)
        conn.send((job_id, result, session.fatal))
        if session.fatal:
            return


def enter_private_folder(root: Path) -> None:
    """Make ``root`` (a fresh 0700 folder) this process's home and working
    folder before ngspice loads.

    ngspice reads ``./.spiceinit`` or else the account's ``~/.spiceinit``
    (found through the password database, whatever ``$HOME`` says), looks up
    a relative include in the working folder first, and writes model-check
    logs there. The working folder ``root/cwd`` holds only our init file
    (``sim.engine.ngspice_session.init_script``), ``HOME`` is ``root/home``, and
    the variables naming other ngspice script folders are dropped.
    """
    from sim.engine.ngspice_session import INIT_FILE, init_script, private_env

    home, cwd = root / "home", root / "cwd"
    home.mkdir(mode=0o700)
    cwd.mkdir(mode=0o700)
    (cwd / INIT_FILE).write_text(init_script())
    environ = private_env(dict(os.environ), home)
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)


@dataclass
class WorkerProcess:
    """A started worker: its process, its end of the socket, its stderr file."""

    process: subprocess.Popen
    conn: Connection
    stderr: IO[bytes]
    final_stderr: str = ""  # the stderr tail, kept when the process stops

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def stderr_tail(self) -> str:
        """The last few thousand characters the worker wrote to stderr."""
        if self.stderr.closed:
            return self.final_stderr
        try:
            self.stderr.flush()
            size = os.fstat(self.stderr.fileno()).st_size
            start = max(0, size - _STDERR_TAIL)
            data = os.pread(self.stderr.fileno(), size - start, start)
        except (OSError, ValueError):
            return ""
        return data.decode("utf-8", "replace").strip()

    def stop(self, grace: float = 2.0) -> int | None:
        """Kill the process if it has not exited within ``grace`` seconds.

        Returns its exit code (negative: killed by that signal).
        """
        try:
            return self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            try:
                return self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - unkillable
                return None
        finally:
            self.conn.close()
            if not self.stderr.closed:
                self.final_stderr = self.stderr_tail()
                self.stderr.close()


def worker_command(fd: int) -> list[str]:
    """The command line of a worker that talks over file descriptor ``fd``."""
    return [sys.executable, "-m", "sim.engine.worker", str(fd)]


def start_worker() -> WorkerProcess:
    """Start ``python -m sim.engine.worker`` with this interpreter; do not wait for it.

    The worker runs in the directory above the ``sim`` package with that
    directory first on ``PYTHONPATH``, so it imports this very package and
    nothing from the caller's working directory.
    """
    ours, theirs = socket.socketpair()
    stderr = tempfile.TemporaryFile(prefix="jaxsizer-worker-stderr-")  # noqa: SIM115
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SOURCE_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env.setdefault("OMP_NUM_THREADS", "1")
    try:
        process = subprocess.Popen(
            worker_command(theirs.fileno()),
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=SOURCE_ROOT,
            env=env,
        )
    except OSError:
        ours.close()
        stderr.close()
        raise
    finally:
        theirs.close()
    return WorkerProcess(process, Connection(ours.detach()), stderr)


def main(argv: list[str] | None = None) -> None:
    """Entry of ``python -m sim.engine.worker FD`` (started by ``start_worker``)."""
    from sim.errors import OneLineArgumentParser

    parser = OneLineArgumentParser(
        prog="python -m sim.engine.worker", description=__doc__.splitlines()[0]
    )
    parser.add_argument("fd", type=int, help="socket file descriptor to serve")
    args = parser.parse_args(argv)
    serve(Connection(args.fd))


if __name__ == "__main__":
    main()
