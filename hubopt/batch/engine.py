"""Run areas in parallel: local processes, or a Dask cluster.

:func:`solve_area_task` runs in a worker: it solves one area with
:func:`hubopt.pipeline.run_inputs`, writes the area's folder and its ``area.json``
record as soon as it is done, and returns the area's summary row; it never raises (a
failure is a row with its reason). :func:`run_local` uses
:class:`concurrent.futures.ProcessPoolExecutor` and starts a new pool when a worker dies
(the unfinished areas are submitted again, each at most ``retries`` more times);
:func:`run_dask` submits to a Dask ``distributed`` client with ``retries=``.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import psutil

from hubopt import paths, pipeline
from hubopt.errors import HuboptError, InputError, OutputError
from hubopt.inputs import load
from hubopt.model import adjacency
from hubopt.outputs import evaluate
from hubopt.roads import matrix
from hubopt.scenario import Scenario

#: the file in each area's folder that records a finished area (its row and key)
RECORD = "area.json"
INSTALL_HINT = 'Dask is not installed; pip install -e ".[dask]" (dask[distributed])'


@dataclass
class Task:
    """One area to solve, as shipped to a worker."""

    code: str
    scenario: Scenario
    inputs: load.Inputs
    key: str
    folder: Path


Row = dict[str, Any]


def reason(exc: BaseException) -> str:
    """A short reason for a summary row: the message and its first problems."""
    if isinstance(exc, HuboptError):
        text = exc.message
        if exc.problems:
            more = len(exc.problems) - 3
            text += " " + "; ".join(exc.problems[:3]) + (f" (+{more} more)" if more > 0 else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 1000 else text[:997] + "..."


def contiguous_share(groups: pd.Series, neighbours: nx.Graph) -> float | None:
    """Share of groups whose practices form one connected area of neighbours."""
    g = groups.dropna()
    g = g[g.astype(str) != ""]
    if g.empty:
        return None
    flags = [nx.is_connected(neighbours.subgraph(list(m))) for _, m in g.groupby(g).groups.items()]
    return sum(flags) / len(flags)


def _figures(prefix: str, assignment: pd.DataFrame, hubs: pd.DataFrame) -> Row:
    o = evaluate.overall(assignment, hubs)
    n, inside = len(hubs), int((hubs["in_band"] == "yes").sum()) if len(hubs) else 0
    return {
        f"{prefix}hubs": n,
        f"{prefix}hubs_in_band": inside,
        f"{prefix}in_band_share": round(inside / n, 4) if n else None,
        f"{prefix}mean_min": o["mean minutes to site (patient-weighted)"],
        f"{prefix}worst_min": o["worst minutes to site"],
    }


def travel_columns(minutes: pd.DataFrame) -> Row:
    """How an area's travel times were made: ``travel`` is ``road`` or ``straight
    line``; ``travel_note`` says why an area that was given roads fell back."""
    meta = matrix.matrix_meta(minutes)
    road = meta.get("method") == matrix.ROAD
    note = meta.get("fallback") or ""
    return {"travel": "road" if road else "straight line", "travel_note": note}


def area_row(res: pipeline.RunResult, area_inputs: load.Inputs) -> Row:
    """An area's figures for the national summary: the plan, and today's grouping
    measured the same way (best site per group, the same travel matrix, band and
    practice neighbours)."""
    practices, minutes, scenario = res.practices, res.matrix, res.scenario
    current = area_inputs.current
    neighbours = adjacency.practice_neighbours(practices, area_inputs.boundary)
    plan_groups = res.assignment.set_index("practice_code")["hub_id"].replace("", None)
    row: Row = {
        "practices": len(res.assignment),
        "patients": int(res.assignment["list_size"].sum()),
        "status": res.solve.status,
        "gap": res.solve.gap,
        # repeatable runs: the steps the clock ended, "none" when work limits ended all
        "clock_stops": "; ".join(res.solve.clock_stops) or "none" if res.solve.repeatable else None,
        # what gave the bound, where the plan came from, the proof of optimality used
        "bound_kind": res.solve.bound_kind,
        "plan_source": res.solve.plan_source,
        "proof": res.solve.proof,
        **_figures("", res.assignment, res.hubs),
        "contiguous_share": contiguous_share(plan_groups, neighbours),
        **travel_columns(res.matrix),
    }
    if current is not None:
        groups = current["group_id"]
        today = evaluate.score(groups, practices, minutes, scenario)
        row |= _figures("PCN_", *today)
        row["PCN_contiguous_share"] = contiguous_share(groups, neighbours)
    return row


def solve_area_task(task: Task) -> Row:
    """Solve one area in a worker, write its folder and record; never raises."""
    start = time.perf_counter()
    os.environ[matrix.ROUTING_WORKERS_ENV] = "1"  # areas are the parallel work: route in-process
    row: Row = {"area": task.code, "key": task.key}
    try:
        try:
            task.folder.mkdir(parents=True, exist_ok=True)
            (task.folder / RECORD).unlink(missing_ok=True)
        except OSError as exc:
            raise paths.write_error(exc, task.folder) from None
        res = pipeline.run_inputs(task.scenario, task.inputs, out_dir=task.folder)
        row |= area_row(res, task.inputs)
    except Exception as exc:  # every failure becomes the area's row, never the batch's
        row |= {"status": "failed", "reason": reason(exc)}
    row["seconds"] = round(time.perf_counter() - start, 1)
    try:
        write_record(task.folder, row)
    except OutputError as exc:  # no record: the area is not finished, a rerun redoes it
        keep = ("area", "key", "seconds")
        row = {k: row[k] for k in keep} | {"status": "failed", "reason": reason(exc)}
    return row


def write_record(folder: Path, row: Row) -> None:
    """Write ``area.json`` atomically (a rename), so a half-written record never exists;
    an :class:`~hubopt.errors.OutputError` (and no record) when it cannot be written."""
    tmp = folder / f"{RECORD}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(row, indent=2, default=str), encoding="utf-8")
        tmp.replace(folder / RECORD)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise paths.write_error(exc, folder) from None


def read_record(folder: Path) -> Row | None:
    try:
        return json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def died(task: Task, attempts: int, why: str) -> Row:
    """The row of an area whose worker died on every attempt (recorded, so the area's
    folder says so too)."""
    row: Row = {
        "area": task.code,
        "key": task.key,
        "status": "failed",
        "reason": f"the worker solving it died {attempts} time(s): {why}",
    }
    with contextlib.suppress(OutputError):  # the row says so; a rerun tries it again
        write_record(task.folder, row)
    return row


Solve = Callable[[Task], Row]


def _worker_start() -> None:
    """Workers leave Ctrl-C to the batch: the parent stops them (a worker's own
    Ctrl-C handling would record a cut-short plan as the area's result)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the pool's workers and their solvers, by
    process id (Ctrl-C or an error in the batch itself). The workers are killed through
    their own ``Process`` objects, so the pool still reaps them."""
    workers = dict(pool._processes or {})  # before shutdown, which forgets them
    for pid, proc in workers.items():
        try:
            for child in psutil.Process(pid).children(recursive=True):  # CBC
                child.kill()
        except psutil.NoSuchProcess:
            pass
        proc.kill()
    for proc in workers.values():  # reaped here and now: the pool's manager thread,
        proc.join(timeout=5)  # left polling a worker reaped elsewhere, spun at exit
    pool.shutdown(wait=False, cancel_futures=True)


def run_local(
    tasks: Iterable[Task],
    on_done: Callable[[Row], None],
    *,
    workers: int = 1,
    retries: int = 2,
    solve: Solve = solve_area_task,
    on_running: Callable[[int], None] | None = None,
) -> None:
    """Solve ``tasks`` in ``workers`` local processes (``spawn``), calling ``on_done``
    with each row as its area finishes.

    A worker that dies breaks the pool: a new pool takes the unfinished areas again.
    An area caught in more than ``retries`` broken pools is then run alone, so the one
    whose own worker dies is named (a failed row) and the others still finish. Ctrl-C
    ends the workers and their solvers before it reaches the caller."""
    todo, alone = list(tasks), list[Task]()
    breaks = {t.code: 0 for t in todo}
    ctx = mp.get_context("spawn")
    while todo or alone:
        solo = not todo
        batch, todo = (todo, []) if todo else ([alone.pop(0)], [])
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_start) as pool:
            try:
                futures: dict[Future, Task] = {pool.submit(solve, t): t for t in batch}
                pending = set(futures)
                while pending:
                    if on_running is not None:
                        on_running(min(workers, sum(f.running() for f in pending)))
                    done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                    for f in done:
                        t = futures[f]
                        try:
                            row = f.result()
                        except BrokenProcessPool as exc:
                            breaks[t.code] += 1
                            if solo:
                                why = f"{exc or 'its process ended'} (run alone)"
                                on_done(died(t, breaks[t.code], why))
                            else:
                                (todo if breaks[t.code] <= retries else alone).append(t)
                            continue
                        on_done(row)
            except BaseException:  # Ctrl-C, or on_done failed: no worker runs on
                _stop(pool)
                raise


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise InputError("Dask distributed is needed for a scheduler.", [INSTALL_HINT]) from None
    return distributed


def run_dask(
    tasks: Iterable[Task],
    on_done: Callable[[Row], None],
    *,
    scheduler: str | None = None,
    client: Any = None,
    workers: int = 1,
    retries: int = 2,
    solve: Solve = solve_area_task,
    on_running: Callable[[int], None] | None = None,
) -> None:
    """Solve ``tasks`` on Dask: the given ``client``, the scheduler at ``scheduler``
    (``tcp://host:8786``), or, with ``scheduler = "local"``, a ``LocalCluster`` of
    ``workers`` single-threaded processes started and closed here. A task whose worker
    dies is rerun by Dask (``retries``; the scheduler's ``allowed-failures`` also
    applies); one that still fails becomes a failed row."""
    dd = _distributed()
    own: list[Any] = []
    try:
        if client is None:
            if scheduler in (None, "local"):
                cluster = dd.LocalCluster(
                    n_workers=workers, threads_per_worker=1, dashboard_address=None
                )
                own.append(cluster)
                client = dd.Client(cluster)
            else:
                client = dd.Client(scheduler)
            own.insert(0, client)
        todo = list(tasks)
        futures = {
            client.submit(solve, t, key=f"hubopt-{t.code}-{t.key[:16]}", retries=retries): t
            for t in todo
        }
        try:
            _collect(dd, futures, on_done, workers, retries, on_running)
        except BaseException:  # Ctrl-C: nothing of this batch runs on in the cluster
            client.cancel(list(futures))
            raise
    finally:
        for thing in own:
            thing.close()


def _collect(
    dd: Any,
    futures: dict[Any, Task],
    on_done: Callable[[Row], None],
    workers: int,
    retries: int,
    on_running: Callable[[int], None] | None,
) -> None:
    """Hand each Dask result to ``on_done`` as it comes (a lost one as a failed row)."""
    if futures:
        for f in dd.as_completed(list(futures)):
            t = futures[f]
            if on_running is not None:
                on_running(min(workers, sum(g.status == "pending" for g in futures)))
            try:
                row = f.result()
            except Exception as exc:  # KilledWorker, a lost scheduler: the area's row
                row = died(t, retries + 1, reason(exc))
            on_done(row)
