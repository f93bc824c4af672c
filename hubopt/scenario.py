"""The scenario: every parameter of a run, in one object, loaded from a TOML file.

A scenario file looks like this (paths are relative to the file)::

    [scenario]
    name = "demo"
    description = "Synthetic Demoshire, 30-50k hubs within 25 minutes"

    [inputs]
    practices = "practices.csv"          # practice_code, name, lat, lon, list_size
    network = "network.osm.bz2"          # OSM XML road network (.osm / .osm.bz2)
    boundary = "../boundaries/demo_boundary.geojson"   # optional
    current = "current_groups.csv"       # optional: practice_code, group_id[, group_name]
    sites = "sites.csv"                  # optional: site_code, name, lat, lon (hub sites
                                         # that are not practices, e.g. a hospital)

    [rules]
    population_min = 30000               # registered patients per hub
    population_max = 50000
    travel_cap_minutes = 25              # road minutes from a practice to its hub site
    oversize = "own_hub"                 # or "error": practices above population_max

    [objective]
    kind = "weighted_travel"             # patient-weighted road minutes to the hub site

    [solver]
    name = "cbc"
    time_limit_seconds = 120
    gap = 0.0                            # relative MIP gap at which to stop
    threads = 2

No module reads anything behind the scenario's back: a what-if is
``dataclasses.replace(scenario, travel_cap_minutes=15)`` (or :meth:`Scenario.replace`).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hubopt.errors import InputError

#: Straight-line fallback: road distance / great-circle distance. Measured with
#: :mod:`hubopt.roads.speeds` on 150 random road nodes per network (pairs over 1 km apart, median):
#: Rutland (rural county) 1.24, Cambridge and villages 1.38, Westminster 1.29.
STRAIGHT_LINE_CIRCUITY: float = 1.3
#: Straight-line fallback: average speed along the route, km/h. Measured the same way:
#: Rutland 62, Cambridge and villages 46, Westminster 32; 45 with a circuity of 1.3
#: gives 1.73 road minutes per straight-line km (Rutland 1.24, Cambridge 1.76,
#: Westminster 2.39), so rural estimates run long and inner-city ones short.
STRAIGHT_LINE_KPH: float = 45.0

OVERSIZE_POLICIES = ("own_hub", "error")
OBJECTIVES = ("weighted_travel", "worst_travel", "balance", "fewest_moved")
OBJECTIVE_MODES = ("lexicographic", "weighted")
BAND_MODES = ("strict", "rural_exception", "elastic")
SOLVERS = ("cbc", "highs")
WARM_STARTS = ("none", "current")
NETWORK_KINDS = ("road", "straight_line")
#: ``[network] fallback``: what an area the road network does not cover gets
NETWORK_FALLBACKS = ("error", "straight_line")


@dataclass(frozen=True)
class Scenario:
    """All parameters of one hubopt run.

    Attributes
    ----------
    name
        Short name, used for output folders and the map file (``maps/<name>.html``).
    description
        One line saying what the scenario is, shown in the report.
    practices
        The practices: a plain table (CSV, GeoJSON, GeoPackage) with ``practice_code,
        name, lat, lon, list_size`` (WGS84) and any other columns. Paths in the file
        are relative to it (absolute once loaded).
    columns
        Your column names for hubopt's, when the practices table has other headings:
        ``columns = { list_size = "Patients", practice_code = "Code" }``.
    network
        The road network: an OSM extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``,
        ``.osm.gz``) of a county, a region or all of England, a folder of such
        extracts (merged), or an OSMnx ``.graphml`` (gzipped too); with
        ``download_place`` or ``download_polygon``, the file the download is cached
        in. It is read once into a road store beside it (``<name>.hubopt-roads``, or
        in the folder the ``HUBOPT_ROAD_CACHE`` environment variable names), re-used
        while the file, the speed table and hubopt's version stay the same; each run
        routes on the part of it around its practices (:mod:`hubopt.roads.store`).
    boundary
        Optional area outline (GeoJSON, GeoPackage, shapefile; EPSG:4326 or 27700),
        drawn on the map and clipping the catchments; with ``boundary_field`` it also
        chooses the area.
    current, current_from_pcn
        Optional: today's grouping (``practice_code, group_id[, group_name]``, e.g. the
        PCNs), measured the same way as the proposal. ``current = "pcn"`` takes the
        practices' PCNs from the NHS files instead (``current_from_pcn``).
    sites
        Optional CSV of candidate hub sites that are not practices (``site_code, name,
        lat, lon``, WGS84), e.g. a community hospital: each may become the site of a
        hub the practices join, or stay closed; it has no patients and belongs to no
        hub but its own (:func:`hubopt.inputs.read_sites`). Always a candidate, even
        with ``candidate_sites``.
    register, list_sizes, pcn_map, pcn_membership, postcodes
        NHS files as published, instead of ``practices``: ODS ``epraccur``,
        ``gp-reg-pat-prac-all``, ``gp-reg-pat-prac-map``, ODS ``ePCN`` and a postcode
        lookup (see :mod:`hubopt.inputs.nhs`). ``current = "pcn"`` in the file compares
        with the practices' PCNs (``current_from_pcn``).
    drop_invalid
        Leave out practices with problems (written to ``rejects.csv``) instead of
        stopping.
    ccg, icb, practice_codes, boundary_field, boundary_value, boundary_buffer_m
        The area (section ``[area]``): practices whose CCG / sub-ICB location or ICB
        code is listed, or listed by code, or inside the boundary features whose
        ``boundary_field`` is one of ``boundary_value`` (buffered by
        ``boundary_buffer_m`` metres for cross-border practices).
    exclude_non_gp, exclude_closed, min_list_size
        Leave out non-standard practices (prescribing setting other than GP practice),
        closed or dormant ones, and lists below a threshold; each reported.
    as_at
        Date (YYYY-MM-DD) for PCN membership and open/closed status.
    population_min, population_max
        The population band every hub's total list size must fall in.
    travel_cap_minutes
        Longest allowed road travel from a practice to its hub site, in minutes.
    oversize
        ``"own_hub"``: a practice already above ``population_max`` forms a hub on its
        own and is reported as an exemption. ``"error"``: such a practice makes the
        scenario infeasible.
    exempt
        Named practices that form a hub on their own, exempt from the band (e.g. a
        practice the ICB has agreed stands alone).
    band
        ``"strict"``: every hub within the band. ``"rural_exception"``: hubs below
        ``population_min`` are allowed only where no grouping meets it; the total
        shortfall is minimised first, then the objective. ``"elastic"``: shortfall
        and excess are both allowed and their total is minimised first: the least-bad
        plan, with every breach listed.
    mean_travel_cap_minutes
        Optional cap on each hub's patient-weighted mean road minutes to its site.
    contiguous
        Each hub's practices form one connected area: practices are neighbours when
        their Voronoi cells (clipped to the area) touch; see :mod:`hubopt.model.adjacency`.
    locked_groups, apart
        Groups of practice codes that must share a hub (existing federations), and
        groups whose practices must all be in different hubs.
    fixed_sites, candidate_sites
        Practices that must be hub sites; and, if given, the only practices that may be.
    hubs, hubs_min, hubs_max
        Exact number of hubs, or a range.
    within, cross_allowed
        A practices column (e.g. ``ccg``, ``locality``): hubs do not cross it, except
        for the practices listed in ``cross_allowed``.
    optional
        Practices that may stay unassigned (keep the door open); the patients left
        out are minimised before the objective and every one is reported.
    objective, objective_mode, objective_weights, balance_target
        What to minimise: ``"weighted_travel"`` (list size x road minutes to the hub
        site), ``"worst_travel"`` (the longest practice-to-site time), ``"balance"``
        (total distance of hub populations from ``balance_target``, default the
        middle of the band), ``"fewest_moved"`` (practices leaving their current
        group's hub). A list is taken in order (``lexicographic``) or summed with
        ``objective_weights`` (``weighted``); weighted travel always breaks ties last.
    solver, time_limit_seconds, gap, threads, warm_start, heuristic_only, repeatable
        Solver settings (CBC through PuLP; HiGHS with ``pip install hubopt[highs]``);
        ``threads`` is the whole model's solver threads and the number of sites set
        partitioning prices at once (1 where areas run side by side, as in a batch).
        ``warm_start = "current"`` starts from today's grouping where it is valid.
        ``heuristic_only = true`` skips the whole model: the first plan and the
        neighbourhood search only, for a quick look (the gap is then unknown).
        ``repeatable = true`` gives every step a fixed amount of work besides the
        clock, so that the same inputs give the same plan whatever the machine's
        speed or load (one batch worker or many); a step the clock stops anyway is
        named in the result (:class:`hubopt.solver.clock.Clock`).
    snap_warn_m
        Practices further than this from the road network are reported.
    same_site_m
        Practices closer than this to each other are treated as one building
        (zero travel between them).
    network_kind, circuity, straight_line_kph
        ``[network] kind``: ``"road"`` (default) routes on the road network;
        ``"straight_line"`` is the labelled fallback for quick what-ifs with no
        network, great-circle distance x ``circuity`` / ``straight_line_kph``
        (every report then says so).
    download_place, download_polygon
        Download the drive network with OSMnx (a place name, or a boundary file) and
        cache it at ``[inputs] network`` (a ``.graphml``); later runs read the cache
        offline. Only when one of these is given.
    route_limit_minutes
        Routes longer than this are not explored (shown as inf); saves time on large
        networks. None: every route.
    network_fallback
        ``[network] fallback``: what an area the road network does not cover gets
        (no roads near its practices, or a practice further than 10 km from every
        road): ``"error"`` (default for ``hubopt run``: the run stops and says why)
        or ``"straight_line"`` (the area is planned on the straight-line estimate,
        and its notes, its row of a batch's ``summary.csv`` and ``index.html`` say
        so and why; the default of ``hubopt batch --network``).
    matrix
        A matrix saved by an earlier run (``matrix.csv`` or ``.parquet``): re-solve
        from it without touching the network.
    alternatives, alternatives_within, alternatives_differ
        ``[output]``: after the best plan, up to ``alternatives`` more plans, each at
        most ``alternatives_within`` (a fraction: 0.03 = 3%) more patient-minutes than
        the best (every earlier objective stage no worse) and each grouping at least
        ``alternatives_differ`` practices differently from every plan before it
        (practices that would have to move to turn one grouping into the other; the
        same grouping with a hub sited elsewhere is not a different plan). The best
        plan then gets half the time limit and the alternatives share the rest. See
        :mod:`hubopt.solver.choices`.
    rule_prices
        ``[output]``: re-solve with each rule the scenario switches on relaxed or
        removed (one at a time, warm-started from the best plan), and the band and cap
        moved by 5,000 patients and 5 minutes, to say what each rule costs. These
        re-solves share one more time limit.
    source
        The file the scenario was read from (None when built in code).
    """

    name: str
    practices: Path | None = None
    network: Path | None = None
    boundary: Path | None = None
    current: Path | None = None
    sites: Path | None = None
    register: Path | None = None
    list_sizes: Path | None = None
    pcn_map: Path | None = None
    pcn_membership: Path | None = None
    postcodes: Path | None = None
    columns: dict[str, str] = field(default_factory=dict)
    current_from_pcn: bool = False
    drop_invalid: bool = False
    ccg: tuple[str, ...] = ()
    icb: tuple[str, ...] = ()
    practice_codes: tuple[str, ...] = ()
    boundary_field: str | None = None
    boundary_value: tuple[str, ...] = ()
    boundary_buffer_m: float = 0.0
    exclude_non_gp: bool = True
    exclude_closed: bool = True
    min_list_size: int = 0
    as_at: str | None = None
    description: str = ""
    population_min: int = 30_000
    population_max: int = 50_000
    travel_cap_minutes: float = 30.0
    oversize: str = "own_hub"
    exempt: tuple[str, ...] = ()
    band: str = "strict"
    mean_travel_cap_minutes: float | None = None
    contiguous: bool = False
    locked_groups: tuple[tuple[str, ...], ...] = ()
    apart: tuple[tuple[str, ...], ...] = ()
    fixed_sites: tuple[str, ...] = ()
    candidate_sites: tuple[str, ...] = ()
    hubs: int | None = None
    hubs_min: int | None = None
    hubs_max: int | None = None
    within: str | None = None
    cross_allowed: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    objective: str | tuple[str, ...] = "weighted_travel"
    objective_mode: str = "lexicographic"
    objective_weights: tuple[float, ...] = ()
    balance_target: float | None = None
    solver: str = "cbc"
    time_limit_seconds: float = 120.0
    gap: float = 0.0
    threads: int = 2
    warm_start: str = "none"
    heuristic_only: bool = False
    repeatable: bool = False
    snap_warn_m: float = 1000.0
    same_site_m: float = 25.0
    network_kind: str = "road"
    circuity: float = STRAIGHT_LINE_CIRCUITY
    straight_line_kph: float = STRAIGHT_LINE_KPH
    download_place: str | None = None
    download_polygon: Path | None = None
    route_limit_minutes: float | None = None
    network_fallback: str = "error"
    matrix: Path | None = None
    alternatives: int = 0
    alternatives_within: float = 0.03
    alternatives_differ: int = 5
    rule_prices: bool = False
    source: Path | None = field(default=None, compare=False)

    @property
    def objectives(self) -> tuple[str, ...]:
        """The objective(s) as a tuple, in order."""
        return (self.objective,) if isinstance(self.objective, str) else tuple(self.objective)

    @property
    def hub_range(self) -> tuple[int | None, int | None]:
        """(fewest, most) hubs allowed; None where open."""
        if self.hubs is not None:
            return self.hubs, self.hubs
        return self.hubs_min, self.hubs_max

    @property
    def practice_rules(self) -> dict[str, tuple[str, ...]]:
        """Every rule that names practices, with the codes it names (for validation)."""
        flat = lambda groups: tuple(c for g in groups for c in g)  # noqa: E731
        return {
            "exempt": self.exempt,
            "locked_groups": flat(self.locked_groups),
            "apart": flat(self.apart),
            "fixed_sites": self.fixed_sites,
            "candidate_sites": self.candidate_sites,
            "cross_allowed": self.cross_allowed,
            "optional": self.optional,
        }

    def replace(self, **changes: Any) -> Scenario:
        """Return a copy with some parameters changed, validated like a file."""
        new = dataclasses.replace(self, **changes)
        problems = _check_values(new, where="scenario")
        if problems:
            raise InputError("The changed scenario has problems:", problems)
        return new


class _Groups:
    """Marker type: a list of lists of practice codes."""


class _Numbers:
    """Marker type: a list of numbers."""


# TOML section -> {key: (attribute, expected python type(s))}
_SCHEMA: dict[str, dict[str, tuple[str, tuple[type, ...]]]] = {
    "scenario": {"name": ("name", (str,)), "description": ("description", (str,))},
    "inputs": {
        "practices": ("practices", (str,)),
        "columns": ("columns", (dict,)),
        "network": ("network", (str,)),
        "boundary": ("boundary", (str,)),
        "current": ("current", (str,)),
        "sites": ("sites", (str,)),
        "register": ("register", (str,)),
        "list_sizes": ("list_sizes", (str,)),
        "pcn_map": ("pcn_map", (str,)),
        "pcn_membership": ("pcn_membership", (str,)),
        "postcodes": ("postcodes", (str,)),
        "drop_invalid": ("drop_invalid", (bool,)),
    },
    "area": {
        "ccg": ("ccg", (list,)),
        "sub_icb": ("ccg", (list,)),
        "icb": ("icb", (list,)),
        "practices": ("practice_codes", (list,)),
        "boundary_field": ("boundary_field", (str,)),
        "boundary_value": ("boundary_value", (list,)),
        "boundary_buffer_m": ("boundary_buffer_m", (int, float)),
        "exclude_non_gp": ("exclude_non_gp", (bool,)),
        "exclude_closed": ("exclude_closed", (bool,)),
        "min_list_size": ("min_list_size", (int,)),
        "as_at": ("as_at", (str,)),
    },
    "rules": {
        "population_min": ("population_min", (int,)),
        "population_max": ("population_max", (int,)),
        "travel_cap_minutes": ("travel_cap_minutes", (int, float)),
        "oversize": ("oversize", (str,)),
        "exempt": ("exempt", (list,)),
        "band": ("band", (str,)),
        "mean_travel_cap_minutes": ("mean_travel_cap_minutes", (int, float)),
        "contiguous": ("contiguous", (bool,)),
        "locked_groups": ("locked_groups", (_Groups,)),
        "apart": ("apart", (_Groups,)),
        "fixed_sites": ("fixed_sites", (list,)),
        "candidate_sites": ("candidate_sites", (list,)),
        "hubs": ("hubs", (int,)),
        "hubs_min": ("hubs_min", (int,)),
        "hubs_max": ("hubs_max", (int,)),
        "within": ("within", (str,)),
        "cross_allowed": ("cross_allowed", (list,)),
        "optional": ("optional", (list,)),
    },
    "objective": {
        "kind": ("objective", (str, list)),
        "mode": ("objective_mode", (str,)),
        "weights": ("objective_weights", (_Numbers,)),
        "balance_target": ("balance_target", (int, float)),
    },
    "solver": {
        "name": ("solver", (str,)),
        "time_limit_seconds": ("time_limit_seconds", (int, float)),
        "gap": ("gap", (int, float)),
        "threads": ("threads", (int,)),
        "warm_start": ("warm_start", (str,)),
        "heuristic_only": ("heuristic_only", (bool,)),
        "repeatable": ("repeatable", (bool,)),
    },
    "network": {
        "snap_warn_m": ("snap_warn_m", (int, float)),
        "same_site_m": ("same_site_m", (int, float)),
        "kind": ("network_kind", (str,)),
        "circuity": ("circuity", (int, float)),
        "straight_line_kph": ("straight_line_kph", (int, float)),
        "download_place": ("download_place", (str,)),
        "download_polygon": ("download_polygon", (str,)),
        "route_limit_minutes": ("route_limit_minutes", (int, float)),
        "fallback": ("network_fallback", (str,)),
        "matrix": ("matrix", (str,)),
    },
    "output": {
        "alternatives": ("alternatives", (int,)),
        "alternatives_within": ("alternatives_within", (int, float)),
        "alternatives_differ": ("alternatives_differ", (int,)),
        "rule_prices": ("rule_prices", (bool,)),
    },
}
_PATH_KEYS = (
    "practices",
    "network",
    "boundary",
    "current",
    "sites",
    "register",
    "list_sizes",
    "pcn_map",
    "pcn_membership",
    "postcodes",
    "download_polygon",
    "matrix",
)
_KIND = {
    _Groups: 'a list of lists of practice codes, e.g. [["C82001", "C82002"]]',
    _Numbers: "a list of numbers, e.g. [1.0, 0.01]",
    int: "a whole number",
    float: "a number",
    str: "text",
    bool: "true or false",
    list: 'a list of text, e.g. ["03W", "04C"]',
    dict: "a table of text values",
}


@dataclass(frozen=True)
class KeyDoc:
    """One key of a scenario file, as the documentation's reference lists it."""

    section: str
    key: str
    kind: str  # what the value must be, in words
    default: str  # the default, written as TOML (or "(not set)")
    meaning: str  # the paragraph of the class docstring that explains it ("" if none)
    attribute: str  # the attribute it sets


def attribute_docs(cls: type) -> dict[str, str]:
    """The ``Attributes`` section of a class's numpydoc docstring: attribute name to the
    paragraph that explains it (names listed together, ``a, b``, share one paragraph)."""
    doc = inspect.getdoc(cls) or ""
    lines = doc.split("\n")
    try:
        start = lines.index("Attributes") + 2  # the title and its underline
    except ValueError:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    body: list[str] = []

    def close() -> None:
        text = " ".join(b.strip() for b in body).strip()
        out.update({n: text for n in names})

    for line in lines[start:]:
        if line and not line.startswith(" "):
            if set(line) == {"-"}:  # the next section's underline: the title was no name
                names.pop()
                break
            close()
            names, body = [n.strip() for n in line.split(",")], []
        else:
            body.append(line)
    close()
    return out


def toml_value(value: Any) -> str:
    """A default as it would be written in the TOML file."""
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{}"
            if not value
            else "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) + ".0"
    return str(value)


def kind_text(types: tuple[type, ...]) -> str:
    """What a key's value must be, in the words the error messages use."""
    if types == (int, float):
        return "a number"
    if types == (str, list):
        return "text, or a list of text"
    return _KIND[types[0]]


def key_reference() -> list[KeyDoc]:
    """Every key a scenario file can have, section by section, with what it must be, its
    default and its meaning (from :class:`Scenario`'s docstring): the documentation's
    scenario reference is this list, so the page cannot drift from the code."""
    docs = attribute_docs(Scenario)
    fields = {f.name: f for f in dataclasses.fields(Scenario)}
    rows = []
    for section, keys in _SCHEMA.items():
        for key, (attr, types) in keys.items():
            f = fields[attr]
            default: Any = (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            )
            rows.append(
                KeyDoc(
                    section=section,
                    key=key,
                    kind="a file path (text)" if attr in _PATH_KEYS else kind_text(types),
                    default="(required)" if default is dataclasses.MISSING else toml_value(default),
                    meaning=docs.get(attr, ""),
                    attribute=attr,
                )
            )
    return rows


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    if _Groups in types:
        return isinstance(value, list) and all(
            isinstance(g, list) and all(isinstance(c, str) for c in g) for g in value
        )
    if _Numbers in types:
        return isinstance(value, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        )
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, list):
        return list in types and all(isinstance(v, str) for v in value)
    if isinstance(value, dict):
        return dict in types and all(isinstance(v, str) for v in value.values())
    return isinstance(value, types)


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(options)}"


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Every problem in the file is collected and raised at once as an
    :class:`~hubopt.errors.InputError`.
    """
    path = Path(path)
    return scenario_from_dict(read_toml(path), base_dir=path.parent, where=str(path))


def read_toml(path: Path) -> dict[str, Any]:
    """A scenario file's tables, or an InputError saying why it cannot be read."""
    if path.is_dir():
        raise InputError(
            f"Scenario file {path} is a folder, not a file.",
            ["give the .toml file in it; `hubopt demo` runs the built-in example"],
        )
    if not path.is_file():
        raise InputError(
            f"Scenario file {path} not found.",
            ["check the path; `hubopt demo` runs the built-in example"],
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"Scenario file {path} is not valid TOML.",
            [f"{exc}; check quotes, '=' signs and [section] headers"],
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"Scenario file {path} is not UTF-8 text.",
            [f"{exc}; save it as UTF-8 (most editors offer it under Save As)"],
        ) from None


