"""What-ifs in Python: derive scenarios, re-solve from one travel-time matrix, compare.

An analyst loads an area once (inputs and the travel-time matrix, the slow part),
then asks questions one line each::

    from hubopt import whatif

    area = whatif.prepare("data/demo/demo.toml", time_limit_seconds=20)
    base = whatif.solve(area, "as planned")
    tight = whatif.solve(area, "cap 15 min", travel_cap_minutes=15)
    small = whatif.solve(area, "25-45k", population_min=25_000, population_max=45_000)
    closed = whatif.solve(whatif.close_practice(area, "D81003"), "D81003 closes")
    grown = whatif.solve(whatif.grow_lists(area, 1.10), "lists +10%")
    whatif.compare([whatif.today(area), base, tight, small, closed, grown])
    whatif.side_by_side([base, small]).save("maps/what-if.html")
    whatif.plot_sweep(whatif.sweep(area, caps=[15, 20, 25], bands=[(30_000, 50_000)]))

Every what-if re-solves from ``area.minutes`` with :func:`hubopt.pipeline.solve_matrix`
(no network work) and is scored with the measures of the comparison table
(:func:`hubopt.outputs.evaluate.overall`,
:func:`hubopt.outputs.evaluate.practices_moved`). A what-if whose rules cannot all
hold is an :class:`Outcome` with status ``"infeasible"`` and the reasons, not an
exception. Functions here are plain: an :class:`Area` is never
changed in place; :func:`close_practice` and :func:`grow_lists` return a new one.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt import inputs, pipeline
from hubopt.errors import HuboptError, InfeasibleError, InputError, SolverError
from hubopt.inputs import load
from hubopt.model.check import CheckReport
from hubopt.outputs import evaluate, maps, tables, units
from hubopt.scenario import Scenario, load_scenario
from hubopt.solver.choices import Choices, prices_frame
from hubopt.solver.mip import SolveResult
from hubopt.text import plural

if TYPE_CHECKING:
    import folium
    from matplotlib.figure import Figure

#: The row of :func:`compare` counting practices that leave their group (the label
#: :func:`hubopt.pipeline.compare_with_current` uses).
MOVED = "practices moved vs current"

#: Columns of :func:`sweep`.
SWEEP_COLUMNS = [
    "cap",
    "band",
    "population_min",
    "population_max",
    "status",
    "hubs",
    "share_in_band",
    "smallest_hub",
    "largest_hub",
    "worst_minutes",
    "mean_minutes",
    "moved",
    "seconds",
]


# ------------------------------------------------------------------ the area


@dataclass(frozen=True)
class Area:
    """Everything a what-if re-solves from: loaded once, never changed in place.

    Attributes
    ----------
    scenario
        The base scenario; what-ifs change it with :meth:`Scenario.replace`.
    practices
        Practices by code (``name``, ``lat``, ``lon``, ``list_size``, ...).
    minutes
        Travel-time matrix, practice x practice minutes (row = from).
    current
        Today's grouping (``group_id``, ``group_name`` by practice code), or None.
    boundary
        Area outline for the maps, or None.
    notes
        What loading said (practices left out, how travel times were made).
    changes
        What was changed from the loaded data, in order (closures, list growth).
    """

    scenario: Scenario
    practices: gpd.GeoDataFrame
    minutes: pd.DataFrame
    current: pd.DataFrame | None = None
    boundary: gpd.GeoDataFrame | None = None
    notes: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()

    @property
    def patients(self) -> int:
        return int(self.practices["list_size"].sum())

    @property
    def words(self) -> units.Minutes:
        """How its minute figures are labelled: road minutes, or the straight-line
        estimate (:func:`hubopt.outputs.units.minutes_of`)."""
        return units.minutes_of(self.minutes)

    def __repr__(self) -> str:
        extra = f"; {'; '.join(self.changes)}" if self.changes else ""
        return (
            f"<Area {self.scenario.name}: {plural(len(self.practices), 'practice')}, "
            f"{self.patients:,} patients{extra}>"
        )


def prepare(
    scenario: Scenario | str | Path, *, matrix: str | Path | None = None, **changes: Any
) -> Area:
    """Load a scenario's inputs and travel-time matrix once, for many what-ifs.

    Parameters
    ----------
    scenario
        A :class:`Scenario` or the path of a scenario TOML file.
    matrix
        A matrix saved earlier (``matrix.csv`` of a run, or
        :func:`hubopt.roads.matrix.save_matrix`): re-used instead of the road network.
    **changes
        Scenario fields to change first (e.g. ``time_limit_seconds=20``); every
        what-if starts from them.
    """
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if matrix is not None:
        changes["matrix"] = Path(matrix).resolve()
    if changes:
        s = s.replace(**changes)
    loaded = load.load_inputs(s)
    notes = list(loaded.notes) + tables.left_out_notes(loaded.rejects, listed_in=None)
    minutes = pipeline.travel_matrix(s, loaded.practices, notes=notes)
    return Area(s, loaded.practices, minutes, loaded.current, loaded.boundary, tuple(notes))


def close_practice(
    area: Area,
    code: str,
    *,
    to: str | Sequence[str] | Mapping[str, float] | None = None,
    k: int = 3,
) -> Area:
    """The area after practice ``code`` closes and its patients register elsewhere.

    The rule: the closing practice's patients are shared among *receivers* in
    proportion to the receivers' own list sizes (a bigger practice takes more).

    - ``to=None``: the receivers are the ``k`` practices nearest to it by the
      matrix's minutes (ties by practice code; unreachable ones never);
    - ``to="B"`` or ``to=["B", "C"]``: the named practices (``"B"`` takes them all);
    - ``to={"B": 0.7, "C": 0.3}``: explicit shares (scaled to add up to 1).

    Patients are whole: each receiver gets the whole part of its share, and the
    patients left over go one each to the largest remainders, so the area's total is
    unchanged. The practice leaves the practices table, the matrix (row and column),
    today's grouping and every rule that names it (a locked or apart group left with
    one practice is dropped). The returned area's ``changes`` says who took how many.
    """
    p = area.practices
    sites = inputs.site_only_codes(p)
    registering = p.drop(index=sites)  # practices: they have patients
    if code in sites:
        raise InputError(
            f"{code} ({p.at[code, 'name']}) is a candidate hub site, not a practice: it has "
            "no patients to move.",
            ["to plan without it, leave it out of the sites file", _known(registering.index)],
        )
    if code not in registering.index:
        raise InputError(f"Practice {code} is not in the area.", [_known(registering.index)])
    shares = _receivers(area.minutes, registering, code, to, k)
    n = int(p.at[code, "list_size"])
    gain = _apportion(n, shares)
    sizes = p["list_size"].drop(index=code).copy()
    sizes[gain.index] += gain
    practices = p.drop(index=code).assign(list_size=sizes.astype(int))
    moved = ", ".join(f"{c} (+{g:,})" for c, g in gain.items() if g)
    return replace(
        area,
        scenario=_without(area.scenario, code),
        practices=practices,
        minutes=area.minutes.drop(index=code, columns=code),
        current=None if area.current is None else area.current.drop(index=code, errors="ignore"),
        changes=(*area.changes, f"{code} closed: its {n:,} patients to {moved}"),
    )


def grow_lists(area: Area, factor: float, codes: Iterable[str] | None = None) -> Area:
    """The area with list sizes multiplied by ``factor`` (e.g. 1.10 for 10% growth),
    rounded to whole patients; only the practices in ``codes`` when given."""
    if not factor > 0:
        raise InputError(f"factor {factor} must be above 0.", ["e.g. 1.10 for lists 10% larger"])
    p = area.practices
    chosen = p.index if codes is None else pd.Index(list(codes))
    unknown = chosen.difference(p.index)
    if len(unknown):
        raise InputError(
            f"{plural(len(unknown), 'practice')} to grow {'is' if len(unknown) == 1 else 'are'} "
            f"not in the area: {', '.join(unknown)}.",
            [_known(p.index)],
        )
    sizes = p["list_size"].astype(int).copy()
    sizes[chosen] = np.rint(sizes[chosen] * factor).astype(int)
    which = "all practices" if codes is None else plural(len(chosen), "practice")
    return replace(
        area,
        practices=p.assign(list_size=sizes),
        changes=(
            *area.changes,
            f"lists x{factor:g} ({which}): {area.patients:,} -> {int(sizes.sum()):,} patients",
        ),
    )


def _known(index: pd.Index) -> str:
    more = f" ... ({len(index)} in all)" if len(index) > 8 else ""
    return f"practices in the area: {', '.join(map(str, index[:8]))}{more}"


def _receivers(minutes: pd.DataFrame, p: pd.DataFrame, code: str, to, k: int) -> pd.Series:
    """Receiver code -> share of the closing practice's patients (adds up to 1), among
    the practices ``p`` (candidate hub sites that are not practices never receive)."""
    if to is None:
        if k < 1:
            raise InputError(f"k {k} must be at least 1.", ["the number of nearest practices"])
        row = minutes.loc[code, p.index].drop(index=code)
        row = row[np.isfinite(row)]
        if row.empty:
            raise InputError(f"Practice {code} reaches no other practice.", ["give to=..."])
        order = sorted(row.index, key=lambda c: (row[c], c))[:k]
        weights = p.loc[order, "list_size"].astype(float)
    else:
        if isinstance(to, str):
            to = [to]
        weights = (
            pd.Series(dict(to), dtype=float)
            if isinstance(to, Mapping)
            else p["list_size"].reindex(list(to)).astype(float)
        )
        bad = [c for c in weights.index if c not in p.index or c == code]
        if bad or weights.empty or (weights < 0).any() or not weights.sum() > 0:
            raise InputError(
                f"Cannot move practice {code}'s patients to {list(weights.index)}.",
                [
                    f"not open practices of the area: {', '.join(bad)}"
                    if bad
                    else "shares must be non-negative and not all zero",
                    _known(p.index.drop(code)),
                ],
            )
    return weights / weights.sum()


def _apportion(n: int, shares: pd.Series) -> pd.Series:
    """``n`` whole patients split by ``shares`` (largest remainders; ties in order)."""
    exact = shares * n
    whole = np.floor(exact).astype(int)
    left = n - int(whole.sum())
    rest = (exact - whole).to_numpy()
    for i in sorted(range(len(rest)), key=lambda i: (-rest[i], i))[:left]:
        whole.iloc[i] += 1
    return whole


def _without(s: Scenario, code: str) -> Scenario:
    """The scenario with practice ``code`` removed from every rule that names it."""
    drop = lambda codes: tuple(c for c in codes if c != code)  # noqa: E731
    groups = lambda gs: tuple(g for g in (drop(g) for g in gs) if len(g) >= 2)  # noqa: E731
    if s.candidate_sites == (code,):
        raise InputError(
            f"Practice {code} is the only candidate site.",
            ["change candidate_sites before closing it"],
        )
    return s.replace(
        exempt=drop(s.exempt),
        fixed_sites=drop(s.fixed_sites),
        candidate_sites=drop(s.candidate_sites),
        cross_allowed=drop(s.cross_allowed),
        optional=drop(s.optional),
        locked_groups=groups(s.locked_groups),
        apart=groups(s.apart),
    )


# ------------------------------------------------------------------ outcomes


@dataclass
class Outcome:
    """One what-if: its scenario, whether a plan was found, and the plan scored.

    ``status`` is the solver's (``optimal``, ``within-gap``, ``time-limited``),
    ``infeasible`` (``reasons`` says why), ``no solution`` (nothing found in the
    time limit), ``error`` (e.g. a rule names an unknown practice) or ``current``
    (today's grouping, :func:`today`).
    """

    name: str
    area: Area
    scenario: Scenario
    status: str
    changes: tuple[str, ...] = ()
    message: str = ""
    reasons: tuple[str, ...] = ()
    result: SolveResult | None = None
    checks: CheckReport | None = None  # the independent checks of the plan
    assignment: pd.DataFrame | None = None  # report.assignment_table
    hubs: pd.DataFrame | None = None  # report.hub_table
    moved: pd.Series | None = None  # bool by practice code (None without today's groups)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return self.assignment is not None

    def figures(self) -> dict[str, object]:
        """This outcome's column of :func:`compare`."""
        s = self.scenario
        out: dict[str, object] = {
            "what if": "; ".join(self.changes) or "-",
            "status": self.status,
            "band": f"{s.population_min:,}-{s.population_max:,}",
            "cap (minutes)": s.travel_cap_minutes,
            "practices": len(self.area.practices),
            "patients": self.area.patients,
        }
        if self.has_plan:
            out |= evaluate.overall(self.assignment, self.hubs)
            out[MOVED] = "-" if self.moved is None else int(self.moved.sum())
        out["seconds"] = round(self.seconds, 1)
        out["why not"] = self.reasons[0] if self.reasons else ""
        return out

    def describe(self) -> str:
        """A few lines for people: status, key figures or the reasons."""
        lines = [f"{self.name}: {self.status_text()}"]
        lines += [f"  {c}" for c in self.changes]
        if self.has_plan:
            f = self.figures()
            mean = f["mean minutes to site (patient-weighted)"]
            moved, unit = f[MOVED], self.area.words.unit
            lines.append(
                f"  {plural(f['hubs'], 'hub')} ({f['share in band']} in {f['band']}), "
                f"{f['smallest hub']:,} to {f['largest hub']:,} patients; travel worst "
                f"{f['worst minutes to site']} {unit}, mean {mean} {unit}; "
                + (plural(moved, "practice") if isinstance(moved, int) else f"{moved} practices")
                + " moved"
            )
        else:
            lines += [f"  {self.message}"] + [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)

    def status_text(self) -> str:
        if self.result is not None:
            return self.result.describe()
        return {"current": "today's grouping"}.get(self.status, self.status)

    def map(self) -> folium.Map:
        """The reviewer's map of this plan (:func:`hubopt.outputs.maps.proposal_map`), with
        today's groups as the other view when known."""
        if not self.has_plan:
            raise InputError(f"{self.name} has no plan to map ({self.status}).", self.reasons)
        a, s = self.area, self.scenario
        current = None if self.status == "current" else a.current
        return maps.proposal_map(
            self.assignment,
            self.hubs,
            a.practices,
            title=self.name,
            status=self.status_text(),
            cap=s.travel_cap_minutes,
            band=(s.population_min, s.population_max),
            boundary=a.boundary,
            current=current,
            current_scored=None if current is None else _score_today(a, s),
            minutes=units.minutes_of(a.minutes),
        )

    def __repr__(self) -> str:
        return f"<Outcome {self.name}: {self.status}>"


def _score_today(area: Area, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    return evaluate.score(area.current["group_id"], area.practices, area.minutes, scenario)


def _label(changes: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in changes.items())


def solve(area: Area, name: str | None = None, /, **changes: Any) -> Outcome:
    """Re-solve the area's scenario with some fields changed; never raises for rules
    that cannot hold.

    Parameters
    ----------
    area
        From :func:`prepare` (or :func:`close_practice`, :func:`grow_lists`).
    name
        Column name in :func:`compare` (default: the changes, or the scenario name).
    **changes
        :class:`~hubopt.scenario.Scenario` fields, e.g. ``travel_cap_minutes=15``,
        ``population_min=25_000, population_max=45_000``,
        ``locked_groups=(("C82001", "C82002"),)``. Invalid values raise
        :class:`~hubopt.errors.InputError` at once.

    Returns
    -------
    Outcome
        With the plan scored, or status ``infeasible`` / ``no solution`` / ``error``
        and the reasons.
    """
    scenario = area.scenario.replace(**changes)
    what = (*area.changes, *([_label(changes)] if changes else []))
    name = name or "; ".join(what) or area.scenario.name
    timings: dict[str, float] = {}
    start = time.perf_counter()
    try:
        result, checks = pipeline.solve_matrix(
            area.practices,
            area.minutes,
            scenario,
            timings=timings,
            current=area.current,
            boundary=area.boundary,
        )
    except HuboptError as exc:
        status = {InfeasibleError: "infeasible", SolverError: "no solution"}.get(type(exc), "error")
        return Outcome(
            name, area, scenario, status, what, exc.message, tuple(exc.problems),
            seconds=time.perf_counter() - start, timings=timings,
        )  # fmt: skip
    seconds = time.perf_counter() - start
    assignment = tables.assignment_table(result.assignment, area.practices, area.minutes)
    moved = None
    if area.current is not None:
        moved = evaluate.practices_moved(
            inputs.practices_only(result.assignment, area.practices),
            area.current["group_id"],
            area.practices["list_size"],
        )
    return Outcome(
        name, area, scenario, result.status, what, result.describe(), result=result,
        checks=checks, assignment=assignment,
        hubs=tables.hub_table(assignment, area.practices, scenario), moved=moved,
        seconds=seconds, timings=timings,
    )  # fmt: skip


def today(area: Area, name: str = "today") -> Outcome:
    """Today's grouping as an outcome, scored the same way (each group's best site),
    so that it can stand first in :func:`compare` and :func:`side_by_side`."""
    if area.current is None:
        raise InputError(
            f"Scenario {area.scenario.name} has no current grouping.",
            ['give [inputs] current (or current = "pcn")'],
        )
    assignment, hubs = _score_today(area, area.scenario)
    moved = pd.Series(False, index=assignment["practice_code"].to_numpy())
    return Outcome(
        name, area, area.scenario, "current", area.changes, "today's grouping",
        assignment=assignment, hubs=hubs, moved=moved,
    )  # fmt: skip


def compare(outcomes: Iterable[Outcome]) -> pd.DataFrame:
    """One table, one column per outcome (named by ``Outcome.name``; repeated names
    get `` (2)``, ...): what changed, status, band and cap, practices and patients,
    hubs, hubs in band and their share, smallest and largest hub, worst and
    patient-weighted mean minutes to the hub site, practices ungrouped, practices moved
    vs today, seconds to solve, and the first reason where there is no plan (``-`` where
    a figure does not apply). Where travel is the straight-line estimate (in any of the
    outcomes' areas), the minute measures say so, as in a run's comparison."""
    outcomes = list(outcomes)
    columns: dict[str, dict[str, object]] = {}
    for o in outcomes:
        name, k = o.name, 1
        while name in columns:
            k += 1
            name = f"{o.name} ({k})"
        columns[name] = o.figures()
    last = ["seconds", "why not"]
    rows = [r for r in dict.fromkeys(r for f in columns.values() for r in f) if r not in last]
    rows += last
    table = pd.DataFrame(
        {name: [f.get(r, "-") for r in rows] for name, f in columns.items()},
        index=rows,
        dtype=object,
    )
    estimate = any(o.area.words.estimate for o in outcomes)
    return table.rename(index=units.Minutes(estimate).measure)


# ------------------------------------------------------------------ planners' choices


def choices(
    area: Area, k: int | None = None, /, *, prices: bool = False, **changes: Any
) -> tuple[Outcome, Choices | None]:
    """The best plan (an :class:`Outcome`) and the choices around it: up to ``k``
    alternatives (default the scenario's ``[output] alternatives``), what stays
    together across them and, with ``prices``, the price of each rule (see
    :mod:`hubopt.solver.choices`). ``changes`` are scenario fields, e.g.
    ``alternatives_within=0.05``. With alternatives the best plan gets half the time
    limit and they share the rest; the prices share one more time limit."""
    k = area.scenario.replace(**changes).alternatives if k is None else k
    scenario = area.scenario.replace(**changes, alternatives=k)
    seconds = pipeline.best_scenario(scenario).time_limit_seconds
    best = solve(area, "best plan", **{**changes, "alternatives": k, "time_limit_seconds": seconds})
    if best.result is None or best.checks is None:
        return best, None
    found = pipeline.find_choices(
        area.practices, area.minutes, scenario, best.result, best.checks,
        current=area.current, boundary=area.boundary, alternatives=k, prices=prices,
    )  # fmt: skip
    best.scenario = scenario
    return best, found


def alternatives(area: Area, k: int = 3, /, **changes: Any) -> pd.DataFrame:
    """The best plan and up to ``k`` alternatives, one row each
    (:meth:`hubopt.solver.choices.Choices.plans_frame`). The frame's ``attrs`` hold
    ``"text"`` (how many were found, or that the best plan is nearly unique),
    ``"together"`` (each neighbouring pair: firm, contested, apart), ``"moves"`` (the
    practices that change hub, the hubs they move between and what that costs),
    ``"assignments"`` (each plan's practice -> hub site) and ``"choices"`` (the
    :class:`~hubopt.solver.choices.Choices`). An area with no plan gives an empty
    frame whose ``attrs["text"]`` says why."""
    best, found = choices(area, k, **changes)
    if found is None or found.alternatives is None:
        df = pd.DataFrame()
        df.attrs["text"] = best.describe()
        return df
    df = found.plans_frame()
    df.attrs |= {
        "text": found.alternatives.describe(),
        "together": found.pairs,
        "moves": found.moves,
        "assignments": [p.assignment for p in found.alternatives.plans],
        "choices": found,
    }
    return df


def rule_prices(area: Area, /, **changes: Any) -> pd.DataFrame:
    """What each rule the scenario switches on costs, and the band and cap moved by a
    step: one row per re-solve (:meth:`hubopt.solver.choices.Price.record`: rule,
    status, proven, patient-minutes and the saving against the best plan, worst
    minutes, hubs in band, seconds and the sentence for people). The re-solves share
    one time limit, after the best plan's."""
    best, found = choices(area, 0, prices=True, **changes)
    if found is None:
        df = pd.DataFrame()
        df.attrs["text"] = best.describe()
        return df
    return prices_frame(found.prices)


# ------------------------------------------------------------------ maps side by side


@dataclass
class MapGrid:
    """Maps of several outcomes in a grid: shows itself in Jupyter, ``save`` writes
    one self-contained HTML file (each map an ``<iframe srcdoc>``)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>hubopt what-ifs"
            "</title></head><body style='margin:8px'>" + self.html + "</body></html>",
            encoding="utf-8",
        )
        return path


def map_html(fmap: folium.Map) -> str:
    """A Folium map as one self-contained HTML page (:func:`hubopt.outputs.maps.map_page`)."""
    return maps.map_page(fmap)


def _iframe(page: str, height: int, scale: float = 1.0) -> str:
    """``page`` in an iframe ``height`` pixels high, drawn at ``scale`` (below 1: laid
    out on a larger page and shrunk, so that a small frame shows the whole map)."""
    size = f"width:{100 / scale:.4g}%;height:{height / scale:.0f}px"
    shrink = f";transform:scale({scale:g});transform-origin:0 0" if scale != 1 else ""
    return (
        f"<div style='height:{height}px;overflow:hidden;border:1px solid #bbb'>"
        f'<iframe srcdoc="{html.escape(page, quote=True)}" '
        f"style='{size};border:0{shrink}'></iframe></div>"
    )


def map_frame(fmap: folium.Map | str | Path, *, height: int = 600) -> MapGrid:
    """One map for Jupyter, a Folium map or a saved map file (e.g. a run's
    ``map.html``), drawn offline: Leaflet is inlined, whereas folium's own display
    fetches it from a CDN. ``save`` writes it as one HTML file."""
    if isinstance(fmap, str | Path):
        return MapGrid(_iframe(Path(fmap).read_text(encoding="utf-8"), height))
    return MapGrid(_iframe(map_html(fmap), height))


def side_by_side(
    outcomes: Sequence[Outcome], *, columns: int = 2, height: int = 520, scale: float = 0.7
) -> MapGrid:
    """The outcomes' maps in a grid, ``columns`` across and ``height`` pixels high,
    each headed by its name, status and key figures; an outcome with no plan shows its
    reasons instead. Maps are drawn at ``scale`` (0.7: as on a page 1/0.7 times larger,
    shrunk) so that the legend and layer box leave room for the area."""
    cells = []
    for o in outcomes:
        head = f"<b>{html.escape(o.name)}</b> &middot; {html.escape(o.status_text())}"
        if o.has_plan:
            f, unit = o.figures(), o.area.words.unit
            head += html.escape(
                f" · {plural(f['hubs'], 'hub')}, {f['share in band']} in band, worst "
                f"{f['worst minutes to site']} {unit}, mean "
                f"{f['mean minutes to site (patient-weighted)']} {unit}, moved {f[MOVED]}"
            )
            body = _iframe(map_html(o.map()), height, scale)
        else:
            items = "".join(f"<li>{html.escape(r)}</li>" for r in o.reasons)
            body = (
                f"<div style='height:{height}px;overflow:auto;border:1px solid #bbb;"
                f"padding:8px;background:#fff5f5'><p>{html.escape(o.message)}</p>"
                f"<ul>{items}</ul></div>"
            )
        cells.append(
            f"<div style='min-width:0'><div style='margin:4px 0;min-height:2.6em'>{head}</div>"
            f"{body}</div>"
        )
    grid = (
        f"<div style='display:grid;grid-template-columns:repeat({columns},minmax(0,1fr));"
        "gap:10px;font:13px sans-serif'>" + "".join(cells) + "</div>"
    )
    return MapGrid(grid)


# ------------------------------------------------------------------ sensitivity sweep


def sweep(
    area: Area,
    *,
    caps: Iterable[float] | None = None,
    bands: Iterable[tuple[int, int]] | None = None,
    **changes: Any,
) -> pd.DataFrame:
    """Solve every combination of travel cap and population band; one row each.

    ``caps`` default to the scenario's cap, ``bands`` (``(min, max)`` pairs) to its
    band; ``changes`` apply to every solve. Columns: :data:`SWEEP_COLUMNS`
    (``share_in_band`` a fraction; figures NaN where there is no plan).
    """
    s = area.scenario
    rows = []
    for lo, hi in list(bands or [(s.population_min, s.population_max)]):
        for cap in list(caps or [s.travel_cap_minutes]):
            o = solve(
                area,
                f"cap {cap:g}, {lo:,}-{hi:,}",
                travel_cap_minutes=cap,
                population_min=lo,
                population_max=hi,
                **changes,
            )
            row = {
                "cap": cap,
                "band": f"{lo / 1000:g}-{hi / 1000:g}k",
                "population_min": lo,
                "population_max": hi,
                "status": o.status,
                "seconds": round(o.seconds, 1),
            }
            if o.has_plan:
                f = o.figures()
                row |= {
                    "hubs": f["hubs"],
                    "share_in_band": f["hubs in band"] / f["hubs"],
                    "smallest_hub": f["smallest hub"],
                    "largest_hub": f["largest hub"],
                    "worst_minutes": f["worst minutes to site"],
                    "mean_minutes": f["mean minutes to site (patient-weighted)"],
                    "moved": np.nan if o.moved is None else int(o.moved.sum()),
                }
            rows.append(row)
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


#: What :func:`plot_sweep` can draw: column -> axis label.
SWEEP_MEASURES = {
    "mean_minutes": "mean minutes to hub site\n(patient-weighted)",
    "worst_minutes": "worst minutes to hub site",
    "hubs": "hubs",
    "share_in_band": "share of hubs in band",
    "moved": "practices moved vs today",
}


def plot_sweep(
    df: pd.DataFrame, *, measures: Sequence[str] = ("mean_minutes", "hubs", "moved")
) -> Figure:
    """One panel per measure against the travel cap, one line per band.

    Filled markers: proven optimal; hollow: stopped at the time limit or requested
    gap (the best plan found); ``x`` on the axis: no plan (infeasible or none found).
    Returns a :class:`matplotlib.figure.Figure` (shown by Jupyter; ``savefig`` to keep).
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:
        raise ImportError(
            'plot_sweep needs matplotlib: pip install matplotlib (or pip install -e ".[dev]")'
        ) from exc

    measures = [m for m in measures if m != "moved" or df["moved"].notna().any()]
    fig = Figure(figsize=(4.2 * len(measures), 3.8), layout="constrained")
    axes = fig.subplots(1, len(measures), squeeze=False)[0]
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    for ax, m in zip(axes, measures, strict=True):
        for i, (band, g) in enumerate(df.groupby("band", sort=False)):
            c = colours[i % len(colours)]
            g = g.sort_values("cap")
            ok = g[g[m].notna()]
            ax.plot(ok["cap"], ok[m], "-", color=c, label=f"band {band}")
            proven = ok["status"] == "optimal"
            ax.plot(ok.loc[proven, "cap"], ok.loc[proven, m], "o", color=c)
            ax.plot(ok.loc[~proven, "cap"], ok.loc[~proven, m], "o", mfc="white", color=c)
            none = g[g[m].isna()]
            if len(none):  # at the foot of the panel, one row per band
                ax.plot(
                    none["cap"], [0.04 + 0.07 * i] * len(none), "x", color=c, ms=9, mew=2,
                    transform=ax.get_xaxis_transform(),
                )  # fmt: skip
        ax.set_xlabel("travel cap (minutes)")
        ax.set_ylabel(SWEEP_MEASURES.get(m, m))
        if m == "share_in_band":
            ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
        if m in ("hubs", "moved"):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xticks(sorted(df["cap"].unique()))
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    handles += [
        Line2D([], [], ls="", marker="o", color="grey", label="proven optimal"),
        Line2D([], [], ls="", marker="o", mfc="white", color="grey", label="time/gap limit"),
        Line2D([], [], ls="", marker="x", mew=2, color="grey", label="no plan (infeasible)"),
    ]
    fig.legend(handles=handles, loc="outside right center", frameon=False)
    fig.suptitle("Sensitivity to the travel cap and population band")
    return fig
