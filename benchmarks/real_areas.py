"""Solve real NHS areas and score today's PCNs with the same measures.

    python benchmarks/real_areas.py [--areas llr,hull,cambs,ncumbria] [--time-limit 120]
        [--cap 30] [--band 30000-50000] [--oversize own_hub|error] [--solver cbc]
        [--band-mode strict|rural_exception|elastic] [--contiguous | --no-contiguous]
        [--min-list-size 100] [--workers 1] [--out FILE.csv] [--heuristic-only]
        [--data ../shared/data]
    python benchmarks/real_areas.py --all-ccgs [--workers N] [--out FILE.csv]
    python benchmarks/real_areas.py --ccgs 72Q,91Q,03W+04C+04V [--time-limit 120]
    python benchmarks/real_areas.py --icbs QOP [--time-limit 300]

Builds each area from the NHS files as published in ``../shared/data/nhs`` (list sizes
1 Jan 2021, ODS register, ePCN membership as at 2021-01-01, postcode coordinates;
closed/dormant practices and small lists left out), makes a straight-line travel matrix
(no road network in ``../shared/data`` covers these areas), solves with
:func:`hubopt.pipeline.solve_matrix` and scores today's PCNs with
:func:`hubopt.outputs.evaluate.score`.

Areas: ``--areas`` names the four areas of ``AREAS`` (llr, hull, cambs, ncumbria);
``--all-ccgs`` is every CCG in the list-size file (its CCG code column, January 2021:
135), one area each; ``--ccgs`` a chosen few (``A+B+C`` joins CCGs into one area, e.g.
``03W+04C+04V`` is LLR); ``--icbs`` whole ICBs through the scenario's ``[area] icb``
(the practice's ICB/STP code from the register's health-geography column, late 2021,
e.g. QOP = Greater Manchester). The options combine. With ``--all-ccgs``, ``--ccgs`` or
``--icbs`` the defaults are the issue's rules: band 30,000-50,000 with ``band =
"rural_exception"``, cap 30 minutes, ``contiguous = true``, ``min_list_size = 1000``,
time limit 120 s per CCG area and 300 s per ICB; otherwise today's (``strict``, not
contiguous, lists under 100 left out, 120 s). An option given on the command line always
wins. Always: straight-line travel, CBC unless ``--solver``, ``as_at = "2021-01-01"``.

Each area runs in a fresh child process (``spawn``; ``--workers`` at a time), so one
area's crash or memory cannot touch the others, and its peak memory is its own: ``MiB``
is the child's ``ru_maxrss`` (Python: inputs, model, PuLP), ``solvMiB`` the largest
VmHWM of its subprocesses (the CBC executable), sampled from ``/proc`` twice a second. A
child still running at 3 x its time limit + 60 s is killed with its solver (status
``killed``; MiB then from ``/proc/<pid>/status`` VmHWM); one that dies without a result
is ``crashed``. Either row keeps what the child reported before (practices, today's
PCNs, stage timings) and names the last pipeline stage it finished. One line per area as
it finishes: plan figures, and today's PCNs measured the same way (minutes to the hub
site, the PCN's member that minimises patient-weighted travel; mean is patient-weighted;
in band = share of hubs within the band). ``s`` is the area's wall time including inputs
and the child's start, ``solve_s`` the solve stage alone; ``gap`` is ``result.gap``
(with staged objectives, e.g. the rural-exception shortfall first, the worst stage's
gap) and ``bound`` is ``result.bound`` (the last stage's objective bound); the CSV's
``stages`` column has each stage's status, gap and seconds. An area that fails shows the
error's class as its status and a short reason. The last line is ``areas N plans K
proven P median_gap G worst_gap W total_s T`` (gaps in %, over areas with a plan; proven
= status optimal). ``--out`` writes every row (with timings, worst minutes, stages, load
average and notes) to a CSV, rewritten as each area finishes. ``--heuristic-only`` sets
the scenario's ``heuristic_only`` (refused if this hubopt's Scenario has no such field).
Figures, not tests: nothing here asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import os
import resource
import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from pathlib import Path

import pandas as pd

import hubopt
from hubopt import pipeline
from hubopt.batch import NHS_AS_AT, NHS_FILES, nhs_scenario
from hubopt.errors import HuboptError
from hubopt.inputs import load
from hubopt.outputs import evaluate, tables
from hubopt.scenario import BAND_MODES, OVERSIZE_POLICIES, SOLVERS, Scenario

HERE = Path(__file__).resolve().parent

#: name -> (description, CCG codes of January 2021)
AREAS = {
    "llr": ("Leicester, Leicestershire & Rutland", ["03W", "04C", "04V"]),
    "hull": ("Hull", ["03F"]),
    "cambs": ("Cambridgeshire & Peterborough", ["06H"]),
    "ncumbria": ("North Cumbria", ["01H"]),
}
PCN_MAP = "gp-reg-pat-prac-map_2022-01.csv"  # ICB names only
CCG_NAMES = "boundaries/ccg_apr2020_en_buc.geojson"  # CCG names by ONS code only
AS_AT = NHS_AS_AT
#: option -> (today's default, the issue's default)
DEFAULTS = {
    "band_mode": ("strict", "rural_exception"),
    "contiguous": (False, True),
    "min_list_size": (100, 1000),
}
TIME_LIMIT = {"named": 120.0, "ccg": 120.0, "icb": 300.0}
#: printed columns: (row key, header, width)
LINE = [
    ("code", "code", 12),
    ("name", "name", 28),
    ("practices", "pract", 5),
    ("patients", "patients", 9),
    ("hubs", "hubs", 4),
    ("status", "status", 15),
    ("gap", "gap", 7),
    ("bound", "bound", 10),
    ("seconds", "s", 6),
    ("solve_s", "solve_s", 7),
    ("method", "method", 9),
    ("peak_MiB", "MiB", 5),
    ("solver_MiB", "solvMiB", 7),
    ("PCNs", "PCNs", 4),
    ("PCN_in_band", "PCN_inb", 7),
    ("PCN_mean_min", "PCN_mean", 8),
    ("in_band", "inb", 4),
    ("mean_min", "mean", 6),
]
CSV_COLUMNS = [k for k, _, _ in LINE] + [
    "kind",
    "ccgs",
    "icbs",
    "time_limit",
    "objective",
    "PCN_worst_min",
    "worst_min",
    "inputs_s",
    "matrix_s",
    "neighbours_s",
    "stages",
    "bound_kind",
    "plan_source",
    "proof",
    "timings",
    "load1",
    "error",
    "notes",
]


# --- areas --------------------------------------------------------------------------


def _split(text: str | None) -> list[str]:
    return [t.strip().upper() for t in (text or "").split(",") if t.strip()]


def list_size_ccgs(nhs_dir: Path) -> pd.DataFrame:
    """CCG code -> ONS code and practice count, from the list-size file."""
    df = pd.read_csv(nhs_dir / NHS_FILES["list_sizes"], dtype=str)
    return df.groupby("CCG_CODE").agg(ons=("ONS_CCG_CODE", "first"), practices=("CODE", "size"))


def ccg_names(data: Path, ccgs: pd.DataFrame) -> dict[str, str]:
    """CCG code -> short name (ONS CCG April 2020 boundaries, joined on the ONS code)."""
    try:
        features = json.loads((data / CCG_NAMES).read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError):
        return {}
    by_ons = {f["properties"]["ccg20cd"]: f["properties"]["ccg20nm"] for f in features}
    short = {c: by_ons.get(ons, "") for c, ons in ccgs["ons"].items()}
    return {c: n.removeprefix("NHS ").removesuffix(" CCG") for c, n in short.items()}


def icb_names(nhs_dir: Path) -> dict[str, str]:
    """ICB (STP) code -> name, from the Jan 2022 practice map."""
    try:
        df = pd.read_csv(nhs_dir / PCN_MAP, dtype=str, usecols=["STP_CODE", "STP_NAME"])
    except (OSError, ValueError):
        return {}
    return dict(df.drop_duplicates("STP_CODE").itertuples(index=False, name=None))


def choose_areas(args: argparse.Namespace, ap: argparse.ArgumentParser) -> list[dict]:
    """The areas to run, in order: named areas, then CCGs, then ICBs."""
    nhs_dir = args.data / "nhs"
    areas: list[dict] = []
    for name in args.areas_list:
        desc, codes = AREAS[name]
        areas.append({"code": name, "name": desc, "kind": "named", "ccg": codes, "icb": []})
    if args.all_ccgs or args.ccgs:
        ccgs = list_size_ccgs(nhs_dir)
        names = ccg_names(args.data, ccgs)
        groups = [[c] for c in ccgs.index] if args.all_ccgs else []
        groups += [[c.strip() for c in g.split("+") if c.strip()] for g in _split(args.ccgs)]
        unknown = sorted({c for g in groups for c in g} - set(ccgs.index))
        if unknown:
            ap.error(f"CCG codes not in {NHS_FILES['list_sizes']}: {', '.join(unknown)}")
        seen = set()
        for g in groups:
            code = "+".join(g)
            if code not in seen:
                seen.add(code)
                name = " + ".join(names.get(c, "") or c for c in g)
                areas.append({"code": code, "name": name, "kind": "ccg", "ccg": g, "icb": []})
    if args.icbs:
        names = icb_names(nhs_dir)
        for code in dict.fromkeys(_split(args.icbs)):
            name = names.get(code, "").removesuffix(" Health and Social Care Partnership")
            areas.append({"code": code, "name": name, "kind": "icb", "ccg": [], "icb": [code]})
    return areas


# --- one area (in the child process) -----------------------------------------------


def issue_rules(opts: dict) -> dict:
    """The ``[rules]`` of a scenario from the benchmark's options (band ``MIN-MAX``)."""
    lo, hi = (int(v) for v in opts["band"].split("-"))
    return {
        "population_min": lo,
        "population_max": hi,
        "travel_cap_minutes": opts["cap"],
        "oversize": opts["oversize"],
        "band": opts["band_mode"],
        "contiguous": opts["contiguous"],
    }