def scenario_from_dict(
    raw: dict[str, Any], *, base_dir: str | Path = ".", where: str = "scenario"
) -> Scenario:
    """Build a :class:`Scenario` from a nested dict shaped like the TOML file."""
    base_dir = Path(base_dir)
    problems: list[str] = []
    values: dict[str, Any] = {}
    for section, content in raw.items():
        if section not in _SCHEMA:
            problems.append(
                f"{where}: unknown section [{section}]{_suggest(section, list(_SCHEMA))}"
            )
            continue
        if not isinstance(content, dict):
            problems.append(f"{where}: '{section}' must be a [section] of keys")
            continue
        for key, value in content.items():
            spec = _SCHEMA[section].get(key)
            if spec is None:
                problems.append(
                    f"{where}: unknown key '{key}' in [{section}]"
                    f"{_suggest(key, list(_SCHEMA[section]))}"
                )
                continue
            attr, types = spec
            if not _type_ok(value, types):
                kind = "a number" if types == (int, float) else _KIND[types[0]]
                problems.append(f"{where}: [{section}] {key} = {value!r} must be {kind}")
                continue
            if isinstance(value, list):
                value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            values[attr] = value
    if values.get("current") == "pcn":
        del values["current"]
        values["current_from_pcn"] = True
    for attr in _PATH_KEYS:
        if attr in values:
            values[attr] = (base_dir / values[attr]).resolve()
    if "name" not in values:
        problems.append(f'{where}: [scenario] name is missing; add name = "my-area"')
    if "practices" not in values and not {"list_sizes", "postcodes"} <= set(values):
        problems.append(
            f"{where}: [inputs] practices is missing; give a practices CSV path, or NHS "
            "files: list_sizes (gp-reg-pat-prac-all) and postcodes (a postcode lookup)"
        )
    # the keys that were well formed are still checked, so every problem is listed once
    scenario = Scenario(
        source=Path(where) if where != "scenario" else None, **{"name": "x", **values}
    )
    problems += _check_paths(scenario, where=where) + _check_values(scenario, where=where)
    if problems:
        raise InputError(f"The scenario file {where} has problems:", problems)
    return scenario


