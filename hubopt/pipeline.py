"""The main job, stage by stage: inputs -> network -> matrix -> model -> solve ->
check -> report/maps. Each stage is timed; the CLI and notebooks call :func:`run`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from hubopt import inputs, model, paths
from hubopt.errors import (
    InfeasibleError,
    InputError,
    NetworkError,
    OutputExistsError,
    SolverError,
)
from hubopt.inputs import load
from hubopt.model import adjacency, check, diagnose
from hubopt.outputs import catchments, editing, evaluate, gis, maps, report, tables, units
from hubopt.outputs.result import Review, RunResult
from hubopt.roads import matrix, network, store
from hubopt.scenario import Scenario
from hubopt.solver import SolveResult, Status, explain
from hubopt.solver import choices as choices_mod
from hubopt.solver.plan import solve_area

log = logging.getLogger(__name__)

#: Files written to the output folder.
OUTPUT_FILES = (
    "assignment.csv",
    "hubs.csv",
    "hubs.geojson",
    "comparison.csv",
    "rejects.csv",
    "matrix.csv",
    "matrix.meta.json",
    "summary.json",
    "map.html",
    "report.html",
    "catchments.geojson",
    "layers.gpkg",
)


def planned_outputs(scenario: Scenario, out_dir: Path, maps_dir: Path) -> list[Path]:
    return [out_dir / f for f in OUTPUT_FILES] + [
        maps_dir / f"{scenario.name}.html",
        maps_dir / f"{scenario.name}-report.html",
    ]


def cache_folder(scenario: Scenario) -> list[tuple[Path, str]]:
    """The folder a road network downloaded on this run is cached in, if any."""
    s = scenario
    if s.network is not None and (s.download_place or s.download_polygon):
        if not Path(s.network).exists():
            return [(Path(s.network).parent, "[inputs] network (the download's cache): folder")]
    return []


def refuse_overwrite(paths: list[Path], force: bool) -> None:
    """Raise before any work if an output exists and ``force`` is not set."""
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise OutputExistsError(
            "Output files already exist; nothing was changed.",
            [str(p) for p in existing]
            + ["use --force to overwrite them, or --out to write elsewhere"],
        )


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    log.info("%s ...", name)
    yield
    timings[name] = time.perf_counter() - start
    log.info("%s done in %.2f s", name, timings[name])


def run(
    scenario: Scenario,
    *,
    out_dir: str | Path | None = None,
    maps_dir: str | Path | None = "maps",
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    keep: str | Path | None = None,
) -> RunResult:
    """Run the whole job for a scenario and (if ``out_dir`` is given) write outputs.

    ``progress`` hears the solver's progress lines (best plan, bound, gap) as they
    come; without it they go to the log. ``keep`` is a plan edited on the map
    (``Download plan``): the reviewer's hubs that differ from the proposal are held as
    locked groups with their sites fixed (:func:`kept_scenario`), the rest is
    optimised, and the report shows proposal, edit and re-solved plan side by side.

    Raises
    ------
    OutputExistsError
        An output exists and ``force`` is false (checked before any work).
    InputError, NetworkError
        Bad inputs, every problem listed.
    InfeasibleError
        The rules cannot all hold; the problems say which practices and rules.
    SolverError
        The solver failed, or its plan failed the independent checks.
    """
    out = Path(out_dir) if out_dir is not None else None
    mdir = Path(maps_dir) if maps_dir is not None else None
    if out is not None:
        targets = planned_outputs(scenario, out, mdir) if mdir else [out / f for f in OUTPUT_FILES]
        paths.check_outputs(
            [(out, "--out folder"), (mdir, "--maps-dir folder"), *cache_folder(scenario)],
            [(t, "output file") for t in targets],
        )
        refuse_overwrite(targets, force)
    timings: dict[str, float] = {}
    with _stage(timings, "inputs"):
        loaded = load.load_inputs(scenario)
        edited = inputs.read_edited_plan(keep, loaded.practices) if keep is not None else None
    if edited is not None:
        scenario = kept_scenario(scenario, edited)
    return run_inputs(
        scenario, loaded, out_dir=out, maps_dir=mdir, progress=progress, timings=timings,
        edited=edited, keep_file=Path(keep) if keep is not None else None,
    )  # fmt: skip


def run_inputs(
    scenario: Scenario,
    loaded: load.Inputs,
    *,
    out_dir: Path | None = None,
    maps_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
    edited: pd.DataFrame | None = None,
    keep_file: Path | None = None,
) -> RunResult:
    """:func:`run` from inputs already read and selected (one area of a national read,
    :mod:`hubopt.batch`): matrix, solve, check, tables and map; writes to ``out_dir``
    (overwriting: the caller checks first). ``edited`` is a reviewer's plan held in
    ``scenario`` (:func:`kept_scenario`): the result's ``review`` compares them."""
    out, mdir = out_dir, maps_dir
    timings = {} if timings is None else timings
    practices, boundary, current = loaded.practices, loaded.boundary, loaded.current
    notes: list[str] = list(loaded.notes)
    minutes = travel_matrix(scenario, practices, timings=timings, notes=notes)
    result, checks = solve_matrix(
        practices, minutes, best_scenario(scenario), timings=timings, current=current,
        boundary=boundary, notes=notes, progress=progress,
    )  # fmt: skip
    notes += plan_notes(result, practices, scenario)
    choices = find_choices(
        practices, minutes, scenario, result, checks, timings=timings, current=current,
        boundary=boundary,
    )  # fmt: skip
    with _stage(timings, "report"):
        assignment = tables.assignment_table(result.assignment, practices, minutes)
        left_out = tables.left_out_table(loaded.rejects, assignment)
        notes += tables.left_out_notes(left_out)
        hubs = tables.hub_table(assignment, practices, scenario)
        geo = tables.hubs_geodataframe(assignment, hubs, practices)
        comparison = compare_with_current(
            (assignment, hubs), current, practices, minutes, scenario, result
        )
        areas = catchments.build(
            assignment,
            hubs,
            practices,
            boundary=boundary,
            current=current,
            current_scored=(
                evaluate.score(current["group_id"], practices, minutes, scenario)
                if current is not None
                else None
            ),
        )
        fmap = maps.proposal_map(
            assignment,
            hubs,
            practices,
            title=scenario.name,
            status=result.describe(),
            cap=scenario.travel_cap_minutes,
            band=(scenario.population_min, scenario.population_max),
            catchments=areas,
            choices=choices,
            minutes=units.minutes_of(minutes),
            edit=map_edit_data(scenario, assignment, practices, minutes, areas, current, boundary),
        )
    res = RunResult(
        scenario, practices, minutes, result, checks, assignment, hubs, geo, comparison,
        left_out, timings, notes,
    )  # fmt: skip
    res.catchments = areas
    res.published = loaded.published
    res.choices = choices
    res.read = loaded.read()
    if edited is not None:
        with _stage(timings, "review"):
            res.review = review_edit(
                edited, (assignment, hubs), practices, minutes, scenario,
                current=current, boundary=boundary, source=keep_file or Path("edited.csv"),
            )  # fmt: skip
    if out is not None:
        with _stage(timings, "write"):
            write_outputs(res, fmap, out, mdir)
    return res


