"""A planner's own area from the NHS files as downloaded: ``hubopt init``.

App layer, beside :mod:`hubopt.pipeline`: it decides which files and which area a
scenario takes and writes the scenario (and the area's outline) for ``hubopt init``;
reading the NHS files themselves is the inputs stage's (:mod:`hubopt.inputs.nhs`,
:mod:`hubopt.inputs.load`).

:func:`find_nhs_files` finds the publications in a downloads folder by their published
names (the latest when several months are there); :func:`area_catalogue` lists the
areas they cover (CCGs or sub-ICB locations, ICBs and, with a boundaries folder, local
authorities) with their names; :func:`resolve_area` picks one by code or part of a
name; :func:`scenario_text` writes a commented scenario file for it that
``hubopt run`` runs as it is.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from hubopt import paths
from hubopt.errors import InputError, OutputExistsError
from hubopt.inputs import load, nhs
from hubopt.inputs.area import left_out_lines
from hubopt.inputs.load import Inputs
from hubopt.inputs.practices import read_boundary
from hubopt.inputs.published import date_from_name, open_table, parse_extract_date
from hubopt.scenario import Scenario, scenario_from_dict

#: The rules ``hubopt init`` writes: hubopt's defaults
DEFAULTS = Scenario(name="defaults")

#: input -> (name fragments as published, file endings), in order of preference
PUBLICATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "list_sizes": (("gp-reg-pat-prac-all",), (".csv", ".zip")),
    "register": (("epraccur",), (".zip", ".csv")),
    "pcn_membership": (("epcn",), (".xlsx", ".zip", ".csv")),
    "pcn_map": (("gp-reg-pat-prac-map",), (".csv", ".zip")),
    "postcodes": (("onspd", "nspl", "postcode"), (".zip", ".csv")),
}
#: what each input is, for messages: (publication, publisher)
TITLES = {
    "list_sizes": ("Patients Registered at a GP Practice: gp-reg-pat-prac-all.csv", "NHS Digital"),
    "register": ("GP practices: epraccur.zip", "NHS ODS (Organisation Data Service)"),
    "pcn_membership": ("PCN core partner details: epcn.zip (ePCN.xlsx)", "NHS ODS"),
    "pcn_map": ("practice to PCN mapping: gp-reg-pat-prac-map.csv", "NHS Digital"),
    "postcodes": ("ONS Postcode Directory: ONSPD_<MON>_<YEAR>_UK.zip", "ONS Open Geography"),
}
REQUIRED = ("list_sizes", "postcodes")


def _pcn_details_only(name: str) -> bool:
    """ePCN's other sheet exported alone (PCN details, no practices)."""
    n = name.lower()
    return "pcndetails" in n.replace(" ", "").replace("_", "") and "partner" not in n