def _check_paths(s: Scenario, *, where: str) -> list[str]:
    """Every input file named by the scenario exists, and is a file."""
    problems = []
    for attr in _PATH_KEYS:
        path = getattr(s, attr)
        if path is None:
            continue
        # a shapefile's folder reads as one; a folder of county extracts (or a road
        # store) is one network
        if Path(path).is_dir() and attr not in ("boundary", "network"):
            problems.append(
                f"{where}: [inputs] {attr}: {path} is a folder, not a file; name the file "
                "in it (relative paths are relative to the scenario file)"
            )
        # with a download, [inputs] network is the cache, written on the first run
        elif not Path(path).exists() and not (
            attr == "network" and (s.download_place or s.download_polygon)
        ):
            problems.append(
                f"{where}: [inputs] {attr}: file {path} does not exist; check the path "
                "(relative paths are relative to the scenario file)"
            )
    return problems


def _check_values(s: Scenario, *, where: str) -> list[str]:
    """Value rules that hold whatever the source of the scenario."""
    p: list[str] = []
    if not s.name or any(c in s.name for c in "/\\:"):
        p.append(f"{where}: [scenario] name {s.name!r} must be a short name without / \\ :")
    if s.as_at is not None:
        try:
            date.fromisoformat(s.as_at)
        except ValueError:
            p.append(f"{where}: [area] as_at {s.as_at!r} must be a date like 2021-01-01")
    if s.min_list_size < 0:
        p.append(f"{where}: [area] min_list_size must not be negative")
    if s.boundary_value and not s.boundary_field:
        p.append(f"{where}: [area] boundary_value needs boundary_field (the column to match)")
    if s.population_min < 0:
        p.append(f"{where}: [rules] population_min {s.population_min} must not be negative")
    if s.population_max <= 0:
        p.append(f"{where}: [rules] population_max {s.population_max} must be positive")
    if s.population_min > s.population_max:
        p.append(
            f"{where}: [rules] population_min {s.population_min:,} is above "
            f"population_max {s.population_max:,}; swap them"
        )
    if not s.travel_cap_minutes > 0:
        p.append(f"{where}: [rules] travel_cap_minutes {s.travel_cap_minutes} must be above 0")
    if s.oversize not in OVERSIZE_POLICIES:
        p.append(f"{where}: [rules] oversize {s.oversize!r} must be one of {OVERSIZE_POLICIES}")
    p += _check_rules(s, where=where)
    if s.solver not in SOLVERS:
        p.append(f"{where}: [solver] name {s.solver!r} must be one of {SOLVERS}")
    if not s.time_limit_seconds > 0:
        p.append(f"{where}: [solver] time_limit_seconds must be above 0")
    if not 0 <= s.gap < 1:
        p.append(f"{where}: [solver] gap {s.gap} must be a fraction in [0, 1), e.g. 0.01")
    if s.threads < 1:
        p.append(f"{where}: [solver] threads {s.threads} must be at least 1")
    if s.warm_start not in WARM_STARTS:
        p.append(f"{where}: [solver] warm_start {s.warm_start!r} must be one of {WARM_STARTS}")
    p += _check_network(s, where=where)
    p += _check_output(s, where=where)
    return p


