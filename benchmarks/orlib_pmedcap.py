"""OR-Library capacitated p-median (pmedcap1, 20 instances): reproduce and PROVE the optima.

    python benchmarks/orlib_pmedcap.py [--solver cbc|highs] [--threads N] [--baseline]
                                       [--no-priorities] [--instances 1,2,...]
                                       [--time-limit S] [--lagrange-seconds S]

The instances live in ../shared/benchmarks/orlib-pmedcap (see its README): distance
floor(euclid), exactly p medians, capacity on each median's demand, objective the
unweighted sum of distances. hubopt's core model is built with ``pop_min=0,
pop_max=capacity, n_hubs=p, cost_weights=1`` and solved through the solver's one door,
:func:`hubopt.solver.solve_model`, on one clock of ``--time-limit`` seconds: the model
as it stands, one solver run, no preprocessing. CBC branches on the site variables
first; ``--no-priorities`` leaves the choice to CBC.
Every solution is re-checked by :func:`verify` (independent of the model): a plan that
fails it is not counted as proven and its line says why.
After the solve, on a fresh model (so it takes nothing from the solve's clock), the
bracket gives the lower bound of :func:`hubopt.solver.bounds.relaxed_bound` (``LB``:
the better of the LP bound and the Lagrangian bound started from the LP's duals, with
``--lagrange-seconds`` of subgradient steps toward the plan's value), its kind, the
seconds it took and its gap to the plan found: how close the bound alone comes to
proving the plan.
``--baseline`` also solves the textbook formulation (separate y_j, x_ij <= y_j,
sum_i d_i x_ij <= Q y_j, sum_j y_j = p) with plain CBC, its own time limit per instance,
and prints both times and their ratio. One line per instance, then
``proven K/N total_s T``."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pulp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hubopt import model  # noqa: E402
from hubopt.solver import Clock, Options, bounds, solve_model  # noqa: E402
from hubopt.solver.backends import SOLVERS  # noqa: E402
from hubopt.solver.backends.cbc import cbc_path, parse_cbc_log  # noqa: E402
from hubopt.solver.result import relative_gap  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks" / "orlib-pmedcap"


def load_instance(path: Path) -> dict:
    """Read ``pmedcap1_N.txt``: distances floor(euclid), demands, p, capacity, optimum."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    number, optimum = int(lines[0][0]), float(lines[0][1])
    n, p, cap = (int(v) for v in lines[1])
    rows = np.array([[float(v) for v in ln] for ln in lines[2 : 2 + n]])
    xy, demand = rows[:, 1:3], rows[:, 3]
    d = np.floor(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)))
    codes = [str(int(i)) for i in rows[:, 0]]
    return {
        "number": number,
        "optimum": optimum,
        "n": n,
        "p": p,
        "capacity": float(cap),
        "times": pd.DataFrame(d, index=codes, columns=codes),
        "demand": pd.Series(demand, index=codes),
    }


def hubopt_model(inst: dict) -> model.HubModel:
    """The core hub model restricted to the capacitated p-median problem."""
    return model.build_model(
        inst["times"],
        inst["demand"],
        pop_min=0,
        pop_max=inst["capacity"],
        n_hubs=inst["p"],
        cost_weights=pd.Series(1.0, index=inst["demand"].index),
    )


def verify(inst: dict, assignment: pd.Series | None) -> tuple[float | None, list[str]]:
    """Re-check a solution independently of the model: every point at a median that
    serves itself, exactly p medians, each median's demand within capacity. Returns the
    recomputed objective (sum of distances) and what is wrong (empty when valid)."""
    if assignment is None:
        return None, ["no solution"]
    codes = list(inst["demand"].index)
    site = assignment.reindex(codes)
    wrong = [f"point {c} unassigned" for c in site[site.isna()].index]
    if wrong:
        return None, wrong
    medians = sorted(set(site))
    wrong += [f"median {j} does not serve itself" for j in medians if site.get(j) != j]
    if len(medians) != inst["p"]:
        wrong.append(f"{len(medians)} medians, not p = {inst['p']}")
    load = inst["demand"].groupby(site).sum()
    wrong += [
        f"median {j} serves {v:g} > capacity {inst['capacity']:g}"
        for j, v in load.items()
        if v > inst["capacity"] + 1e-9
    ]
    times = inst["times"]
    value = float(sum(times.at[i, j] for i, j in site.items()))
    return value, wrong