def find_nhs_files(folder: str | Path) -> tuple[dict[str, Path], dict[str, list[Path]]]:
    """The NHS files in ``folder`` by input, and the other candidates passed over.

    A file is recognised by its published name (``gp-reg-pat-prac-all*``,
    ``epraccur*``, ``ePCN*``, ``gp-reg-pat-prac-map*``, ``ONSPD*`` / ``*postcode*``).
    Of several, the latest by the date in its name (or, for NHS Digital's files,
    which keep one name every month, the ``EXTRACT_DATE`` of its first row), then by
    the preferred form (the archive or workbook as published before a CSV export),
    then by modification time.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The folder {folder} does not exist.", ["check --nhs-dir"])
    files = sorted(p for p in folder.iterdir() if p.is_file())
    found: dict[str, Path] = {}
    others: dict[str, list[Path]] = {}
    for key, (fragments, endings) in PUBLICATIONS.items():
        ranked = []
        for p in files:
            name = p.name.lower()
            hit = next((i for i, f in enumerate(fragments) if f in name), None)
            if hit is None or not name.endswith(endings) or _pcn_details_only(name):
                continue
            ending = next(i for i, e in enumerate(endings) if name.endswith(e))
            when = date_from_name(p.name) or _first_extract_date(p) or date.min
            ranked.append(((when, -hit, -ending, p.stat().st_mtime), p))
        if ranked:
            ranked.sort(key=lambda t: t[0], reverse=True)
            found[key] = ranked[0][1]
            others[key] = [p for _, p in ranked[1:]]
    missing = [k for k in REQUIRED if k not in found]
    if missing:
        raise InputError(
            f"The folder {folder} lacks NHS files hubopt needs:",
            [
                f"no {k.replace('_', ' ')} file: download {TITLES[k][0]} ({TITLES[k][1]}) "
                f"into {folder}"
                for k in missing
            ],
        )
    return found, others


def _first_extract_date(path: Path) -> date | None:
    """The ``EXTRACT_DATE`` of a list-size or mapping file's first row (NHS Digital
    publishes every month under the same name), or None."""
    try:
        with open_table(path) as src:
            head = pd.read_csv(src.handle, dtype=str, nrows=1)
    except Exception:  # not a readable table: ranked by its name and time only  # noqa: BLE001
        return None
    column = next((c for c in head.columns if str(c).strip().upper() == "EXTRACT_DATE"), None)
    return parse_extract_date(head[column]) if column is not None else None


# --- areas ----------------------------------------------------------------------------

#: area kind -> how the scenario's [area] selects it
KINDS = {"ccg": "CCG / sub-ICB location", "icb": "ICB", "la": "local authority"}
_ONS_PREFIX = {"E38": "ccg", "E54": "icb", "E06": "la", "E07": "la", "E08": "la", "E09": "la"}


@dataclass(frozen=True)
class AreaChoice:
    """One area a planner may ask ``hubopt init`` for: a CCG / sub-ICB location, an
    ICB or a local authority, by its codes and name (:func:`area_catalogue` lists
    them, :func:`resolve_area` picks one)."""

    kind: str  # a key of KINDS
    code: str  # the NHS code (01H, QHM) or, for a local authority, the ONS code
    name: str
    ons_code: str = ""

    def __str__(self) -> str:
        ons = f", {self.ons_code}" if self.ons_code and self.ons_code != self.code else ""
        return f"{self.code} {self.name} ({KINDS[self.kind]}{ons})"


@dataclass
class BoundaryLayer:
    """One boundary file and the columns holding its codes and names."""

    path: Path
    kind: str
    code_column: str
    name_column: str
    vintage: str


def boundary_layers(folder: str | Path) -> list[BoundaryLayer]:
    """The CCG / sub-ICB, ICB and local-authority outlines in a boundaries folder
    (ONS files: a ``..CD`` code column and a ``..NM`` name column), newest first."""
    layers = []
    for p in sorted(Path(folder).iterdir()):
        # (TopoJSON .json files hold several layers: not read)
        if p.suffix.lower() not in (".geojson", ".shp", ".gpkg") or "lsoa" in p.name.lower():
            continue
        try:
            head = gpd.read_file(p, rows=5, ignore_geometry=True)
        except Exception:  # not a vector file hubopt can read: skip it  # noqa: BLE001
            continue
        code = next((c for c in head.columns if c.lower().endswith("cd")), None)
        if code is None or head.empty:
            continue
        kind = _ONS_PREFIX.get(str(head[code].iloc[0])[:3])
        name = next((c for c in head.columns if c.lower() == code.lower()[:-2] + "nm"), code)
        if kind:
            years = re.findall(r"(?:19|20)\d\d", p.name)
            vintage = str(date_from_name(p.name) or (years[-1] if years else ""))
            layers.append(BoundaryLayer(p, kind, code, name, vintage))
    return sorted(layers, key=lambda b: b.vintage, reverse=True)


def area_catalogue(
    practices: pd.DataFrame,
    *,
    pcn_map: pd.DataFrame | None = None,
    layers: Sequence[BoundaryLayer] = (),
) -> list[AreaChoice]:
    """Every area the files can select: each CCG / sub-ICB location and ICB code the
    practices carry (names from the practice map, else from the boundary files) and,
    with boundary files, each local authority."""
    names: dict[str, str] = {}
    for layer in reversed(list(layers)):  # newest last: its names win
        if layer.kind != "la":
            t = gpd.read_file(layer.path, ignore_geometry=True)
            codes, labels = t[layer.code_column].astype(str), t[layer.name_column].astype(str)
            names.update(zip(codes, labels, strict=True))
    areas: list[AreaChoice] = []
    m = pcn_map if pcn_map is not None else pd.DataFrame()
    for kind, col in (("ccg", "ccg_code"), ("icb", "icb_code")):
        if col not in practices.columns:
            continue
        ons_col = "ons_" + col
        for code in sorted(c for c in practices[col].dropna().astype(str).unique() if c):
            ons = ""
            if ons_col in practices.columns:
                ons = str(practices.loc[practices[col] == code, ons_col].iloc[0] or "")
            mapped = m[m[col] == code] if col in m.columns else m
            if not ons and ons_col in mapped.columns and len(mapped):
                ons = str(mapped[ons_col].iloc[0])
            name_col = col.replace("_code", "_name")
            name = (
                str(mapped[name_col].iloc[0]) if name_col in mapped.columns and len(mapped) else ""
            )
            areas.append(AreaChoice(kind, code, name or names.get(ons, ""), ons))
    seen = set()
    for layer in layers:
        if layer.kind == "la":
            t = gpd.read_file(layer.path, ignore_geometry=True)
            codes, labels = t[layer.code_column].astype(str), t[layer.name_column].astype(str)
            for code, name in zip(codes, labels, strict=True):
                if code not in seen:
                    seen.add(code)
                    areas.append(AreaChoice("la", code, name, code))
    return areas


def resolve_area(query: str, areas: list[AreaChoice]) -> AreaChoice:
    """The area a planner means: a code (NHS or ONS), or part of a name.

    Raises
    ------
    InputError
        No area matches (the closest names and codes are listed), or several do.
    """
    q = query.strip().lower()
    exact = [a for a in areas if q in (a.code.lower(), a.ons_code.lower())]
    if len(exact) >= 1:
        return exact[0]
    # a whole name, else names with a word starting so, else any part of a name
    named = [a for a in areas if q and a.name.lower() == q]
    named = named or [a for a in areas if q and re.search(r"\b" + re.escape(q), a.name.lower())]
    named = named or [a for a in areas if q and q in a.name.lower()]
    if len(named) == 1:
        return named[0]
    if named:
        raise InputError(
            f"'{query}' matches {len(named)} areas; give one of their codes:",
            [str(a) for a in named[:20]]
            + ([f"... and {len(named) - 20} more"] if len(named) > 20 else []),
        )
    labels = {a.name.lower(): a for a in areas if a.name} | {a.code.lower(): a for a in areas}
    close = difflib.get_close_matches(q, list(labels), n=6, cutoff=0.4)
    close += [k for k in labels if any(w in k for w in q.split() if len(w) > 3) and k not in close]
    hint = list(dict.fromkeys(str(labels[k]) for k in close))[:6]
    raise InputError(
        f"No area '{query}' in the NHS files.",
        (["closest matches: " + "; ".join(hint)] if hint else [])
        + ["give a CCG / sub-ICB location code (e.g. 01H), an ICB code (e.g. QHM), a local "
           "authority code with --boundaries (e.g. E06000053), or part of a name"],
    )  # fmt: skip


def area_outline(
    area: AreaChoice, layers: list[BoundaryLayer], *, as_at: str
) -> gpd.GeoDataFrame | None:
    """The area's ONS outline from the boundary file that has its code, of the
    vintage nearest ``as_at`` (codes change when outlines do)."""
    code = area.ons_code or area.code
    year = int(as_at[:4])
    for layer in sorted(layers, key=lambda b: abs(int(b.vintage[:4] or 0) - year)):
        if layer.kind != area.kind:
            continue
        t = read_boundary(layer.path)
        hit = t[t[layer.code_column].astype(str) == code]
        if len(hit):
            return hit[[layer.code_column, layer.name_column, "geometry"]]
    return None


# --- the scenario file ----------------------------------------------------------------


def slug(text: str) -> str:
    words = re.sub(r"\b(nhs|ccg|icb|integrated care board)\b", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", words).strip("-")[:40] or "area"


def _rel(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when it is beside or below it, else absolute."""
    try:
        rel = os.path.relpath(path.resolve(), base.resolve())
    except ValueError:  # another drive on Windows
        return str(path.resolve())
    return rel if rel.count("..") <= 1 else str(path.resolve())