def _check_output(s: Scenario, *, where: str) -> list[str]:
    """The [output] section's rules."""
    p: list[str] = []
    if s.alternatives < 0:
        p.append(f"{where}: [output] alternatives {s.alternatives} must not be negative")
    if not 0 <= s.alternatives_within < 1:
        p.append(
            f"{where}: [output] alternatives_within {s.alternatives_within} must be a "
            "fraction in [0, 1), e.g. 0.03 for 3% more patient-minutes than the best plan"
        )
    if s.alternatives_differ < 1:
        p.append(
            f"{where}: [output] alternatives_differ {s.alternatives_differ} must be at "
            "least 1 (practices grouped differently from every earlier plan)"
        )
    return p


def _check_rules(s: Scenario, *, where: str) -> list[str]:
    """The optional rules and the objective."""
    p: list[str] = []
    if s.band not in BAND_MODES:
        p.append(f"{where}: [rules] band {s.band!r} must be one of {BAND_MODES}")
    m = s.mean_travel_cap_minutes
    if m is not None and not m > 0:
        p.append(f"{where}: [rules] mean_travel_cap_minutes {m} must be above 0")
    lo, hi = s.hub_range
    for key, v in (("hubs", s.hubs), ("hubs_min", s.hubs_min), ("hubs_max", s.hubs_max)):
        if v is not None and v < 1:
            p.append(f"{where}: [rules] {key} {v} must be at least 1")
    if s.hubs is not None and (s.hubs_min is not None or s.hubs_max is not None):
        p.append(f"{where}: [rules] give hubs, or hubs_min/hubs_max, not both")
    elif lo is not None and hi is not None and lo > hi:
        p.append(f"{where}: [rules] hubs_min {lo} is above hubs_max {hi}; swap them")
    for key, groups in (("locked_groups", s.locked_groups), ("apart", s.apart)):
        for k, g in enumerate(groups, 1):
            if len(g) < 2:
                p.append(f"{where}: [rules] {key} group {k} {list(g)} needs two or more practices")
    for key, codes in s.practice_rules.items():
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup and key not in ("apart",):
            p.append(f"{where}: [rules] {key} names {', '.join(dup)} more than once")
    not_candidates = set(s.fixed_sites) - set(s.candidate_sites) if s.candidate_sites else set()
    if not_candidates:
        p.append(
            f"{where}: [rules] fixed_sites {', '.join(sorted(not_candidates))} are not in "
            "candidate_sites; add them there"
        )
    if s.cross_allowed and not s.within:
        p.append(f"{where}: [rules] cross_allowed needs within (the column hubs must not cross)")
    objectives = s.objectives
    if not objectives:
        p.append(f"{where}: [objective] kind must name at least one objective")
    for o in objectives:
        if o not in OBJECTIVES:
            p.append(
                f"{where}: [objective] kind {o!r} must be one of {OBJECTIVES}"
                f"{_suggest(o, list(OBJECTIVES))}"
            )
    if len(set(objectives)) != len(objectives):
        p.append(f"{where}: [objective] kind lists an objective twice")
    if s.objective_mode not in OBJECTIVE_MODES:
        p.append(f"{where}: [objective] mode {s.objective_mode!r} must be one of {OBJECTIVE_MODES}")
    if s.objective_mode == "weighted" and len(s.objective_weights) != len(objectives):
        p.append(
            f"{where}: [objective] weights needs one number per objective in kind "
            f"({len(objectives)}), got {len(s.objective_weights)}"
        )
    if any(w < 0 for w in s.objective_weights):
        p.append(f"{where}: [objective] weights must not be negative")
    t = s.balance_target
    if t is not None and not t > 0:
        p.append(f"{where}: [objective] balance_target {t} must be above 0")
    return p


