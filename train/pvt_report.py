"""``train.size --pvt`` and ``train.eval --pvt``: reports over conditions.

``size_over_conditions`` sizes one target for every declared condition
(``train.pvt_sizing``), verifies the returned design at every condition,
prints the figure × condition table with the worst case and its margin,
writes ``result.json`` (every condition) and a testbench per condition
(``sim.commands.export.export_conditions``: ``<out>/pvt/<corner>_<T>C_<s>vdd/``).
``eval_over_conditions`` sizes many targets and gives the fields
``train.eval`` adds to its report.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from sim.errors import UserInputError
from sim.units import engineering
from train.pvt_sizing import PvtResult, PvtSizer
from train.size_output import report, result_json, write_files


def _number(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def verdict_json(verifier, verdict, *, every_figure: bool = True) -> dict:
    """One design over the conditions as JSON: each simulated condition
    (status, figures), the worst case per spec, where, and its margin."""
    box = verifier.box
    conditions = verifier.conditions.conditions
    rows = []
    for index in np.flatnonzero(verdict.simulated):
        evaluation = verdict.evaluations[int(index)]
        figures = (
            evaluation.performance
            if every_figure
            else dict(zip(box.names, verdict.figures[index], strict=True))
        )
        rows.append(
            {
                **conditions[int(index)].to_json(),
                "status": evaluation.status.value,
                "figures": {
                    k: _number(v) for k, v in figures.items() if ":" not in str(k)
                },
            }
        )
    worst, at = verdict.worst()
    margins = box.margin(worst, verdict.target)
    return {
        "met_at_every_condition": bool(verdict.met),
        "conditions_simulated": int(verdict.simulated.sum()),
        "conditions_declared": len(conditions),
        "failed_at": None
        if verdict.failed_at is None
        else conditions[verdict.failed_at].to_json(),
        "worst": dict(zip(box.names, map(_number, worst), strict=True)),
        "worst_at": {
            n: conditions[int(i)].to_json() for n, i in zip(box.names, at, strict=True)
        },
        "worst_margins": dict(zip(box.names, map(_number, margins), strict=True)),
        "conditions": rows,
    }


def condition_table(verifier, verdict, title: str) -> Table:
    """Rows: each simulated condition, then the worst case, the target and
    the worst case's margin (>= 0 met, in units of the box's width)."""
    box = verifier.box
    conditions = verifier.conditions.conditions
    table = Table(title=title)
    table.add_column("condition", no_wrap=True)
    table.add_column("status")
    for name, lower in zip(box.names, box.lower, strict=True):
        table.add_column(f"{name} ({'≥' if lower else '≤'})", justify="right")
    units = box.units
    for index in np.flatnonzero(verdict.simulated):
        evaluation = verdict.evaluations[int(index)]
        cells = [
            engineering(float(v), u, 3)
            for v, u in zip(verdict.figures[index], units, strict=True)
        ]
        table.add_row(conditions[int(index)].label, evaluation.status.value, *cells)
    worst, at = verdict.worst()
    margins = box.margin(worst, verdict.target)
    table.add_row(
        "[bold]worst[/]",
        "",
        *[engineering(float(v), u, 3) for v, u in zip(worst, units, strict=True)],
    )
    table.add_row("at", "", *[conditions[int(i)].label for i in at])
    table.add_row(
        "target",
        "",
        *[
            "(none)" if math.isnan(t) else engineering(float(t), u, 3)
            for t, u in zip(verdict.target, units, strict=True)
        ],
    )
    table.add_row(
        "worst margin",
        "",
        *[
            ""
            if math.isnan(t)
            else ("" if m >= 0 else "[red]") + f"{m:+.3f}" + ("" if m >= 0 else "[/]")
            for m, t in zip(margins, verdict.target, strict=True)
        ],
    )
    return table


def size_over_conditions(sizer, conditions, target: np.ndarray, args) -> int:
    """``train.size`` over ``conditions``: exit code 0 when the returned
    design meets ``target`` ``[m]`` at every condition, else 1."""
    if args.minimise:
        raise UserInputError("--minimise does not work with --pvt yet")
    pvt = PvtSizer.for_trained(sizer, conditions)
    verifier = pvt.verifier
    try:
        [one] = pvt.size(target[None], args.max_sims)
        result = one.result
        before = verifier.sims
        full = None
        if result.params:  # every condition, for the table (most are cached)
            [full] = verifier.verify([result.params], target, stop_on_fail=False)
        extra = verifier.sims - before
        derated = bool(np.any(one.derate > 0))
        report(
            sizer,
            result,
            "at the nominal condition"
            + (" (target derated for the other conditions)" if derated else ""),
        )
        console = Console()
        if full is not None:
            console.print(
                condition_table(verifier, full, f"over {len(conditions)} conditions")
            )
        console.print(_summary(one, len(conditions), extra))
        out = Path(args.out) if args.out else sizer.dir.path / "sized"
        write_files(sizer, result, out)
        document = result_json(sizer, result)
        document["pvt"] = {
            **(verdict_json(verifier, full) if full is not None else {}),
            "met": bool(one.met),
            "nominal_sims": one.sims,
            "condition_sims": one.condition_sims,
            "report_sims": extra,
            "attempts": one.attempts,
            "derate": dict(
                zip(verifier.box.names, map(_number, one.derate), strict=True)
            ),
            "verifier": verifier.state(),
        }
        (out / "result.json").write_text(json.dumps(document, indent=1))
        if result.params:
            _export(sizer, result.params, out / "pvt", conditions)
    finally:
        verifier.close()
    return 0 if one.met else 1


def _summary(one: PvtResult, k: int, extra: int) -> str:
    spent = (
        f"{one.sims} nominal + {one.condition_sims} condition simulation(s), "
        f"{one.attempts} attempt(s)"
    )
    if one.met:
        return f"[bold green]target met at all {k} conditions[/] ({spent})"
    if one.verdict is None:
        return f"[bold red]no design met the target at the nominal[/] ({spent})"
    return (
        f"[bold red]no design met the target at every condition[/] ({spent}; "
        f"{extra} more to fill the table)"
    )


def _export(sizer, params: dict, out: Path, conditions) -> None:
    from sim.commands.export import export_conditions

    simulator = getattr(sizer.session.simulator, "_simulator", sizer.session.simulator)
    try:
        written = export_conditions(
            simulator.circuit, simulator.technology, params, out, conditions
        )
    except UserInputError as error:  # e.g. the models live on a remote server
        print(f"no condition testbenches: {error}")
        return
    print(
        f"wrote a testbench per condition ({len(written)}) under {out}/ "
        f"(run: cd {out}/<condition> && ngspice -b <circuit>_tb.sp)"
    )


def eval_over_conditions(sizer, conditions, targets: np.ndarray, max_sims: int):
    """``train.eval`` over ``conditions``: (the nominal sizer's results,
    met at every condition ``[T]``, sims per target ``[T]`` nominal +
    condition, the report's extra fields, per-target extra fields)."""
    pvt = PvtSizer.for_trained(sizer, conditions)
    verifier = pvt.verifier
    try:
        results = pvt.size(targets, max_sims)
    finally:
        verifier.close()
    met = np.asarray([r.met for r in results])
    total = np.asarray([r.total_sims for r in results])
    condition_sims = np.asarray([r.condition_sims for r in results])
    nominal_met = np.asarray(
        [bool(verifier.box.met(r.result.figures, r.target)) for r in results]
    )
    extra = {
        "conditions": len(conditions),
        "pvt_declared": conditions.to_json(),
        "success_rate_nominal_only": float(nominal_met.mean()),
        "condition_sims": int(condition_sims.sum()),
        "median_total_sims_per_target": float(np.median(total)),
        "learned_derate": dict(
            zip(verifier.box.names, map(_number, pvt.prior()), strict=True)
        ),
        "verifier": verifier.state(),
    }
    per_target = [
        {
            "met": bool(r.met),  # at every condition
            "met_at_nominal": bool(nominal),
            "met_at_every_condition": bool(r.met),
            "condition_sims": int(r.condition_sims),
            "attempts": int(r.attempts),
            "failed_at": None
            if r.verdict is None or r.verdict.failed_at is None
            else conditions.conditions[r.verdict.failed_at].to_json(),
        }
        for r, nominal in zip(results, nominal_met, strict=True)
    ]
    return [r.result for r in results], met, total, extra, per_target