def _q(value: str) -> str:
    """A TOML basic string (JSON's escaping is TOML's)."""
    return json.dumps(value)


@dataclass
class InitPlan:
    """What ``hubopt init`` writes: the chosen area, the NHS files its scenario takes,
    the day it is taken on, and the outline file beside it (:func:`scenario_text`)."""

    area: AreaChoice
    files: dict[str, Path]
    as_at: str
    sub_icb_era: bool
    boundary: Path | None = None
    notes: list[str] = field(default_factory=list)
    network: Path | None = None

    @property
    def name(self) -> str:
        return (
            f"{self.area.code.lower()}-{slug(self.area.name)}"
            if self.area.name
            else self.area.code.lower()
        )


def _c(setting: str, comment: str) -> str:
    """A setting with its comment, comments aligned."""
    return f"{setting.ljust(38)}  # {comment}"


def scenario_text(plan: InitPlan, *, scenario_path: Path) -> str:
    """A commented scenario TOML for ``plan``; paths relative to ``scenario_path``
    when the files are beside it."""
    base = scenario_path.parent
    a, d = plan.area, DEFAULTS
    f = {k: _rel(p, base) for k, p in plan.files.items()}
    described = {"list_sizes": "registered patients: the practices taken",
                 "register": "ODS register: names, open / closed / dormant",
                 "pcn_membership": "ODS ePCN: PCN membership on as_at",
                 "pcn_map": "practice -> PCN -> commissioner (NHS Digital)",
                 "postcodes": "postcode -> coordinates"}  # fmt: skip
    lines = [
        f"# hubopt scenario for {a}",
        f"# written by `hubopt init` from the NHS files in {plan.files['list_sizes'].parent}",
        "# Relative paths are relative to this file. Run it as it is:",
        f"#   hubopt run {scenario_path.name}",
        "",
        "[scenario]",
        f"name = {_q(plan.name)}",
        "description = "
        + _q(f"{a.name or a.code}: hubs of {DEFAULTS.population_min // 1000}-"
             f"{DEFAULTS.population_max // 1000}k patients, NHS files of {plan.as_at}"),
        "",
        "[inputs]",
    ]  # fmt: skip
    for key in ("list_sizes", "register", "pcn_membership", "pcn_map", "postcodes"):
        if key in f:
            lines += [f"# {described[key]}", f"{key} = {_q(f[key])}"]
    if "pcn_membership" in f or "pcn_map" in f:
        lines.append(_c('current = "pcn"', "compare the proposal with today's PCNs"))
    if plan.boundary is not None:
        lines += ["# the area's ONS outline: catchments and the map follow it",
                  f"boundary = {_q(_rel(plan.boundary, base))}"]  # fmt: skip
    if plan.network is not None:
        lines += [
            "# road network: a county, region or England extract (or a folder of them), read",
            "# once into a road store beside it; this area routes on the part around it",
            f"network = {_q(_rel(plan.network, base))}",
            "",
            "[area]",
        ]
    else:
        lines += [
            "# No road network is given, so travel is a straight-line estimate ([network]",
            "# below). For road times, download the OpenStreetMap extract (.osm.pbf) of the",
            "# county, region or all of England from",
            "# https://download.geofabrik.de/europe/united-kingdom/england.html, then add here",
            '#   network = "<county>-latest.osm.pbf"',
            '# and delete kind = "straight_line" under [network].',
            "",
            "[area]",
        ]
    if a.kind == "ccg":
        key = "sub_icb" if plan.sub_icb_era else "ccg"
        lines.append(
            _c(f"{key} = [{_q(a.code)}]", "practices this commissioner holds in the list sizes")
        )
    elif a.kind == "icb":
        lines.append(
            _c(f"icb = [{_q(a.code)}]", "practices of this ICB (the register's health geography)")
        )
    else:
        lines += [
            "# practices inside the outline (by postcode), whoever commissions them",
            _c("boundary_buffer_m = 0", "metres to widen it by, for practices just outside"),
        ]
    lines += [
        _c(f"as_at = {_q(plan.as_at)}", "the list sizes' extract date: PCNs, open on this day"),
        _c("exclude_non_gp = true", "leave out cost centres that are not GP practices"),
        _c("exclude_closed = true", "leave out practices closed on or before as_at"),
        _c("min_list_size = 0", "e.g. 1000 leaves out special services; each is named"),
        "",
        "[rules]",
        _c(f"population_min = {d.population_min}", "fewest registered patients in a hub"),
        _c(f"population_max = {d.population_max}", "most registered patients in a hub"),
        _c(f"travel_cap_minutes = {d.travel_cap_minutes:g}", "longest travel to the hub site"),
        _c('oversize = "own_hub"', "a practice above population_max is a hub on its own"),
        _c('band = "rural_exception"', "below population_min only where nothing reaches it"),
        "",
        "[objective]",
        _c('kind = "weighted_travel"', "minimise patients x minutes to the hub site"),
        "",
        "[solver]",
        'name = "cbc"',
        _c(f"time_limit_seconds = {d.time_limit_seconds:g}", "then the best plan, its proven gap"),
        "gap = 0.0",
        "threads = 2",
        "",
        "[network]",
    ]  # fmt: skip
    if plan.network is None:
        lines += [
            _c('kind = "straight_line"', "km x circuity / speed; every figure says estimate"),
            _c("circuity = 1.3", "road km per straight-line km"),
            _c("straight_line_kph = 45", "average speed along the road"),
        ]
    else:
        lines += [
            _c('kind = "road"', "road minutes on [inputs] network"),
            _c('fallback = "error"', '"straight_line": an estimate where it has no roads'),
        ]
    lines.append("")
    return "\n".join(lines)


