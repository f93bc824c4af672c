"""CBC (bundled with PuLP 3.x) as a back-end: run it, stop it at the deadline, read its log.

PuLP's ``status`` can read "Optimal" when CBC stopped at its time limit with an
incumbent; ``sol_status`` then says only "integer feasible". CBC's log gives the
result line, the best bound and the work done (LP iterations); :func:`classify`
reads all of them into one :class:`~hubopt.solver.result.SolveResult`.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pulp

from hubopt.errors import SolverError
from hubopt.model import HubModel, read_assignment
from hubopt.solver.clock import Clock
from hubopt.solver.result import SolveResult, Status, Stop

if TYPE_CHECKING:
    from hubopt.solver.backends import Options

log = logging.getLogger(__name__)

_FLOAT = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|-inf|nan)"


def parse_cbc_log(text: str) -> dict[str, object]:
    """Pull the result line, objective, bound, gap and iterations from a CBC log."""
    out: dict[str, object] = {}
    m = re.search(r"^Result - (.+)$", text, re.M)
    if m:
        out["result"] = m.group(1).strip()
    for key, label in (("objective", "Objective value"), ("bound", "Lower bound"), ("gap", "Gap")):
        m = re.search(rf"^{label}:\s+{_FLOAT}", text, re.M)
        if m:
            out[key] = float(m.group(1))
    m = re.search(r"^Total iterations:\s+(\d+)", text, re.M)
    if m:
        out["iterations"] = int(m.group(1))
    if "result" not in out:  # a run stopped before its end: the best bound printed so far
        found = re.findall(rf"best possible {_FLOAT}", text)
        found = found or re.findall(rf"^Continuous objective value is {_FLOAT}", text, re.M)
        if found:
            out["bound"] = float(found[-1])
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


def write_site_priorities(m: HubModel, path: Path) -> Path | None:
    """Write CBC's branching priorities: the site variables :math:`x_{jj}` first.

    Which sites open decides most of the plan; once they are fixed, the rest is an
    assignment with capacities, whose relaxation is far tighter. Branching on sites
    first is the classic p-median strategy; measured on OR-Library pmedcap1 #8 it
    proves the optimum in 8 s where CBC's own choice had not after 120 s
    (``benchmarks/orlib_pmedcap.py --no-priorities`` repeats the comparison). The
    names are those PuLP gives the columns when it writes the MPS file for CBC
    (``rename=1``). Returns None when the model has no site variable.
    """
    names = m.problem.normalisedNames()[1]
    rows = [f"{names[v.name]},1" for (i, j), v in m.x.items() if i == j]
    if not rows:
        return None
    path.write_text("name,priority\n" + "\n".join(rows) + "\n")
    return path


@contextmanager
def _watchdog(stop_at: float, binary: str) -> Iterator[threading.Event]:
    """Kill the CBC process started inside the block if it is still running at
    ``stop_at`` (``time.perf_counter()`` seconds) or on Ctrl-C; the event is set when
    the deadline did it."""
    fired = threading.Event()
    done = threading.Event()

    before = {c.pid for c in psutil.Process().children(recursive=True)}

    def stop() -> None:
        for child in psutil.Process().children(recursive=True):
            try:
                if child.pid not in before and Path(child.exe()).name == Path(binary).name:
                    child.kill()
                    fired.set()
            except psutil.Error:
                continue

    def watch() -> None:  # past the deadline, a CBC started late is stopped as it starts
        if done.wait(max(0.0, stop_at - time.perf_counter())):
            return
        while not done.is_set():
            stop()
            done.wait(0.2)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield fired
    except KeyboardInterrupt:  # Ctrl-C: CBC must not run on in the background
        stop()
        raise
    finally:
        done.set()
        thread.join()


def run(
    m: HubModel, clock: Clock, options: Options, *, warm: bool, max_nodes: int | None = None
) -> SolveResult:
    """Run CBC on ``m`` to ``clock``'s deadline; a run still going at ``clock.stop_at``
    is stopped (no plan, the bound it had printed, stopped by the clock). With a warm
    start the feasibility pump is off: the start is the incumbent it would look for,
    and the pump is what ignores the clock."""
    start = time.perf_counter()
    sites_first = options.sites_first
    if sites_first is None:
        lo, hi = m.hub_range
        sites_first = lo is not None and lo == hi
    with tempfile.TemporaryDirectory(prefix="hubopt-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        cbc_options = ["feas off"] if warm else []
        priorities = write_site_priorities(m, Path(tmp) / "prio.csv") if sites_first else None
        if priorities is not None:
            cbc_options.append(f"prio {priorities}")
        solver = pulp.COIN_CMD(
            path=cbc_path(),
            msg=options.msg,
            timeLimit=max(1.0, clock.left()),
            gapRel=options.gap if options.gap > 0 else None,
            threads=options.threads,
            logPath=str(log_path),
            warmStart=warm,
            options=cbc_options,
            maxNodes=max_nodes,
        )
        read = lambda: log_path.read_text(errors="replace") if log_path.exists() else ""  # noqa: E731
        with _watchdog(clock.stop_at, solver.path) as stopped:
            try:
                m.problem.solve(solver)
            except pulp.PulpSolverError as exc:
                if not stopped.is_set():
                    tail = read().splitlines()[-5:]
                    raise SolverError("CBC failed to run.", [str(exc), *tail]) from None
                bound = parse_cbc_log(read()).get("bound")
                return SolveResult(
                    status=Status.NO_SOLUTION,
                    objective=None,
                    bound=bound if isinstance(bound, float) else None,
                    gap=None,
                    seconds=time.perf_counter() - start,
                    assignment=None,
                    solver="cbc",
                    log=read(),
                    stop=Stop.CLOCK,
                )
        return classify(m, read(), seconds=time.perf_counter() - start)


def classify(m: HubModel, text: str, *, seconds: float) -> SolveResult:
    """Turn PuLP's ``status``/``sol_status`` and the CBC log into a SolveResult."""
    info = parse_cbc_log(text)
    result = str(info.get("result", ""))
    status, sol_status = m.problem.status, m.problem.sol_status
    has_solution = sol_status in (
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    ) or (status == pulp.LpStatusOptimal and sol_status != pulp.LpSolutionNoSolutionFound)
    objective = pulp.value(m.problem.objective) if has_solution else None
    found = info.get("bound")
    bound = found if isinstance(found, float) else None
    if status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        label = Status.INFEASIBLE
    elif "infeasible" in result.lower():
        label = Status.INFEASIBLE
    elif not has_solution:
        label = Status.NO_SOLUTION
    elif result.startswith("Optimal") and sol_status == pulp.LpSolutionOptimal:
        label = Status.OPTIMAL
    elif (
        result.lower().startswith("stopped on time") or sol_status == pulp.LpSolutionIntegerFeasible
    ):
        label = Status.TIME_LIMITED
    else:
        label = Status.OPTIMAL
    lowered = result.lower()
    stop = (
        Stop.CLOCK if lowered.startswith("stopped on time")
        else Stop.WORK if lowered.startswith("stopped on node")
        else Stop.PROOF
    )  # fmt: skip
    return SolveResult.of_run(
        label, objective, bound, assignment=read_assignment(m) if has_solution else None,
        solver="cbc", seconds=seconds, log=text, stop=stop,
        work=int(info.get("iterations", 0)),  # type: ignore[call-overload]
    )  # fmt: skip
