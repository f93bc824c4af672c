"""Every area at once: one set of rules over every CCG / sub-ICB location or ICB.

:func:`run_batch` reads the practices once, splits them into areas
(:mod:`hubopt.batch.areas`: each practice in exactly one area), solves the areas in
parallel (:mod:`hubopt.batch.engine`: local processes, or Dask), writes each area's
folder as soon as it is done, skips areas already solved with the same inputs and
rules, and writes the national outputs (:mod:`hubopt.batch.national`)::

    out/
      summary.csv  left_out.csv  england.gpkg  england.geojson  index.html
      03W/ assignment.csv hubs.csv map.html report.html ... area.json
      04C/ ...
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from hubopt import inputs, paths
from hubopt.batch import engine, national
from hubopt.batch.areas import (
    LEVELS,
    NHS_AS_AT,
    NHS_FILES,
    NO_AREA,
    NO_AREA_STATUS,
    BatchArea,
    BatchOptions,
    batch_options,
    input_rows,
    load_batch,
    nhs_scenario,
    split_areas,
)
from hubopt.errors import OutputExistsError
from hubopt.inputs import PracticeTable, load
from hubopt.roads import store
from hubopt.scenario import Scenario
from hubopt.text import plural

log = logging.getLogger(__name__)

__all__ = [
    "LEVELS",
    "NHS_AS_AT",
    "NHS_FILES",
    "NO_AREA",
    "BatchOptions",
    "BatchResult",
    "batch_options",
    "load_batch",
    "nhs_scenario",
    "run_batch",
]


@dataclass
class BatchResult:
    """What a batch produced: the national summary (one row per area), England's
    figures (:func:`hubopt.batch.national.national_figures`), the files written and the
    index page's size in bytes."""

    summary: pd.DataFrame
    figures: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    index_bytes: int = 0
    solved: list[str] = field(default_factory=list)  # areas solved in this run
    reused: list[str] = field(default_factory=list)  # areas kept from an earlier run


def _base_row(area: BatchArea) -> dict[str, Any]:
    left = area.left_out
    return {
        "area": area.code,
        "name": area.name,
        "practices_in_file": area.practices_in_file,
        "patients_in_file": area.patients_in_file,
        "left_out": len(left),
        "left_out_patients": int(left["patients"].sum()) if len(left) else 0,
        "folder": area.folder if area.code != NO_AREA else "",
    }


def _left_out_table(
    areas: list[BatchArea], rows: pd.DataFrame, summary: pd.DataFrame, level: str
) -> pd.DataFrame:
    """Every practice in the input that no plan holds, with its area, reason and
    patients: left out by a rule or for problems in its row, in no area, or in an
    area that failed (a row with problems of its own gives them as its reason)."""
    failed = summary[summary["status"].eq("failed")].set_index("area")["reason"]
    cols = ["practice_code", "name", "area", "list_size", "reason"]
    parts = []
    for a in areas:
        if a.code == NO_AREA or a.code in failed.index:
            members = rows[rows["area"].isin(a.code.split("+") if a.code != NO_AREA else [""])]
            why = (
                f"no {LEVELS[level]} in the input"
                if a.code == NO_AREA
                else f"area {a.code} failed: {failed[a.code]}"
            )
            reason = members["problem"].where(members["problem"].ne(""), why)
            part = members.assign(area=a.code, list_size=members["patients"], reason=reason)
        elif len(a.left_out):
            left = a.left_out
            part = left.assign(area=a.code, list_size=left["patients"])
        else:
            continue
        parts.append(part[cols])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def _plan_reuse(
    areas: list[BatchArea], out: Path, force: bool
) -> tuple[list[engine.Task], dict[str, dict[str, Any]]]:
    """The areas to solve now, and the finished rows kept from an earlier run (same
    key, a plan). A folder holding a plan for other inputs or rules is refused
    without ``force`` (before any work)."""
    tasks, kept, clash = [], {}, []
    for a in areas:
        if a.inputs is None:
            continue
        folder = out / a.folder
        record = engine.read_record(folder)
        has_plan = record is not None and record.get("status") != "failed"
        if has_plan and not force and record is not None:
            if record.get("key") == a.key:
                kept[a.code] = record
                continue
            clash.append(f"{folder}: a plan for other inputs or rules")
        tasks.append(engine.Task(a.code, a.scenario, a.inputs, a.key, folder))
    if clash:
        raise OutputExistsError(
            "Some areas already hold results from other inputs or rules; nothing was changed.",
            clash + ["use --force to replace them, or --out to write elsewhere"],
        )
    return tasks, kept