def area_scenario(area: dict, opts: dict, nhs_dir: Path) -> Scenario:
    chosen = {"ccg": area["ccg"]} if area["ccg"] else {"icb": area["icb"]}
    scenario = nhs_scenario(
        nhs_dir,
        name=f"real-{area['code']}",
        description=area["name"],
        rules=issue_rules(opts),
        area={**chosen, "min_list_size": opts["min_list_size"]},
        solver={"name": opts["solver"], "time_limit_seconds": area["time_limit"],
                "repeatable": False},  # the best plan in the time, as a planner's run
    )  # fmt: skip
    if opts["heuristic_only"]:
        scenario = scenario.replace(heuristic_only=True)
    return scenario


def _reason(exc: BaseException) -> str:
    """A short reason: the message's first line and the first problem, if any."""
    if isinstance(exc, HuboptError):
        text = exc.message.splitlines()[0] if exc.message else ""
        if exc.problems:
            more = len(exc.problems) - 1
            text += f" [{exc.problems[0]}" + (f" +{more} more]" if more else "]")
    else:
        text = str(exc).splitlines()[0] if str(exc) else repr(exc)
    return text if len(text) <= 300 else text[:297] + "..."


class _Timings(dict):
    """Stage timings that call ``report`` as each stage finishes (how far an area got)."""

    def __init__(self, report: Callable[[], None]):
        super().__init__()
        self._report = report

    def __setitem__(self, key: str, value: float) -> None:
        super().__setitem__(key, value)
        self._report()