def kept_hubs(edited: pd.DataFrame) -> list[list[str]]:
    """The reviewer's hubs to hold (practice codes, the hub's site first): those with a
    practice whose hub, or whose hub's site, differs from the proposal's; every hub
    when the file does not say what the proposal was."""
    out = []
    has_proposal = "proposed_hub_id" in edited.columns
    for _, g in edited.groupby("group_id", sort=True):
        changed = not has_proposal or bool(
            (g["group_id"] != g["proposed_hub_id"]).any()
            or (g["hub_site_code"] != g.get("proposed_hub_site_code", g["hub_site_code"])).any()
        )
        if changed:
            site = str(g["hub_site_code"].iloc[0])
            out.append([site] + [c for c in g.index if c != site])
    return out


def kept_scenario(scenario: Scenario, edited: pd.DataFrame) -> Scenario:
    """``scenario`` with the reviewer's changed hubs (:func:`kept_hubs`) held: each
    becomes a locked group (when it has two or more practices) and its site a fixed
    site; the rest of the plan is optimised as before."""
    kept = kept_hubs(edited)
    locked = [tuple(h) for h in kept if len(h) > 1]
    fixed = [h[0] for h in kept if h[0] not in scenario.fixed_sites]
    return scenario.replace(
        locked_groups=tuple(scenario.locked_groups) + tuple(locked),
        fixed_sites=tuple(scenario.fixed_sites) + tuple(fixed),
    )