class _Progress:
    """A progress bar over areas: done, running, failed, best and worst gap so far."""

    def __init__(self, total: int, enabled: bool):
        self.bar = tqdm(total=total, unit="area", file=sys.stderr, disable=not enabled)
        self.running = 0
        self.failed = 0
        self.gaps: list[float] = []

    def show(self) -> None:
        gaps = f"{min(self.gaps):.2%}/{max(self.gaps):.2%}" if self.gaps else "-"
        self.bar.set_postfix_str(
            f"running {self.running}, failed {self.failed}, best/worst gap {gaps}"
        )

    def done(self, row: dict[str, Any]) -> None:
        if row.get("status") == "failed":
            self.failed += 1
        elif row.get("status") == "optimal":
            self.gaps.append(0.0)
        elif row.get("gap") is not None:
            self.gaps.append(float(row["gap"]))
        self.bar.update(1)
        self.show()

    def set_running(self, n: int) -> None:
        if n != self.running:
            self.running = n
            self.show()


def run_batch(
    scenario: Scenario,
    options: BatchOptions,
    *,
    out_dir: str | Path,
    force: bool = False,
    client: Any = None,
    progress: bool = False,
    on_area: Callable[[dict[str, Any]], None] | None = None,
    solve: engine.Solve = engine.solve_area_task,
    names: dict[str, str] | None = None,
) -> BatchResult:
    """Propose hubs for every area of ``options.level`` with the rules of ``scenario``.

    ``client`` is a Dask ``distributed.Client`` to run on (else ``options.scheduler``,
    else local processes); ``progress`` shows a bar over areas on stderr; ``on_area``
    hears each area's row as it finishes; ``solve`` is the per-area function (must be
    importable by the workers); ``names`` gives area names by code (else a practices
    column ``ccg_name`` / ``icb_name``, if any). A rerun keeps areas already solved with the same
    content key; ``force`` solves every area again.

    Raises
    ------
    InputError
        The practices cannot be read or split into areas.
    OutputExistsError
        An area's folder holds a plan for other inputs or rules and ``force`` is false.
    """
    out = Path(out_dir)
    paths.check_outputs(
        [(out, "--out folder")], [(out / name, "output file") for name in NATIONAL_FILES]
    )
    scenario = with_road_store(scenario, progress=progress)
    table = load.read_all_practices(scenario)
    boundary = inputs.read_boundary(scenario.boundary) if scenario.boundary else None
    areas = split_areas(table, scenario, options, boundary=boundary)
    for a in areas:
        a.name = (names or {}).get(a.code, a.name)
    tasks, kept = _plan_reuse(areas, out, force)
    out.mkdir(parents=True, exist_ok=True)
    base = {a.code: _base_row(a) for a in areas}
    rows: dict[str, dict[str, Any]] = {}
    for a in areas:
        if a.inputs is None:
            status = NO_AREA_STATUS if a.code == NO_AREA else "failed"
            rows[a.code] = base[a.code] | {"status": status, "reason": a.error}
    for code, record in kept.items():
        rows[code] = base[code] | record | {"reused": True}
    summary_path = out / "summary.csv"

    def write_summary() -> None:
        tmp = out / "summary.csv.tmp"
        try:
            national.summary_table(list(rows.values())).to_csv(tmp, index=False)
            tmp.replace(summary_path)
        except OSError as exc:
            raise paths.write_error(exc, out) from None

    bar = _Progress(len(tasks), progress)

    def done(row: dict[str, Any]) -> None:
        rows[row["area"]] = base[row["area"]] | row | {"reused": False}
        write_summary()
        bar.done(row)
        if on_area is not None:
            on_area(rows[row["area"]])

    write_summary()
    try:
        if client is not None or options.scheduler:
            engine.run_dask(
                tasks, done, scheduler=options.scheduler, client=client,
                workers=options.workers, retries=options.retries, solve=solve,
                on_running=bar.set_running,
            )  # fmt: skip
        elif tasks:
            engine.run_local(
                tasks, done, workers=options.workers, retries=options.retries, solve=solve,
                on_running=bar.set_running,
            )  # fmt: skip
    finally:
        bar.bar.close()
    summary = national.summary_table(list(rows.values()))
    try:
        return _national_outputs(scenario, options, table, areas, summary, out, tasks, kept)
    except OSError as exc:
        raise paths.write_error(exc, out) from None