def _check_network(s: Scenario, *, where: str) -> list[str]:
    """The [network] section's rules."""
    p: list[str] = []
    if s.network_kind not in NETWORK_KINDS:
        p.append(f"{where}: [network] kind {s.network_kind!r} must be one of {NETWORK_KINDS}")
    if not s.circuity >= 1:
        p.append(f"{where}: [network] circuity {s.circuity} must be at least 1 (roads are not "
                 "shorter than the straight line); 1.3 is typical")  # fmt: skip
    if not s.straight_line_kph > 0:
        p.append(f"{where}: [network] straight_line_kph must be above 0")
    if s.network_fallback not in NETWORK_FALLBACKS:
        p.append(f"{where}: [network] fallback {s.network_fallback!r} must be one of "
                 f"{NETWORK_FALLBACKS}")  # fmt: skip
    if s.route_limit_minutes is not None and not s.route_limit_minutes > 0:
        p.append(f"{where}: [network] route_limit_minutes must be above 0")
    if s.download_place and s.download_polygon:
        p.append(f"{where}: [network] give download_place or download_polygon, not both")
    downloading = bool(s.download_place or s.download_polygon)
    if downloading and s.network is not None and not str(s.network).endswith(".graphml"):
        p.append(
            f"{where}: [inputs] network must be a .graphml file to cache the download in, "
            f'e.g. network = "{s.name}-roads.graphml"'
        )
    if downloading and s.network is None:
        p.append(
            f"{where}: a download needs [inputs] network, the .graphml file to cache it in, "
            f'e.g. network = "{s.name}-roads.graphml"'
        )
    return p
