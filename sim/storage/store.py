"""SQLite store of every simulation that ran (crash-safe, one row per key).

Each finished simulation is committed on its own, so a killed process loses
nothing that finished. A repeated request (same key) is answered from the
store unless the caller forces a new run. The key is a content hash of the
whole request (``sim.sizing.simulator``); a UNIQUE index keeps one row per key even
when several processes simulate the same designs at once: a newer result
replaces the row, except that a timeout or crash never replaces a result a
re-run would reproduce.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserInputError
from sim.paths import store_path

SCHEMA = """
CREATE TABLE IF NOT EXISTS simulations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    circuit TEXT NOT NULL,
    circuit_fingerprint TEXT NOT NULL,
    technology TEXT NOT NULL,
    corner TEXT NOT NULL,
    temperature REAL NOT NULL,
    params TEXT NOT NULL,
    performance TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    elapsed REAL NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS simulations_circuit
    ON simulations (circuit, technology, corner);
"""


# Outcomes a re-run may not reproduce: they never replace another outcome.
TRANSIENT_STATUSES = ("timeout", "crash")
_UNIQUE_KEY = "simulations_unique_key"


def _ensure_unique_keys(db: sqlite3.Connection) -> None:
    """Add the UNIQUE key index, first keeping only the newest row of each key
    (what ``latest`` served) in a store written before keys were unique.
    Runs in one write transaction, so concurrent openers do it once."""
    exists = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"
    if db.execute(exists, (_UNIQUE_KEY,)).fetchone():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if not db.execute(exists, (_UNIQUE_KEY,)).fetchone():
            db.execute(
                "DELETE FROM simulations WHERE id NOT IN"
                " (SELECT MAX(id) FROM simulations GROUP BY key)"
            )
            db.execute("DROP INDEX IF EXISTS simulations_key")
            db.execute(f"CREATE UNIQUE INDEX {_UNIQUE_KEY} ON simulations (key)")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def default_store_path() -> Path:
    """``$JAXSIZER_STORE``, else ``$JAXSIZER_HOME/simulations.sqlite``
    (``sim.paths``)."""
    return store_path()


# json.dumps(..., sort_keys=True) and the same refusing NaN/inf, made once.
_ENCODE = json.JSONEncoder(sort_keys=True).encode
_ENCODE_FINITE = json.JSONEncoder(sort_keys=True, allow_nan=False).encode


def _dumps(values: dict[str, float]) -> str:
    # JSON has no NaN/inf: store them as null / strings and restore on load.
    try:  # the usual all-finite case in one pass
        return _ENCODE_FINITE(values)
    except ValueError:
        pass
    clean = dict(values)
    for k, v in values.items():
        if isinstance(v, float) and not math.isfinite(v):
            clean[k] = None if math.isnan(v) else str(v)
    return _ENCODE(clean)


def _loads(text: str) -> dict[str, float]:
    return {
        k: (math.nan if v is None else float(v)) for k, v in json.loads(text).items()
    }


@dataclass(frozen=True)
class StoredSimulation:
    """One row of the store."""

    key: str
    circuit: str
    technology: str
    corner: str
    temperature: float
    params: dict[str, float]
    performance: dict[str, float]
    status: str
    message: str
    elapsed: float
    created: float


def _damage_is_user_error(method):
    """A store whose file is damaged (``sqlite3.DatabaseError``: corrupted
    pages, not a database) is reported in one line naming the file; the
    file is left as it is."""

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        # UnicodeDecodeError: SQLite's own message about a damaged file can
        # hold bytes of that file that are not UTF-8
        except (
            sqlite3.DatabaseError,
            json.JSONDecodeError,
            UnicodeDecodeError,
        ) as error:
            raise UserInputError(
                f"the simulation store {self.path} is damaged or unreadable "
                f"({error}): move it away (a new one starts empty) or restore it"
            ) from None

    return wrapped


class SimulationStore:
    """Append-only record of simulations in one SQLite file (WAL mode)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: every statement (or explicit BEGIN) commits.
            self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            _ensure_unique_keys(self._db)
        except (OSError, sqlite3.Error, UnicodeDecodeError) as error:
            # UnicodeDecodeError: SQLite's message about a damaged header can
            # quote bytes of the file that are not UTF-8
            raise UserInputError(
                f"cannot open the simulation store {self.path}: {error}"
            ) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SimulationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_damage_is_user_error
    def add(
        self,
        key: str,
        *,
        circuit: str,
        circuit_fingerprint: str,
        technology: str,
        corner: str,
        temperature: float,
        params: dict[str, float],
        performance: dict[str, float],
        status: str,
        message: str,
        elapsed: float,
    ) -> None:
        """Record one simulation and commit it at once (one row per key).

        A row already stored under ``key`` is replaced by this one, unless
        this one is a timeout or crash and the stored one is not.
        """
        transient = ", ".join(f"'{s}'" for s in TRANSIENT_STATUSES)
        self._db.execute(
            "INSERT INTO simulations (key, circuit, circuit_fingerprint, technology,"
            " corner, temperature, params, performance, status, message, elapsed,"
            " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET circuit = excluded.circuit,"
            " circuit_fingerprint = excluded.circuit_fingerprint,"
            " technology = excluded.technology, corner = excluded.corner,"
            " temperature = excluded.temperature, params = excluded.params,"
            " performance = excluded.performance, status = excluded.status,"
            " message = excluded.message, elapsed = excluded.elapsed,"
            " created = excluded.created"
            f" WHERE (excluded.status IN ({transient}))"
            f" <= (simulations.status IN ({transient}))",
            (
                key,
                circuit,
                circuit_fingerprint,
                technology,
                corner,
                temperature,
                _dumps(params),
                _dumps(performance),
                status,
                message,
                elapsed,
                time.time(),
            ),
        )

    def _row(self, row: tuple) -> StoredSimulation:
        return StoredSimulation(
            key=row[0],
            circuit=row[1],
            technology=row[2],
            corner=row[3],
            temperature=row[4],
            params=_loads(row[5]),
            performance=_loads(row[6]),
            status=row[7],
            message=row[8],
            elapsed=row[9],
            created=row[10],
        )

    _COLUMNS = (
        "key, circuit, technology, corner, temperature, params, performance,"
        " status, message, elapsed, created"
    )

    @_damage_is_user_error
    def latest(
        self, key: str, statuses: tuple[str, ...] | None = None
    ) -> StoredSimulation | None:
        """The newest stored simulation with ``key`` (optionally of given statuses)."""
        query = f"SELECT {self._COLUMNS} FROM simulations WHERE key = ?"
        args: list = [key]
        if statuses:
            query += f" AND status IN ({', '.join('?' * len(statuses))})"
            args += list(statuses)
        row = self._db.execute(query + " ORDER BY id DESC LIMIT 1", args).fetchone()
        return None if row is None else self._row(row)

    @_damage_is_user_error
    def query(
        self,
        circuit: str | None = None,
        technology: str | None = None,
        corner: str | None = None,
        status: str | None = None,
    ) -> list[StoredSimulation]:
        """Stored simulations matching the given fields, oldest first."""
        where, args = [], []
        for column, value in (
            ("circuit", circuit),
            ("technology", technology),
            ("corner", corner),
            ("status", status),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {self._COLUMNS} FROM simulations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [self._row(r) for r in self._db.execute(sql + " ORDER BY id", args)]

    @_damage_is_user_error
    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM simulations").fetchone()[0]