def with_road_store(scenario: Scenario, *, progress: bool | None = None) -> Scenario:
    """The scenario with its road network replaced by the network's store, read from
    the extract now (once, for every area) unless an earlier run left it: the areas'
    workers then only open it, memory-mapped, and read their parts."""
    s = scenario
    if s.network_kind != "road" or s.network is None or s.matrix is not None:
        return s
    if s.download_place or s.download_polygon:
        return s
    road = store.load_store(s.network, progress=progress)
    log.info("batch: areas route on %r", road)
    return s.replace(network=road.path)


#: the files a batch writes in its --out folder
NATIONAL_FILES = ("summary.csv", "left_out.csv", "rejects.csv", "england.gpkg",
                  "england.geojson", "index.html")  # fmt: skip


def _national_outputs(
    scenario: Scenario,
    options: BatchOptions,
    table: PracticeTable,
    areas: list[BatchArea],
    summary: pd.DataFrame,
    out: Path,
    tasks: list[engine.Task],
    kept: dict[str, dict[str, Any]],
) -> BatchResult:
    summary_path = out / "summary.csv"
    summary.to_csv(summary_path, index=False)
    files = [summary_path]
    left = _left_out_table(areas, input_rows(table, options.level), summary, options.level)
    left.to_csv(out / "left_out.csv", index=False)
    files.append(out / "left_out.csv")
    if len(table.rejects):
        table.rejects.to_csv(out / "rejects.csv", index=False)
        files.append(out / "rejects.csv")
    hubs = national.national_catchments(out, summary)
    if len(hubs):
        files += national.write_layers(hubs, out)
    figures = national.national_figures(summary)
    size = national.index_page(
        hubs,
        summary,
        out / "index.html",
        title=f"{scenario.name}: every {options.level.upper()} area",
        lead=lead_text(scenario, figures),
    )
    files.append(out / "index.html")
    return BatchResult(
        summary, figures, files, size, solved=[t.code for t in tasks], reused=sorted(kept)
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _min(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def lead_text(scenario: Scenario, f: dict[str, Any]) -> str:
    """England's figures in a sentence, for the index page and the CLI."""
    s = scenario
    return (
        f"{plural(f['areas'], 'area')}, {f['plans']} with a plan ({f['proven']} proven "
        f"optimal), {f['failed']} failed; {plural(f['practices'], 'practice')} and "
        f"{f['patients']:,} patients "
        f"solved of {f['practices_in_file']:,} and {f['patients_in_file']:,} in the input. "
        f"Band {s.population_min:,}-{s.population_max:,} ({s.band}), travel cap "
        f"{s.travel_cap_minutes:g} min{', contiguous' if s.contiguous else ''}. "
        f"Proposed: {plural(f['hubs'], 'hub')}, {_pct(f['in_band_share'])} in band, "
        f"{_pct(f['contiguous_share'])} contiguous, mean travel {_min(f['mean_min'])} min. "
        f"Today's PCNs measured the same way: {f['PCN_hubs']:,}, "
        f"{_pct(f['PCN_in_band_share'])} in band, {_pct(f['PCN_contiguous_share'])} "
        f"contiguous, mean travel {_min(f['PCN_mean_min'])} min." + _travel_text(f)
    )


def _travel_text(f: dict[str, Any]) -> str:
    """Which minutes the areas were planned on, naming the areas that fell back."""
    roads, straight = f.get("road_areas", 0), f.get("straight_line_areas", 0)
    fell = f.get("fallback_areas") or []
    if not roads and not fell:
        return " Travel: straight-line estimates (no road network given)." if straight else ""
    text = f" Travel: road minutes in {plural(roads, 'area')}"
    if straight:
        text += f", straight-line estimates in {straight}"
    if fell:
        listed = ", ".join(fell[:10]) + (" ..." if len(fell) > 10 else "")
        text += f" ({listed}: not covered by the road network; see the Travel column)"
    return text + "."
