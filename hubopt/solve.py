"""Solve a built model with CBC (through PuLP) and report its status honestly.

PuLP's ``status`` can read "Optimal" when CBC stopped at its time limit with an
incumbent; ``sol_status`` then says only "integer feasible". The solver's own log
gives the best bound. This module reads all three and reports one of:

* ``optimal``      - proven optimal (gap 0 within CBC's tolerance);
* ``within-gap``   - stopped at the requested relative gap (gap reported);
* ``time-limited`` - stopped at the time limit with a solution (gap reported);
* ``infeasible``   - proven that no solution satisfies the rules;
* ``no-solution``  - stopped (e.g. time limit) before any solution was found.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pulp

from hubopt.errors import SolverError
from hubopt.model import HubModel, read_assignment

_FLOAT = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|-inf|nan)"


@dataclass
class SolveResult:
    """What came back from the solver."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    assignment: pd.Series | None
    solver: str
    log: str = ""

    @property
    def has_solution(self) -> bool:
        return self.assignment is not None

    def describe(self) -> str:
        """One line for people: status, and the gap where it is not proven."""
        if self.status == "optimal":
            return "optimal (proven)"
        if self.status in ("time-limited", "within-gap"):
            gap = "unknown" if self.gap is None else f"{self.gap:.2%}"
            what = "time limit" if self.status == "time-limited" else "requested gap"
            return f"{self.status}: stopped at the {what}, best solution within {gap} of optimal"
        if self.status == "infeasible":
            return "infeasible: no grouping satisfies every rule"
        return "no solution: the solver stopped before finding any grouping"


def parse_cbc_log(text: str) -> dict[str, object]:
    """Pull the result line, objective, bound and gap from a CBC log."""
    out: dict[str, object] = {}
    m = re.search(r"^Result - (.+)$", text, re.M)
    if m:
        out["result"] = m.group(1).strip()
    for key, label in (("objective", "Objective value"), ("bound", "Lower bound"), ("gap", "Gap")):
        m = re.search(rf"^{label}:\s+{_FLOAT}", text, re.M)
        if m:
            out[key] = float(m.group(1))
    return out


def cbc_path() -> str:
    """The CBC binary: the one bundled with PuLP 3.x, else ``cbc`` on the PATH.

    PuLP 3.3 bundles CBC but deprecates ``PULP_CBC_CMD``; calling ``COIN_CMD`` with
    the bundled path keeps hubopt ready for PuLP 4 (``pip install pulp[cbc]``).
    """
    from pulp.apis import coin_api

    bundled = getattr(coin_api, "pulp_cbc_path", None)
    if bundled and Path(bundled).is_file():
        return bundled
    found = shutil.which("cbc")
    if found is None:
        raise SolverError(
            "The CBC solver was not found.",
            ['reinstall with `pip install "pulp>=3.3,<4"` (it bundles CBC)'],
        )
    return found


def solve(
    model: HubModel,
    *,
    time_limit: float = 120.0,
    gap: float = 0.0,
    threads: int = 1,
    msg: bool = False,
) -> SolveResult:
    """Solve with CBC and classify the outcome (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="hubopt-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        solver = pulp.COIN_CMD(
            path=cbc_path(),
            msg=msg,
            timeLimit=time_limit,
            gapRel=gap if gap > 0 else None,
            threads=threads,
            logPath=str(log_path),
        )
        start = time.perf_counter()
        try:
            model.problem.solve(solver)
        except pulp.PulpSolverError as exc:
            raise SolverError("CBC failed to run.", [str(exc)]) from None
        seconds = time.perf_counter() - start
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
    return classify(model, log, seconds=seconds)


def classify(model: HubModel, log: str, *, seconds: float) -> SolveResult:
    """Turn PuLP's ``status``/``sol_status`` and the CBC log into a SolveResult."""
    info = parse_cbc_log(log)
    result = str(info.get("result", ""))
    status, sol_status = model.problem.status, model.problem.sol_status
    has_solution = sol_status in (
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    ) or (status == pulp.LpStatusOptimal and sol_status != pulp.LpSolutionNoSolutionFound)
    objective = pulp.value(model.problem.objective) if has_solution else None
    bound = info.get("bound")
    if status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        label = "infeasible"
    elif "infeasible" in result.lower():
        label = "infeasible"
    elif not has_solution:
        label = "no-solution"
    elif result.startswith("Optimal") and sol_status == pulp.LpSolutionOptimal:
        label = "optimal"
    elif (
        result.lower().startswith("stopped on time") or sol_status == pulp.LpSolutionIntegerFeasible
    ):
        label = "time-limited"
    else:
        label = "optimal"
    gap_value: float | None
    if label == "optimal":
        bound = objective if bound is None else bound
        gap_value = _rel_gap(objective, bound) if bound is not None else 0.0
        if gap_value is not None and gap_value > 1e-6:
            label = "within-gap"
    elif label == "time-limited":
        gap_value = _rel_gap(objective, bound) if bound is not None else None
    else:
        gap_value = None
    assignment = read_assignment(model) if has_solution else None
    return SolveResult(
        status=label,
        objective=objective,
        bound=bound if isinstance(bound, float) else None,
        gap=gap_value,
        seconds=seconds,
        assignment=assignment,
        solver="cbc",
        log=log,
    )


def _rel_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or math.isnan(bound):
        return None
    if math.isinf(bound):
        return None
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)
