r"""Exact preprocessing for any PuLP problem: LP bound, incumbent, reduced-cost fixing.

Everything here works on a plain :class:`pulp.LpProblem` (whatever variables and rows
other stages add), so a proof of optimality found after the reduction is still a proof
for the original problem.

Reduced-cost fixing
-------------------
Let :math:`z_{LP}` be the optimum of the LP relaxation (binaries relaxed to
:math:`[0, 1]`), :math:`d_k` the reduced cost of variable :math:`k` and :math:`z^*`
the objective of a known feasible solution (the incumbent, an upper bound). LP duality
gives, for every integer solution :math:`x`,

.. math::

    z(x) \;\ge\; z_{LP} + \sum_{k:\, x^{LP}_k = l_k} d_k (x_k - l_k)
        + \sum_{k:\, x^{LP}_k = u_k} (-d_k)(u_k - x_k).

So a binary at 0 in the LP with :math:`d_k > z^* - z_{LP}` can only be 1 in solutions
strictly worse than the incumbent: fixing it to 0 removes no solution at least as good
as :math:`z^*`. Likewise a binary at 1 with :math:`-d_k > z^* - z_{LP}` is fixed to 1.
When every objective coefficient is an integer on integer variables (and nothing
continuous is in the objective), any better solution has :math:`z \le z^* - 1`, and
the threshold tightens to :math:`z^* - 1 - z_{LP}`; then the incumbent itself may be
cut off, and is returned as optimal if the reduced problem has nothing better.

The LP is solved with HiGHS through :func:`scipy.optimize.linprog` (scipy is a core
dependency), from the problem's own rows, so no file is written.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pulp
from scipy import sparse
from scipy.optimize import linprog

from hubopt.errors import SolverError

#: Absolute slack on the fixing threshold, on top of a relative 1e-7: the LP duals are
#: only accurate to HiGHS's tolerances, and a fixing must never be wrong.
FIX_TOL = 1e-6


@dataclass
class LPRelaxation:
    """The LP relaxation of a problem, in *minimisation* terms."""

    status: str  # "optimal", "infeasible", "unbounded" or "error"
    objective: float | None
    values: np.ndarray
    reduced_costs: np.ndarray
    variables: list[pulp.LpVariable]
    seconds: float
    #: the dual value of each equality row, by constraint name (minimisation terms)
    eq_duals: dict[str, float] = field(default_factory=dict)


@dataclass
class Fixing:
    """Variables whose bounds were tightened, with their old bounds (to restore)."""

    fixed: list[tuple[pulp.LpVariable, float | None, float | None]] = field(default_factory=list)
    lower_bound: float | None = None
    upper_bound: float | None = None
    threshold: float | None = None

    restored: bool = False

    @property
    def count(self) -> int:
        """How many variables were fixed (still counted after :meth:`restore`)."""
        return len(self.fixed)

    def restore(self) -> None:
        """Put every changed bound back (once)."""
        if not self.restored:
            for v, lo, up in reversed(self.fixed):
                v.lowBound, v.upBound = lo, up
            self.restored = True


def _sign(problem: pulp.LpProblem) -> float:
    return -1.0 if problem.sense == pulp.LpMaximize else 1.0


def lp_relaxation(problem: pulp.LpProblem) -> LPRelaxation:
    """Solve the LP relaxation of ``problem`` (integrality dropped, bounds kept).

    The problem is not modified. Objective and reduced costs are for *minimising*
    (a maximisation problem is negated).
    """
    start = time.perf_counter()
    variables = problem.variables()
    index = {v.name: k for k, v in enumerate(variables)}
    sign = _sign(problem)
    n = len(variables)
    c = np.zeros(n)
    for v, a in problem.objective.items():
        c[index[v.name]] += sign * a
    const = sign * float(problem.objective.constant or 0.0)
    ub_rows: list[int] = []
    ub_cols: list[int] = []
    ub_vals: list[float] = []
    b_ub: list[float] = []
    eq_names: list[str] = []
    eq_rows: list[int] = []
    eq_cols: list[int] = []
    eq_vals: list[float] = []
    b_eq: list[float] = []
    for con in problem.constraints():
        rhs = -float(con.constant)
        if con.sense == pulp.LpConstraintEQ:
            r = len(b_eq)
            eq_names.append(con.name)
            for v, a in con.items():
                eq_rows.append(r)
                eq_cols.append(index[v.name])
                eq_vals.append(a)
            b_eq.append(rhs)
        else:
            s = 1.0 if con.sense == pulp.LpConstraintLE else -1.0
            r = len(b_ub)
            for v, a in con.items():
                ub_rows.append(r)
                ub_cols.append(index[v.name])
                ub_vals.append(s * a)
            b_ub.append(s * rhs)
    a_ub = sparse.csr_array((ub_vals, (ub_rows, ub_cols)), shape=(len(b_ub), n)) if b_ub else None
    a_eq = sparse.csr_array((eq_vals, (eq_rows, eq_cols)), shape=(len(b_eq), n)) if b_eq else None
    bounds = [(v.lowBound, v.upBound) for v in variables]
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub or None,
        A_eq=a_eq,
        b_eq=b_eq or None,
        bounds=bounds,
        method="highs",
    )
    seconds = time.perf_counter() - start
    status = {0: "optimal", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    if status != "optimal":
        empty = np.full(n, np.nan)
        return LPRelaxation(status, None, empty, empty, variables, seconds)
    rc = np.asarray(res.lower.marginals) + np.asarray(res.upper.marginals)
    duals = dict(zip(eq_names, np.asarray(res.eqlin.marginals), strict=True)) if b_eq else {}
    return LPRelaxation(
        status, float(res.fun) + const, np.asarray(res.x), rc, variables, seconds, duals
    )


def objective_is_integral(problem: pulp.LpProblem) -> bool:
    """True when every feasible solution has an integer objective value."""
    if abs(float(problem.objective.constant or 0.0)) % 1 > 1e-9:
        return False
    for v, a in problem.objective.items():
        if v.cat != pulp.LpInteger or abs(a - round(a)) > 1e-9:
            return False
    return True


def fix_by_reduced_cost(
    problem: pulp.LpProblem,
    lp: LPRelaxation,
    upper_bound: float,
    *,
    integral: bool | None = None,
) -> Fixing:
    """Fix binaries that cannot be in any solution better than ``upper_bound``.

    ``upper_bound`` is the objective of a known feasible solution, in the problem's own
    sense (for a maximisation problem it is the incumbent's value, a lower bound).
    With ``integral`` (detected when None) the fixing keeps only strictly better
    solutions; without it, also every solution as good as the incumbent. Call
    :meth:`Fixing.restore` to undo.
    """
    if lp.status != "optimal" or lp.objective is None:
        return Fixing()
    integral = objective_is_integral(problem) if integral is None else integral
    ub = _sign(problem) * upper_bound
    room = ub - lp.objective - (1.0 if integral else 0.0)
    threshold = room + FIX_TOL + 1e-7 * max(1.0, abs(ub))
    out = Fixing(lower_bound=lp.objective, upper_bound=ub, threshold=threshold)
    return _fix_beyond(lp, threshold, out, at_upper=True)


def _fix_beyond(lp: LPRelaxation, threshold: float, out: Fixing, *, at_upper: bool) -> Fixing:
    """Fix every integer variable at a bound in the LP whose reduced cost (towards the
    inside) exceeds ``threshold``; ``at_upper`` also fixes those at their upper bound."""
    for v, x, d in zip(lp.variables, lp.values, lp.reduced_costs, strict=True):
        if v.cat != pulp.LpInteger or v.lowBound is None or v.upBound is None:
            continue
        if v.lowBound == v.upBound:
            continue
        if x <= v.lowBound + 1e-9 and d > threshold:
            out.fixed.append((v, v.lowBound, v.upBound))
            v.upBound = v.lowBound
        elif at_upper and x >= v.upBound - 1e-9 and -d > threshold:
            out.fixed.append((v, v.lowBound, v.upBound))
            v.lowBound = v.upBound
    return out


def objective_of(problem: pulp.LpProblem, values: dict[str, float]) -> float | None:
    """The objective at ``values`` (by variable name), or None if any term is missing."""
    total = float(problem.objective.constant or 0.0)
    for v, a in problem.objective.items():
        if v.name not in values:
            return None
        total += a * values[v.name]
    return total


def is_feasible(problem: pulp.LpProblem, values: dict[str, float], *, tol: float = 1e-6) -> bool:
    """True when ``values`` gives every variable of ``problem`` a value within its
    bounds (and integer where required) and satisfies every constraint."""
    for v in problem.variables():
        x = values.get(v.name)
        if x is None or math.isnan(x):
            return False
        if v.lowBound is not None and x < v.lowBound - tol:
            return False
        if v.upBound is not None and x > v.upBound + tol:
            return False
        if v.cat == pulp.LpInteger and abs(x - round(x)) > tol:
            return False
    for con in problem.constraints():
        lhs = float(con.constant) + sum(a * values[v.name] for v, a in con.items())
        if con.sense == pulp.LpConstraintEQ and abs(lhs) > tol * max(1.0, abs(con.constant)):
            return False
        if con.sense == pulp.LpConstraintLE and lhs > tol * max(1.0, abs(con.constant)):
            return False
        if con.sense == pulp.LpConstraintGE and lhs < -tol * max(1.0, abs(con.constant)):
            return False
    return True


def check_lp(lp: LPRelaxation) -> None:
    """Raise when the LP relaxation failed for a reason other than infeasibility."""
    if lp.status in ("unbounded", "error"):
        raise SolverError(
            f"The LP relaxation is {lp.status}.",
            ["check that every variable has finite bounds or a bounded objective"],
        )


def fix_heuristically(problem: pulp.LpProblem, lp: LPRelaxation, delta: float) -> Fixing:
    """Fix to their LP bound the binaries whose reduced cost exceeds ``delta``.

    NOT exact: this restricts the problem to a *core* around the LP optimum, whose
    solutions are feasible for the whole problem (good incumbents), but whose optimum
    may not be. Restore before proving anything.
    """
    return _fix_beyond(lp, delta, Fixing(lower_bound=lp.objective, threshold=delta), at_upper=False)