# --- hubopt init ----------------------------------------------------------------------


@dataclass
class Onboarding:
    """What ``hubopt init`` found and wrote."""

    plan: InitPlan
    scenario_path: Path
    scenario: Scenario
    inputs: Inputs
    passed_over: dict[str, list[Path]]
    written: list[Path]


def _commissioners(sizes: nhs.Loaded, register: nhs.Loaded | None) -> pd.DataFrame:
    """Each practice's CCG / sub-ICB location and ICB codes, without reading postcodes
    (the ICB from the list sizes where given, else from the register)."""
    t = sizes.table[["ccg_code", "ons_ccg_code", "icb_code"]].copy()
    t = t[~t.index.duplicated()]  # a practice twice is named when the files are joined
    if register is not None:
        reg = register.table[~register.table.index.duplicated()]
        geo = reg["health_geography"].reindex(t.index).fillna("")
        t["icb_code"] = t["icb_code"].where(t["icb_code"].ne(""), geo)
    return t


def init_area(
    query: str,
    nhs_dir: str | Path,
    *,
    out: str | Path | None = None,
    boundaries: str | Path | None = None,
    force: bool = False,
    network: str | Path | None = None,
) -> Onboarding:
    """Write a scenario for the area ``query`` names from the NHS files in ``nhs_dir``,
    then read it back exactly as ``hubopt run`` will (:func:`load.load_inputs`).
    ``network`` (an extract of the county, a region or England, or a folder of
    extracts) gives road minutes; without it the scenario uses the straight-line
    estimate.

    Raises
    ------
    InputError
        Files missing, the area unknown or ambiguous (closest matches listed), or the
        inputs have problems.
    OutputExistsError
        The scenario (or its boundary file) exists and ``force`` is false.
    """
    if network is not None and not Path(network).exists():
        raise InputError(
            f"Road network {network} not found.",
            ["give an OpenStreetMap extract (.osm.pbf) or a folder of them (--network)"],
        )
    paths.check_input_folders(
        [
            (Path(nhs_dir), "--nhs-dir"),
            (None if boundaries is None else Path(boundaries), "--boundaries"),
        ]
    )
    if out is not None:
        paths.check_outputs(files=[(Path(out), "scenario file (-o)")])
    files, passed_over = find_nhs_files(nhs_dir)
    sizes = nhs.read_list_sizes(files["list_sizes"])
    register = nhs.read_epraccur(files["register"]) if "register" in files else None
    pcn_map = nhs.read_practice_map(files["pcn_map"]).table if "pcn_map" in files else None
    layers = boundary_layers(boundaries) if boundaries is not None else []
    if boundaries is not None and not layers:
        raise InputError(
            f"No ONS boundary files in {boundaries}.",
            ["give the folder holding CCG / sub-ICB, ICB or local-authority outlines "
             "(GeoJSON, GeoPackage or shapefile with a ..CD code column)"],
        )  # fmt: skip
    areas = area_catalogue(_commissioners(sizes, register), pcn_map=pcn_map, layers=layers)
    try:
        chosen = resolve_area(query, areas)
    except InputError as exc:
        if sizes.table["ccg_code"].eq("").all():  # the file cannot place any practice
            exc.problems.append(
                f"{sizes.source} has no CCG_CODE (or SUB_ICB_LOCATION_CODE) column, so no "
                "practice has a CCG / sub-ICB location; download the file again"
            )
        raise InputError(exc.message, exc.problems) from None
    extract = sizes.published.date.isoformat() if sizes.published else date.today().isoformat()
    plan = InitPlan(chosen, files, extract, sub_icb_era=_sub_icb_era(files["list_sizes"]),
                    network=None if network is None else Path(network).resolve())  # fmt: skip
    path = Path(out) if out is not None else Path(f"{plan.name}.toml")
    outline = area_outline(chosen, layers, as_at=extract) if layers else None
    if chosen.kind == "la" and outline is None:
        raise InputError(f"No outline for {chosen} in {boundaries}.", ["check --boundaries"])
    boundary_path = path.with_name(path.stem + "-boundary.geojson") if outline is not None else None
    targets = [p for p in (path, boundary_path) if p is not None]
    paths.check_outputs(files=[(p, "output file") for p in targets])
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise OutputExistsError(
            "hubopt init would overwrite files:",
            [f"{p} exists; give --force to overwrite it, or -o another file" for p in existing],
        )
    plan.boundary = boundary_path
    if layers and outline is None:
        plan.notes.append(
            f"no outline of {chosen.ons_code or chosen.code} in {boundaries}: catchments follow "
            "the practices' hull; add the ONS boundary file of its kind there"
        )
    written = []
    if outline is not None and boundary_path is not None:
        boundary_path.parent.mkdir(parents=True, exist_ok=True)
        outline.to_file(boundary_path, driver="GeoJSON")
        written.append(boundary_path)
    text = scenario_text(plan, scenario_path=path)
    try:
        scenario = scenario_from_dict(tomllib.loads(text), base_dir=path.parent, where=str(path))
        loaded = load.load_inputs(scenario)
        if loaded.practices.empty:
            raise InputError(
                f"No practices are left in {chosen} after the area's rules:",
                left_out_lines(loaded.rejects)
                + ["change the rules in [area] (exclude_non_gp, exclude_closed, min_list_size)"],
            )  # fmt: skip
    except Exception:
        for p in written:
            p.unlink()
        raise
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise paths.write_error(exc, path.parent) from None
    written.insert(0, path)
    return Onboarding(plan, path, scenario, loaded, passed_over, written)


def _sub_icb_era(path: Path) -> bool:
    """Whether the list sizes use the sub-ICB layout (July 2022 on)."""
    with open_table(path, hint="gp-reg-pat-prac-all") as src:
        header = pd.read_csv(src.handle, nrows=0).columns
    return any("SUB_ICB" in str(c).upper() for c in header)