def review_edit(
    edited: pd.DataFrame,
    resolved: tuple[pd.DataFrame, pd.DataFrame],
    practices: gpd.GeoDataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    *,
    current: pd.DataFrame | None,
    boundary: gpd.GeoDataFrame | None,
    source: Path,
) -> Review:
    """Proposal, reviewer's edit and re-solved plan measured the same way and checked
    by the independent checks against the original rules (the held hubs are not rules
    of the proposal, so they are left out of its checks)."""
    neighbours = adjacency.practice_neighbours(practices, boundary) if scenario.contiguous else None
    today = current["group_id"] if current is not None else None
    kept = kept_hubs(edited)
    held = {tuple(h) for h in kept if len(h) > 1}
    rules = scenario.replace(
        locked_groups=tuple(g for g in scenario.locked_groups if tuple(g) not in held),
        fixed_sites=tuple(j for j in scenario.fixed_sites if j not in {h[0] for h in kept}),
    )
    plans = {}
    if "proposed_hub_id" in edited.columns:
        prop = edited[edited["proposed_hub_id"] != ""]
        plans["proposal"] = pd.DataFrame(
            {"group_id": prop["proposed_hub_id"], "hub_site_code": prop["proposed_hub_site_code"]}
        )
    plans["reviewer's edit"] = edited[["group_id", "hub_site_code"]]
    scored = {
        name: evaluate.score(t["group_id"], practices, minutes, rules, sites=t["hub_site_code"])
        for name, t in plans.items()
    }
    failures = {
        name: grouping_checks(t, practices, minutes, rules, today, neighbours).failures
        for name, t in plans.items()
    }
    scored["re-solved"] = resolved
    a = resolved[0]
    sites = a.set_index("practice_code")["hub_site_code"].replace("", None)
    for code in inputs.site_only_codes(practices):
        if code in set(sites.dropna()):
            sites[code] = code
    failures["re-solved"] = check.check_plan(
        check.PlanData(sites, practices, minutes, rules, current=today, neighbours=neighbours),
        checks=GROUPING_CHECKS,
    ).failures
    table = evaluate.compare(scored)
    words = units.minutes_of(minutes)
    review = Review(source, kept, scored, failures, table)
    table.loc["patient-minutes"] = [f"{round(review.patient_minutes(k)):,}" for k in scored]
    table.loc["rule breaches (independent checks)"] = [len(failures[k]) for k in scored]
    if today is not None:
        table.loc["practices moved vs current"] = [
            int(evaluate.practices_moved(
                a[a["hub_id"] != ""].set_index("practice_code")["hub_site_code"], today,
                practices["list_size"],
            ).sum())
            for a, _ in scored.values()
        ]  # fmt: skip
    review.comparison = table.rename(index=words.measure)
    return review


def map_edit_data(
    scenario: Scenario,
    assignment: pd.DataFrame,
    practices: gpd.GeoDataFrame,
    minutes: pd.DataFrame,
    areas: catchments.Catchments,
    current: pd.DataFrame | None,
    boundary: gpd.GeoDataFrame | None,
) -> editing.EditData | None:
    """What the map's edit mode carries (:func:`hubopt.outputs.editing.edit_data`): the
    neighbour graph when the scenario asks for connected hubs, today's groups with their
    best sites."""
    neighbours = adjacency.practice_neighbours(practices, boundary) if scenario.contiguous else None
    return editing.edit_data(
        assignment, practices, minutes, scenario,
        neighbours=neighbours,
        colours=areas.colours,
        words=units.minutes_of(minutes),
        current=current,
        current_sites=(
            evaluate.best_sites(current["group_id"], practices, minutes)
            if current is not None else None
        ),
        current_colours=areas.current_colours,
    )  # fmt: skip