def base_row(area: dict) -> dict:
    row = {k: area[k] for k in ("code", "name", "kind", "time_limit")}
    return row | {"ccgs": "+".join(area["ccg"]), "icbs": "+".join(area["icb"])}


def timing_columns(timings: dict[str, float]) -> dict:
    """``inputs_s``, ``matrix_s``, ``neighbours_s``, ``solve_s``, and ``timings``: every
    pipeline stage in order (e.g. ``diagnose``, ``model``, ``check``, ``explain``)."""
    cols: dict[str, object] = {
        f"{k}_s": round(timings[k], 1)
        for k in ("inputs", "matrix", "neighbours", "solve")
        if k in timings
    }
    cols["timings"] = ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
    return cols


def run_area(area: dict, opts: dict, progress: Callable[[dict], None] | None = None) -> dict:
    """One row: the area's figures, or its error. ``progress`` gets the row so far, with
    ``stages_done`` (stage -> seconds), after the inputs, today's PCNs and each stage of
    the pipeline."""
    nhs_dir = Path(opts["nhs_dir"])
    row: dict[str, object] = base_row(area)
    notes: list[str] = []

    def report() -> None:
        if progress is not None:
            progress(row | {"stages_done": dict(timings)})

    timings = _Timings(report)
    try:
        start = time.perf_counter()
        scenario = area_scenario(area, opts, nhs_dir)
        loaded = load.load_inputs(scenario)
        practices = loaded.practices
        notes += loaded.notes
        row |= {"practices": len(practices), "patients": int(practices["list_size"].sum())}
        timings["inputs"] = time.perf_counter() - start
        minutes = pipeline.travel_matrix(scenario, practices, timings=timings, notes=notes)
        today = evaluate.overall(
            *evaluate.score(loaded.current["group_id"], practices, minutes, scenario)
        )
        row |= {
            "PCNs": today["hubs"],
            "PCN_worst_min": today["worst minutes to site"],
            "PCN_mean_min": today["mean minutes to site (patient-weighted)"],
            "PCN_in_band": today["share in band"],
        }
        report()
        result, _ = pipeline.solve_matrix(
            practices, minutes, scenario, timings=timings, current=loaded.current,
            boundary=loaded.boundary, notes=notes,
        )  # fmt: skip
        row |= {
            "status": result.status,
            "gap": result.gap,
            "bound": result.bound,
            "objective": result.objective,
            "bound_kind": result.bound_kind,
            "plan_source": result.plan_source,
            "proof": result.proof,
            "method": method(result.bound_kind, result.proof),
            "stages": "; ".join(
                f"{st.stage} {st.status} gap "
                f"{'-' if st.gap is None else format(st.gap, '.2%')} {st.seconds:.2f}s"
                for st in result.stages
            ),
        }
        assignment = tables.assignment_table(result.assignment, practices, minutes)
        plan = evaluate.overall(assignment, tables.hub_table(assignment, practices, scenario))
        row |= {
            "hubs": plan["hubs"],
            "worst_min": plan["worst minutes to site"],
            "mean_min": plan["mean minutes to site (patient-weighted)"],
            "in_band": plan["share in band"],
        }
    except Exception as exc:  # figures, not tests: every failure becomes a row
        row |= {"status": type(exc).__name__, "error": _reason(exc)}
    row |= timing_columns(timings)
    row["notes"] = " | ".join(n for n in notes if not n.startswith("left out 0 "))
    return row


