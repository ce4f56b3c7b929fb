"""Client of ``sim.commands.server``
(``--sim-backend remote --server URL --token-env VAR``).

``RemoteSimulation`` sends designs of one circuit/technology/corner/temperature
as numbers and gets back each design's status and figures. Each batch carries
an ``Idempotency-Key`` made once for it and kept across retries, so a retry
after a dropped connection, a timeout or a restarted server returns the same
answer and never a second result; a batch is retried until it is answered or
``retry_for`` seconds have passed. ``Simulator(..., backend=BackendConfig(
kind="remote", ...))`` uses it, so environments and the trainer need nothing
else. Needs ``pip install -e .[server]``.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from sim.engine.result import Status
from sim.errors import UserInputError

RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
DEFAULT_BATCH = 64  # designs per request


@dataclass(frozen=True)
class RemoteResult:
    """One design's answer: its store key on the server, status and figures."""

    key: str
    status: Status
    message: str
    performance: dict[str, float]
    elapsed: float  # seconds of simulation on the server
    cached: bool


def token_from_env(variable: str) -> str:
    """The bearer token in environment variable ``variable``."""
    token = os.environ.get(variable, "").strip()
    if not token:
        raise UserInputError(
            f"the remote backend reads its token from ${variable}, which is not set"
        )
    return token


def _number(value: float | str | None) -> float:
    return math.nan if value is None else float(value)


class RemoteSimulation:
    """Simulations of one circuit on a ``sim.commands.server``.

    ``server``: base URL (``http://127.0.0.1:8000``); ``request_timeout``:
    seconds to wait for one batch's answer; ``retry_for``: seconds a batch is
    retried before giving up; ``batch``: designs per request.
    """

    def __init__(
        self,
        server: str,
        token: str,
        circuit: str,
        technology: str,
        corner: str,
        temperature: float,
        *,
        measures: Sequence[str] | None = None,
        request_timeout: float = 600.0,
        retry_for: float = 300.0,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.request = {
            "circuit": circuit,
            "technology": technology,
            "corner": corner,
            "temperature": float(temperature),
            "measures": None if measures is None else list(measures),
        }
        self.retry_for = retry_for
        self.batch = batch
        self.retries = 0  # requests sent again (for reports and tests)
        self._http = httpx.Client(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(request_timeout, connect=10.0),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteSimulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def simulate(self, designs: Sequence[Mapping[str, float]]) -> list[RemoteResult]:
        """Answers for ``designs`` (parameter name -> SI value), in order."""
        results: list[RemoteResult] = []
        for start in range(0, len(designs), self.batch):
            chunk = [dict(d) for d in designs[start : start + self.batch]]
            results += self._batch(chunk)
        return results

    def _batch(self, designs: list[dict[str, float]]) -> list[RemoteResult]:
        body = {**self.request, "designs": designs}
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        deadline = time.monotonic() + self.retry_for
        pause = 0.2  # seconds before the first retry, doubled up to 5 s
        while True:
            why = ""
            try:
                response = self._http.post("/v1/simulate", json=body, headers=headers)
            except httpx.TransportError as error:
                why = f"{type(error).__name__}: {error}"
            else:
                if response.status_code == 200:
                    answers = response.json()["results"]
                    if len(answers) != len(designs):
                        raise RuntimeError("the server answered a different batch")
                    return [self._result(a) for a in answers]
                if response.status_code not in RETRY_STATUSES:
                    raise UserInputError(
                        "the simulation server refused the request "
                        f"({response.status_code}): {_detail(response)}"
                    )
                why = f"HTTP {response.status_code}: {_detail(response)}"
            if time.monotonic() + pause > deadline:
                raise RuntimeError(
                    f"the simulation server did not answer within "
                    f"{self.retry_for:g} s ({why})"
                )
            time.sleep(pause)
            pause = min(2 * pause, 5.0)
            self.retries += 1

    @staticmethod
    def _result(answer: dict) -> RemoteResult:
        return RemoteResult(
            key=answer["key"],
            status=Status(answer["status"]),
            message=answer["message"],
            performance={k: _number(v) for k, v in answer["performance"].items()},
            elapsed=float(answer["elapsed"]),
            cached=bool(answer["cached"]),
        )


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]