def textbook(inst: dict, time_limit: float, threads: int) -> tuple[bool, float | None, float]:
    """Textbook formulation with plain CBC: (proven, objective, seconds)."""
    d, q, codes = inst["times"].to_numpy(), inst["demand"], list(inst["demand"].index)
    n = len(codes)
    prob = pulp.LpProblem("textbook", pulp.LpMinimize)
    x = [[prob.add_variable(f"x_{i}_{j}", cat=pulp.LpBinary) for j in range(n)] for i in range(n)]
    y = [prob.add_variable(f"y_{j}", cat=pulp.LpBinary) for j in range(n)]
    prob += pulp.lpSum(float(d[i, j]) * x[i][j] for i in range(n) for j in range(n))
    for i in range(n):
        prob += pulp.lpSum(x[i]) == 1
        for j in range(n):
            prob += x[i][j] <= y[j]
    for j in range(n):
        prob += pulp.lpSum(float(q.iloc[i]) * x[i][j] for i in range(n)) <= inst["capacity"] * y[j]
    prob += pulp.lpSum(y) == inst["p"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="orlib-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        prob.solve(
            pulp.COIN_CMD(
                path=cbc_path(),
                msg=False,
                timeLimit=time_limit,
                threads=threads,
                logPath=str(log_path),
            )
        )
        seconds = time.perf_counter() - start
        info = parse_cbc_log(log_path.read_text(errors="replace") if log_path.exists() else "")
    proven = str(info.get("result", "")).startswith("Optimal") and (
        prob.sol_status == pulp.LpSolutionOptimal
    )
    objective = pulp.value(prob.objective) if prob.sol_status in (1, 2) else None
    return proven, objective, seconds


def lower_bound(inst: dict, objective: float | None, seconds: float) -> str:
    """The relaxed bound of a fresh model (after the solve, off its clock), its kind,
    the seconds it took and its gap to ``objective`` (the plan found, if any)."""
    start = time.perf_counter()
    bound, kind = bounds.relaxed_bound(hubopt_model(inst), seconds=seconds, upper=objective)
    took = time.perf_counter() - start
    if bound is None:
        return f"LB - ({kind} failed), {took:.1f} s"
    gap = relative_gap(objective, bound)
    gap_text = "-" if gap is None else f"{gap:.2%}"
    return f"LB {bound:.0f} {kind}, {took:.1f} s, gap {gap_text}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solver", choices=SOLVERS, default="cbc")
    ap.add_argument("--baseline", action="store_true", help="also run the textbook model")
    ap.add_argument("--baseline-time-limit", type=float, default=120.0)
    ap.add_argument(
        "--no-priorities",
        action="store_true",
        help="let CBC choose what to branch on (default: site variables first)",
    )
    ap.add_argument("--instances", default="1-20", help="e.g. 1,2,11 or 1-20")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per instance")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--lagrange-seconds",
        type=float,
        default=10.0,
        help="seconds of subgradient steps for the bound printed after each solve",
    )
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args(argv)
    numbers: list[int] = []
    for part in args.instances.split(","):
        a, _, b = part.partition("-")
        numbers += list(range(int(a), int(b or a) + 1))
    if not args.data.is_dir():
        print(f"no benchmark data at {args.data}", file=sys.stderr)
        return 2
    header = "inst   n   p  known  found  proven   seconds"
    if args.baseline:
        header += "  textbook_found textbook_proven textbook_s  ratio"
    print(header, flush=True)
    proven_count, total, base_total = 0, 0.0, 0.0
    for k in numbers:
        inst = load_instance(args.data / f"pmedcap1_{k}.txt")
        options = Options(
            solver=args.solver, threads=args.threads, sites_first=not args.no_priorities
        )
        r = solve_model(hubopt_model(inst), Clock.starting(args.time_limit), options)
        value, wrong = verify(inst, r.assignment)
        if r.objective is not None and value is not None and abs(value - r.objective) > 1e-6:
            wrong.append(f"solver says {r.objective:g}, the plan costs {value:g}")
        proven = r.status == "optimal" and r.objective is not None and not wrong
        proven_count += proven
        total += r.seconds
        found = "-" if r.objective is None else f"{r.objective:.0f}"
        line = (
            f"{k:>4} {inst['n']:>3} {inst['p']:>3} {inst['optimum']:>6.0f} {found:>6} "
            f"{'yes' if proven else 'no':>7} {r.seconds:>9.1f}"
        )
        if r.objective is not None and wrong:
            line += f"  CHECK FAILED: {'; '.join(wrong)}"
        line += f"  [{lower_bound(inst, r.objective, args.lagrange_seconds)}]"
        if args.baseline:
            b_proven, b_obj, b_s = textbook(inst, args.baseline_time_limit, args.threads)
            base_total += b_s
            b_found = "-" if b_obj is None else f"{b_obj:.0f}"
            line += (
                f"  {b_found:>14} {'yes' if b_proven else 'no':>15} {b_s:>10.1f}"
                f"  {b_s / max(r.seconds, 1e-9):>5.2f}"
            )
        print(line, flush=True)
    last = f"proven {proven_count}/{len(numbers)} total_s {total:.1f}"
    if args.baseline:
        last += f" textbook_total_s {base_total:.1f} ratio {base_total / max(total, 1e-9):.2f}"
    print(last, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
