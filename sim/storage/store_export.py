"""``python -m sim.storage.store_export``: the simulation store as a table
(CSV or Parquet).

    python -m sim.storage.store_export --store $JAXSIZER_HOME/simulations.sqlite \\
        --circuit op2 --tech sky130 --csv op2.csv

One row per stored simulation: ``circuit``, ``tech``, ``corner``,
``temperature`` (C), ``status``, ``message``, ``elapsed`` (s), ``created``
(Unix time), ``key``, then one column per parameter (``param.<name>``, SI) and
per figure (``figure.<name>``, SI; device operating points as
``figure.<device>:<quantity>``), sorted by name. A value a row lacks (another
circuit's parameter, a figure of a failed simulation) is empty in CSV and null
in Parquet; NaN stays NaN. Parquet needs pandas and pyarrow
(``pip install 'jaxsizer[parquet]'``).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.cli_conventions import add_json_option, keeps_stdout_for_json, write_json
from sim.errors import EXIT_USAGE, OneLineArgumentParser, UserInputError
from sim.storage.store import SimulationStore, StoredSimulation, default_store_path

FIXED = (
    "circuit",
    "tech",
    "corner",
    "temperature",
    "status",
    "message",
    "elapsed",
    "created",
    "key",
)


def _parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog="python -m sim.storage.store_export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--store",
        default=None,
        metavar="PATH",
        help="the SQLite store (default: $JAXSIZER_STORE or "
        "$JAXSIZER_HOME/simulations.sqlite, sim.paths)",
    )
    parser.add_argument("--circuit", default=None, help="only this circuit's rows")
    parser.add_argument("--tech", default=None, help="only this technology's rows")
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", metavar="FILE", help="write a CSV file")
    out.add_argument(
        "--parquet", metavar="FILE", help="write a Parquet file (pandas, pyarrow)"
    )
    add_json_option(out, "the rows (a list of {column: value}; NaN as null)")
    return parser


def store_rows(
    rows: Sequence[StoredSimulation],
) -> tuple[list[str], list[dict[str, object]]]:
    """Column names and one dict per simulation (missing values absent)."""
    params = sorted({name for r in rows for name in r.params})
    figures = sorted({name for r in rows for name in r.performance})
    columns = [
        *FIXED,
        *(f"param.{n}" for n in params),
        *(f"figure.{n}" for n in figures),
    ]
    table = []
    for r in rows:
        row: dict[str, object] = {
            "circuit": r.circuit,
            "tech": r.technology,
            "corner": r.corner,
            "temperature": r.temperature,
            "status": r.status,
            "message": r.message,
            "elapsed": r.elapsed,
            "created": r.created,
            "key": r.key,
        }
        row |= {f"param.{k}": v for k, v in r.params.items()}
        row |= {f"figure.{k}": v for k, v in r.performance.items()}
        table.append(row)
    return columns, table


def write_csv(path: Path, columns: list[str], table: list[dict]) -> None:
    """Floats as the csv module writes them: their repr (reads back exactly;
    nan, inf, -inf as such)."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(table)


def write_parquet(path: Path, columns: list[str], table: list[dict]) -> None:
    try:
        import pandas as pd
        import pyarrow  # noqa: F401  (pandas' Parquet engine)
    except ImportError as error:
        raise UserInputError(
            f"--parquet needs pandas and pyarrow ({error.name} is missing): "
            "pip install 'jaxsizer[parquet]', or use --csv"
        ) from None
    pd.DataFrame(table, columns=columns).to_parquet(path, index=False)


def _json_row(row: dict[str, object]) -> dict[str, object]:
    """A row with non-finite numbers as None (strict JSON)."""
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v
        for k, v in row.items()
    }


@keeps_stdout_for_json
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        path = Path(args.store) if args.store else default_store_path()
        if not path.is_file():
            raise UserInputError(f"no simulation store at {path}")
        with SimulationStore(path) as store:
            rows = store.query(circuit=args.circuit, technology=args.tech)
        columns, table = store_rows(rows)
        if args.json:
            where = write_json(args.json, [_json_row(r) for r in table])
            print(f"wrote {len(table)} simulation(s) to {where}")
            return 0
        out = Path(args.csv or args.parquet)
        if not out.parent.is_dir():
            raise UserInputError(f"directory {out.parent} does not exist")
        if args.csv:
            write_csv(out, columns, table)
        else:
            write_parquet(out, columns, table)
    except UserInputError as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return EXIT_USAGE
    print(f"wrote {len(table)} simulation(s), {len(columns)} columns, to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