def child(area: dict, opts: dict, conn) -> None:
    """Child process: run one area, send its row (with peak memory) and exit.

    The solver's peak is sampled from ``/proc`` every half second (its own VmHWM, so
    not the Python process it was started from, which ``RUSAGE_CHILDREN`` would count).
    """
    os.setpgid(0, 0)  # own process group: a kill also ends the solver it started
    me, parent, solver_peak, done = os.getpid(), os.getppid(), [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            solver_peak[0] = max(solver_peak[0], _group_solver_mib(me, me) or 0)
            if os.getppid() != parent:  # the benchmark was killed: end this area too
                os.killpg(me, signal.SIGKILL)

    threading.Thread(target=sample, daemon=True).start()
    row = run_area(area, opts, lambda partial: conn.send(("progress", partial)))
    done.set()
    row["peak_MiB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    row["solver_MiB"] = solver_peak[0] or None
    conn.send(("done", row))
    conn.close()


# --- the parent: children, guard, output -------------------------------------------


def _hwm_mib(pid: int) -> int | None:
    """Peak resident memory of a live process (Linux VmHWM), MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _group_solver_mib(pgid: int, leader: int) -> int | None:
    """Largest VmHWM among the other live processes of a process group (the solver)."""
    peaks = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if pid != leader and int(fields[2]) == pgid:
                peaks.append(_hwm_mib(pid))
        except (OSError, ValueError, IndexError):
            continue
    peaks = [p for p in peaks if p is not None]
    return max(peaks) if peaks else None


def _kill(proc) -> None:
    """Kill a child and everything in its process group (its solver), by id."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.join()


def fmt(value: object, key: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if key == "gap":
        return f"{value:.2%}"
    if key == "bound":
        return f"{value:.0f}"
    if key == "patients":
        return f"{value:,}"
    if key == "seconds":
        return f"{value:.0f}"
    return str(value)


def method(bound_kind: str, proof: str) -> str:
    """A short name for the bound and proof: ``SP-enum`` (set partitioning, proven by
    enumeration), ``SP-LP+`` (its LP bound raised by the enumeration), ``SP-LP`` (its
    LP bound), ``SP-lagr`` (its Lagrangian bound, column generation stopped early),
    ``compact`` (CBC/HiGHS on the compact model, or its LP/Lagrangian bound)."""
    if not bound_kind.startswith("set partitioning"):
        return "compact"
    if "enumeration" in proof or bound_kind.endswith("(enumeration)"):
        return "SP-enum"
    if "raised by enumeration" in bound_kind:
        return "SP-LP+"
    return "SP-LP" if "(LP" in bound_kind else "SP-lagr"


def line(row: dict) -> str:
    cells = []
    for key, _, width in LINE:
        text = fmt(row.get(key), key)
        cells.append(text[:width].ljust(width) if key == "name" else text.rjust(width))
    text = " ".join(cells)
    return f"{text}  {row['error']}" if row.get("error") else text


def header() -> str:
    return " ".join(h.ljust(w) if k == "name" else h.rjust(w) for k, h, w in LINE)


def summary(rows: list[dict], total_s: float) -> str:
    plans = [r for r in rows if r.get("hubs") is not None]
    proven = sum(r.get("status") == "optimal" for r in plans)
    gaps = [
        100 * (0.0 if r.get("gap") is None else r["gap"])
        for r in plans
        if r.get("gap") is not None or r.get("status") == "optimal"
    ]
    med = f"{statistics.median(gaps):.2f}" if gaps else "-"
    worst = f"{max(gaps):.2f}" if gaps else "-"
    return (
        f"areas {len(rows)} plans {len(plans)} proven {proven} median_gap {med} "
        f"worst_gap {worst} total_s {total_s:.0f}"
    )


def write_csv(rows: list[dict], path: Path) -> None:
    pd.DataFrame(rows, columns=CSV_COLUMNS).to_csv(path, index=False)


def _unfinished(run: dict, status: str, why: str) -> dict:
    """The row of an area that ended without a result: what it sent so far, and how far
    it got."""
    row = run["partial"] or base_row(run["area"])
    done = row.pop("stages_done", {})
    row |= timing_columns(done)
    last = list(done)[-1] if done else None
    after = f"; last stage done: {last} ({done[last]:.1f} s)" if last else "; no stage done"
    return row | {"status": status, "error": why + after}


def run_all(areas: list[dict], opts: dict, workers: int, out: Path | None) -> list[dict]:
    """Run every area in its own fresh process, ``workers`` at a time; print each row as
    its area finishes."""
    ctx = mp.get_context("spawn")
    pending = list(enumerate(areas))
    running: dict[int, dict] = {}  # index -> area, proc, conn, start, deadline, partial
    rows: dict[int, dict] = {}

    def finish(i: int, row: dict) -> None:
        run = running.pop(i)
        run["conn"].close()
        row["seconds"] = round(time.perf_counter() - run["start"], 1)
        row["load1"] = round(os.getloadavg()[0], 2)
        rows[i] = row
        print(line(row), flush=True)
        if out is not None:
            write_csv([rows[k] for k in sorted(rows)], out)

    def start(i: int, area: dict) -> None:
        print(f"[{i + 1}/{len(areas)}] {area['code']} {area['name']} ...", file=sys.stderr)
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=child, args=(area, opts, send), name=area["code"])
        begun = time.perf_counter()
        proc.start()
        send.close()
        deadline = begun + 3 * area["time_limit"] + 60
        running[i] = dict(area=area, proc=proc, conn=recv, start=begun, deadline=deadline)
        running[i]["partial"] = None

    try:
        while pending or running:
            while pending and len(running) < workers:
                start(*pending.pop(0))
            next_deadline = min(r["deadline"] for r in running.values())
            handles = [r["conn"] for r in running.values()]
            handles += [r["proc"].sentinel for r in running.values()]
            wait(handles, timeout=max(0.0, next_deadline - time.perf_counter()))
            for i, run in list(running.items()):
                proc, conn, row = run["proc"], run["conn"], None
                try:
                    while row is None and conn.poll():
                        kind, payload = conn.recv()
                        if kind == "done":
                            row = payload
                        else:
                            run["partial"] = payload
                except (EOFError, OSError):  # the child is gone without a result
                    proc.join()
                    why = f"child exited with code {proc.exitcode} and no result"
                    finish(i, _unfinished(run, "crashed", why))
                    continue
                if row is not None:
                    proc.join(timeout=30)
                    if proc.is_alive():
                        _kill(proc)
                    finish(i, row)
                elif not proc.is_alive():
                    why = f"child exited with code {proc.exitcode} and no result"
                    finish(i, _unfinished(run, "crashed", why))
                elif time.perf_counter() >= run["deadline"]:
                    peak, solver = _hwm_mib(proc.pid), _group_solver_mib(proc.pid, proc.pid)
                    _kill(proc)
                    guard = run["deadline"] - run["start"]
                    why = f"still running after {guard:.0f} s (3 x time limit + 60 s)"
                    row = _unfinished(run, "killed", why)
                    finish(i, row | {"peak_MiB": peak, "solver_MiB": solver})
    finally:
        for run in running.values():
            if run["proc"].is_alive():
                _kill(run["proc"])
    return [rows[k] for k in sorted(rows)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", help=f"comma-separated: {', '.join(AREAS)} (default: all four)")
    ap.add_argument("--all-ccgs", action="store_true", help="every CCG in the list-size file")
    ap.add_argument("--ccgs", help="comma-separated CCG codes; A+B+C joins CCGs into one area")
    ap.add_argument("--icbs", help="comma-separated ICB codes, e.g. QOP")
    ap.add_argument("--time-limit", type=float, help="seconds per area (default 120; ICBs 300)")
    ap.add_argument("--cap", type=float, default=30.0, help="travel cap, minutes")
    ap.add_argument("--band", default="30000-50000", help="population band, MIN-MAX")
    ap.add_argument("--oversize", default="own_hub", choices=OVERSIZE_POLICIES)
    ap.add_argument(
        "--band-mode", choices=BAND_MODES, help="default strict; issue: rural_exception"
    )
    ap.add_argument(
        "--contiguous",
        action=argparse.BooleanOptionalAction,
        help="one connected area per hub (default off; issue rules: on)",
    )
    ap.add_argument(
        "--min-list-size", type=int, help="leave out smaller lists (default 100; issue: 1000)"
    )
    ap.add_argument("--solver", default="cbc", choices=SOLVERS)
    ap.add_argument("--workers", type=int, default=1, help="areas solved at once")
    ap.add_argument("--out", type=Path, help="write every row to this CSV")
    ap.add_argument(
        "--heuristic-only", action="store_true", help="set the scenario's heuristic_only"
    )
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    args = ap.parse_args()
    issue_rules = bool(args.all_ccgs or args.ccgs or args.icbs)
    if args.areas is None:
        args.areas = "" if issue_rules else ",".join(AREAS)
    args.areas_list = [a.strip() for a in args.areas.split(",") if a.strip()]
    unknown = sorted(set(args.areas_list) - set(AREAS))
    if unknown:
        ap.error(f"unknown areas {unknown}; known: {', '.join(AREAS)}")
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    fields = {f.name for f in dataclasses.fields(Scenario)}
    if args.heuristic_only and "heuristic_only" not in fields:
        ap.error(
            "--heuristic-only: this hubopt's Scenario has no field heuristic_only "
            f"({Path(hubopt.__file__).parent}); it needs the heuristic-only solver change"
        )
    for key, (today, issue) in DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, issue if issue_rules else today)
    args.data = args.data.resolve()
    nhs_dir = args.data / "nhs"
    missing = [f for f in NHS_FILES.values() if not (nhs_dir / f).is_file()]
    if missing:
        print(f"Real NHS data not found in {nhs_dir} ({', '.join(missing)}); nothing to do.")
        return
    areas = choose_areas(args, ap)
    if not areas:
        ap.error("no areas: give --areas, --all-ccgs, --ccgs or --icbs")
    for area in areas:
        area["time_limit"] = args.time_limit or TIME_LIMIT[area["kind"]]
    opts = {
        k: getattr(args, k)
        for k in ("band", "cap", "oversize", "band_mode", "contiguous", "min_list_size",
                  "solver", "heuristic_only")
    }  # fmt: skip
    opts["nhs_dir"] = str(nhs_dir)
    limits = sorted({a["time_limit"] for a in areas})
    print(
        f"Band {args.band} patients ({args.band_mode}), travel cap {args.cap:g} min, "
        f"oversize = {args.oversize}, contiguous = {args.contiguous}, lists under "
        f"{args.min_list_size:,} left out, as at {AS_AT}, solver {args.solver}"
        f"{' (heuristic only)' if args.heuristic_only else ''}, time limit "
        f"{'/'.join(f'{t:g}' for t in limits)} s per area, {args.workers} worker(s); "
        f"hubopt from {Path(hubopt.__file__).parent}.\n"
        "Travel times are straight-line estimates: no road network in ../shared/data covers "
        "these areas.\n"
        "Minutes are to the hub site (PCNs: the member minimising patient-weighted travel); "
        "mean is patient-weighted; in band = share of hubs within the band; s = wall time "
        "of the area (inputs, solve, child start); MiB = peak of the area's process, "
        "solvMiB of its solver.\n",
        flush=True,
    )
    print(header(), flush=True)
    start = time.perf_counter()
    rows = run_all(areas, opts, args.workers, args.out)
    print(summary(rows, time.perf_counter() - start), flush=True)


if __name__ == "__main__":
    main()