def plan_notes(result: SolveResult, practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """What a planner should know about the plan: hubs on their own, candidate sites,
    the staged objectives (practices left out: :func:`hubopt.outputs.tables.left_out_notes`)."""
    notes = []
    size, name = practices["list_size"], practices["name"]
    if scenario.oversize == "own_hub":
        for code in model.oversize_practices(practices, scenario):
            notes.append(
                f"practice {code} {name[code]} has {size[code]:,} patients, above the "
                "band: it forms a hub on its own"
            )
    for code in scenario.exempt:
        notes.append(f"practice {code} {name[code]} is a named exemption: a hub on its own")
    locations = inputs.site_only_codes(practices)
    a = result.assignment
    for code in locations:
        used = a.get(code) == code
        notes.append(
            f"candidate site {code} {name[code]} (not a practice) "
            + ("is a hub site" if used else "is not used: no hub is better sited there")
        )
    if len(result.stages) > 1:
        notes.append(
            "objectives in order: "
            + "; ".join(
                f"{st.stage} {st.status}" + (f" ({st.value:,.1f})" if st.value is not None else "")
                for st in result.stages
            )
        )
    if result.repeatable and not result.clock_stops:
        notes.append(
            "repeatable run: every step ended at its work limit or its proof, not the "
            "clock, so these inputs give this plan on any machine"
        )
    elif result.repeatable:
        notes.append(
            "repeatable run, but the clock ended " + ", ".join(result.clock_stops)
            + ": their plans were not used after the first plan (only their bounds), yet "
            "a quicker machine might get further and find another plan"
        )  # fmt: skip
    return notes


def write_outputs(res: RunResult, fmap, out: Path, maps_dir: Path | None) -> None:
    """Write the tables, GeoJSON, matrix, map and summary; record them in ``res.files``.
    A write that fails (a full disk) is an :class:`~hubopt.errors.OutputError`."""
    try:
        _write_outputs(res, fmap, out, maps_dir)
    except OSError as exc:
        raise paths.write_error(exc, out) from None


def _write_outputs(res: RunResult, fmap, out: Path, maps_dir: Path | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    kind = units.minutes_of(res.matrix).kind  # every minute column says how it was made
    tables.write_table(
        tables.with_coordinates(res.assignment, res.practices).assign(travel_times=kind),
        out / "assignment.csv",
    )
    tables.write_table(
        tables.with_coordinates(res.hubs, res.practices, code="site_code", prefix="site_").assign(
            travel_times=kind
        ),
        out / "hubs.csv",
    )
    tables.write_geojson(res.geo, out / "hubs.geojson")
    if res.catchments is not None:
        tables.write_geojson(
            gis.catchments_geodataframe(res.catchments), out / "catchments.geojson"
        )
        gis.write_gpkg(res.catchments, out / "layers.gpkg")
    if res.comparison is not None:
        res.comparison.to_csv(out / "comparison.csv", index_label="measure")
    if res.rejects is not None:  # always written: an old one must not stay behind
        tables.write_table(res.rejects, out / "rejects.csv")
    matrix.save_matrix(res.matrix, out / "matrix.csv")
    maps.save_map(fmap, out / "map.html")
    report.write_report(res, out / "report.html", map_href="map.html")
    if maps_dir is not None:
        maps_dir.mkdir(parents=True, exist_ok=True)
        maps.save_map(fmap, maps_dir / f"{res.scenario.name}.html")
        report.write_report(
            res,
            maps_dir / f"{res.scenario.name}-report.html",
            map_href=f"{res.scenario.name}.html",
        )
    res.files = [
        p
        for p in planned_outputs(res.scenario, out, maps_dir or out)
        if p.exists() and p.name != "summary.json"
    ]
    res.files.append(out / "summary.json")
    (out / "summary.json").write_text(json.dumps(res.summary(), indent=2), encoding="utf-8")


def travel_matrix(
    scenario: Scenario,
    practices: gpd.GeoDataFrame,
    *,
    timings: dict[str, float] | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """The network and matrix stages: practice x practice minutes (row = from).

    ``[network] matrix`` re-uses a saved matrix (no network work); ``kind =
    "straight_line"`` uses the labelled fallback (and says so in ``notes``);
    otherwise the road network is loaded (downloaded first only when the scenario
    asks and the cache is missing), prepared, and routed between snapped practices.
    """
    timings = {} if timings is None else timings
    notes = [] if notes is None else notes
    if scenario.matrix is not None:
        with _stage(timings, "matrix"):
            minutes = matrix.for_practices(matrix.load_matrix(scenario.matrix), practices)
        notes.append(
            f"travel times re-used from {scenario.matrix.name}: {matrix.describe_source(minutes)}"
        )
        return minutes
    if scenario.network_kind == "straight_line":
        with _stage(timings, "matrix"):
            minutes = _straight_line(scenario, practices)
        notes.append(
            f"travel times are a {matrix.describe_source(minutes)}; one-way streets, "
            "rivers and detours are ignored: use a road network before acting on this"
        )
        return minutes
    if scenario.network is None:
        raise InputError(
            f"Scenario {scenario.name} gives no road network.",
            [
                'add network = "<extract>.osm.pbf" under [inputs] (or .osm.bz2 / .graphml), '
                'or [network] kind = "straight_line" for a rough estimate'
            ],
        )
    with _stage(timings, "network"):
        download = None
        if scenario.download_place or scenario.download_polygon:
            download = network.ensure_download(
                scenario.network, place=scenario.download_place, polygon=scenario.download_polygon
            )
        road = store.load_store(scenario.network)
    name = Path(str(road.meta.get("source") or scenario.network)).name
    with _stage(timings, "matrix"):
        try:
            minutes, snapped = matrix.road_matrix(
                road,
                practices,
                same_site_m=scenario.same_site_m,
                exact_minutes=max(matrix.EXACT_MINUTES, scenario.travel_cap_minutes),
                limit_minutes=scenario.route_limit_minutes,
                snap_warn_m=scenario.snap_warn_m,
                source=name,
            )
        except NetworkError as exc:
            if scenario.network_fallback != "straight_line":
                raise
            why = exc.message + (" " + "; ".join(exc.problems[:3]) if exc.problems else "")
            minutes = _straight_line(scenario, practices)
            minutes.attrs[matrix.META_KEY]["fallback"] = why  # said in reports and summaries
            notes.append(
                f"NO ROAD MINUTES for this area: {why} Travel times are a "
                f"{matrix.describe_source(minutes)} instead ([network] fallback = "
                '"straight_line"); use an extract that covers the area before acting on this'
            )
            return minutes
    if download is not None:
        minutes.attrs[matrix.META_KEY]["network"]["download"] = download
    notes += network.far_practice_notes(snapped)
    notes += matrix.road_notes(minutes)
    return minutes


def _straight_line(scenario: Scenario, practices: gpd.GeoDataFrame) -> pd.DataFrame:
    return matrix.straight_line_matrix(
        practices,
        circuity=scenario.circuity,
        speed_kph=scenario.straight_line_kph,
        same_site_m=scenario.same_site_m,
    )


def compare_with_current(
    proposal: tuple[pd.DataFrame, pd.DataFrame],
    current: pd.DataFrame | None,
    practices: gpd.GeoDataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    result: SolveResult,
) -> pd.DataFrame | None:
    """Proposal and current grouping side by side, same measures (None without current)."""
    if current is None:
        return None
    table = evaluate.compare(
        {
            "proposal": proposal,
            "current": evaluate.score(current["group_id"], practices, minutes, scenario),
        }
    )
    moved = evaluate.practices_moved(
        inputs.practices_only(result.assignment, practices),
        current["group_id"],
        practices["list_size"],
    )
    table.loc["practices moved vs current"] = [int(moved.sum()), 0]
    return table.rename(index=units.minutes_of(minutes).measure)


def solve_matrix(
    practices: pd.DataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    *,
    timings: dict[str, float] | None = None,
    current: pd.Series | pd.DataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    notes: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[SolveResult, check.CheckReport]:
    """Diagnose, build, solve (objectives in stages) and independently check, from a
    travel-time matrix.

    This is the what-if entry point: no network work. ``current`` (today's grouping:
    practice code -> group, or the table with ``group_id``) is needed for
    ``fewest_moved`` and ``warm_start = "current"``; ``boundary`` clips the practice
    neighbours used by ``contiguous = true``.
    """
    timings = {} if timings is None else timings
    notes = [] if notes is None else notes
    if isinstance(current, pd.DataFrame):
        current = current["group_id"]
    neighbours = None
    if scenario.contiguous:
        with _stage(timings, "neighbours"):
            neighbours = adjacency.practice_neighbours(practices, boundary)
    # codes named by the rules first: an unknown code is the planner's slip, not infeasibility
    model.validate_rules(practices, scenario, current=current, neighbours=neighbours)
    with _stage(timings, "diagnose"):
        problems = diagnose.diagnose(practices, minutes, scenario)
        if scenario.band != "strict":
            notes += [f"expected below the band: {n}" for n in diagnose.band_notes(
                practices, minutes, scenario)]  # fmt: skip
    if problems:
        raise InfeasibleError(
            f"No grouping can meet the rules of scenario {scenario.name} "
            f"(band {scenario.population_min:,}-{scenario.population_max:,} patients, "
            f"travel cap {scenario.travel_cap_minutes:g} min):",
            problems,
        )
    warm = None
    if scenario.warm_start == "current" and current is not None:
        warm = evaluate.best_sites(current.reindex(practices.index), practices, minutes)
    with _stage(timings, "solve"):
        result = solve_area(
            practices, minutes, scenario, current=current, neighbours=neighbours,
            warm_start=warm, progress=progress,
        )  # fmt: skip
    if result.status is Status.INFEASIBLE:
        with _stage(timings, "explain"):
            why = explain.explain_infeasible(
                practices, minutes, scenario, current=current, neighbours=neighbours
            )
        raise InfeasibleError(
            f"The solver proved that no grouping meets every rule of scenario "
            f"{scenario.name} at once, although each practice on its own can reach a "
            "big-enough hub:",
            why,
        )
    if not result.has_solution:
        raise SolverError(
            f"The solver found no grouping within {scenario.time_limit_seconds:g} s.",
            ["raise [solver] time_limit_seconds"],
        )
    with _stage(timings, "check"):
        checks = check.check_plan(
            check.PlanData(
                result.assignment,
                practices,
                minutes,
                scenario,
                result.objective,
                values=result.values,
                current=current,
                neighbours=neighbours,
            )
        )
    if not checks.passed:
        raise SolverError(
            "The solver's plan failed the independent checks; it is not reported.",
            checks.failures,
        )
    return result, checks


def best_scenario(scenario: Scenario) -> Scenario:
    """The scenario the best plan is solved with: with alternatives asked for, it gets
    :data:`hubopt.solver.choices.BEST_SHARE` of the time limit (they share the rest)."""
    if scenario.alternatives <= 0:
        return scenario
    share = choices_mod.BEST_SHARE * scenario.time_limit_seconds
    return scenario.replace(time_limit_seconds=share)


def find_choices(
    practices: pd.DataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    result: SolveResult,
    checks: check.CheckReport,
    *,
    timings: dict[str, float] | None = None,
    current: pd.Series | pd.DataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    alternatives: int | None = None,
    prices: bool | None = None,
) -> choices_mod.Choices | None:
    """The planners' choices around the best plan ``result`` (None when the scenario
    asks for none): ``alternatives`` plans (default ``[output] alternatives``) within
    the rest of the time limit, what stays together across them, and, with ``prices``
    (default ``[output] rule_prices``), the price of each rule in one more time limit.
    See :mod:`hubopt.solver.choices`."""
    timings = {} if timings is None else timings
    k = scenario.alternatives if alternatives is None else alternatives
    prices = scenario.rule_prices if prices is None else prices
    if k <= 0 and not prices:
        return None
    if isinstance(current, pd.DataFrame):
        current = current["group_id"]
    with _stage(timings, "choices: neighbours"):
        neighbours = adjacency.practice_neighbours(practices, boundary)
    out = choices_mod.Choices()
    if k > 0:
        with _stage(timings, "alternatives"):
            alts = choices_mod.find_alternatives(
                practices, minutes, scenario, result, best_checks=checks, k=k,
                current=current, neighbours=neighbours,
            )  # fmt: skip
            counted = set(practices.index) - set(inputs.site_only_codes(practices))
            out.alternatives = alts
            out.pairs = choices_mod.together([p.assignment for p in alts.plans], neighbours,
                                             counted)  # fmt: skip
            out.moves = choices_mod.moves(alts, practices)
        out.seconds["alternatives"] = timings["alternatives"]
    if prices:
        with _stage(timings, "rule prices"):
            out.prices = choices_mod.rule_prices(
                practices, minutes, scenario, result, current=current,
                neighbours=neighbours if scenario.contiguous else None,
            )  # fmt: skip
        out.seconds["prices"] = timings["rule prices"]
    return out


@dataclass
class Evaluation:
    """Groupings scored with the same measures, and compared."""

    scenario: Scenario
    scored: dict[str, tuple[pd.DataFrame, pd.DataFrame]]  # name -> (assignment, hubs)
    comparison: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    #: the independent checks of each grouping (:func:`grouping_checks`)
    checks: dict[str, check.CheckReport] = field(default_factory=dict)


def grouping_checks(
    grouping: pd.DataFrame,
    practices: pd.DataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    current: pd.Series | None,
    neighbours,
) -> check.CheckReport:
    """The independent checks (:func:`hubopt.model.check.check_plan`) of a grouping
    (``group_id``, optional ``hub_site_code`` by practice) with its sites as scored."""
    sites = evaluate.plan_sites(
        grouping["group_id"], practices, minutes, grouping.get("hub_site_code")
    )
    return check.check_plan(
        check.PlanData(sites, practices, minutes, scenario, current=current, neighbours=neighbours),
        checks=GROUPING_CHECKS,
    )


#: The checks of a grouping that no solver claimed figures for.
GROUPING_CHECKS = tuple(c for c in check.CHECKS if c is not check.objective_matches)


def evaluate_groupings(
    scenario: Scenario,
    *,
    groupings: dict[str, Path] | None = None,
    out_dir: str | Path | None = None,
    force: bool = False,
) -> Evaluation:
    """Score the current grouping (the scenario's ``current``) and any other groupings
    (e.g. a proposal's ``assignment.csv``) and compare them side by side.

    Writes ``<name>_groups.csv`` (one row per group: patients, in band, best site,
    travel to it) and ``comparison.csv`` to ``out_dir``.
    """
    groupings = dict(groupings or {})
    out = Path(out_dir) if out_dir is not None else None
    names = (["current"] if scenario.current or scenario.current_from_pcn else []) + list(groupings)
    if not names:
        raise InputError(
            "Nothing to evaluate.",
            ['give [inputs] current (or current = "pcn"), or --grouping FILE'],
        )
    if out is not None:
        targets = [out / f"{n}_groups.csv" for n in names] + [out / "comparison.csv"]
        paths.check_outputs([(out, "--out folder")], [(t, "output file") for t in targets])
        refuse_overwrite(targets, force)
    timings: dict[str, float] = {}
    notes: list[str] = []
    with _stage(timings, "inputs"):
        loaded = load.load_inputs(scenario)
        notes += loaded.notes + tables.left_out_notes(loaded.rejects, listed_in=None)
        practices = loaded.practices
        given = {"current": loaded.current} if loaded.current is not None else {}
        for name, path in groupings.items():
            given[name] = inputs.read_grouping(path, practices, notes=notes)
    minutes = travel_matrix(scenario, practices, timings=timings, notes=notes)
    with _stage(timings, "evaluate"):
        scored = {
            name: evaluate.score(
                t["group_id"], practices, minutes, scenario, sites=t.get("hub_site_code")
            )
            for name, t in given.items()
        }
        comparison = evaluate.compare(scored)
        today = loaded.current["group_id"] if loaded.current is not None else None
        neighbours = (
            adjacency.practice_neighbours(practices, loaded.boundary)
            if scenario.contiguous
            else None
        )
        checks = {
            name: grouping_checks(t, practices, minutes, scenario, today, neighbours)
            for name, t in given.items()
        }
    res = Evaluation(scenario, scored, comparison, timings, notes, checks=checks)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, (_, hubs) in scored.items():
                path = out / f"{name}_groups.csv"
                tables.write_table(hubs, path)
                res.files.append(path)
            comparison.to_csv(out / "comparison.csv", index_label="measure")
            res.files.append(out / "comparison.csv")
        except OSError as exc:
            raise paths.write_error(exc, out) from None
    return res
