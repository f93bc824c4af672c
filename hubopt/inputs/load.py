"""Stage one: read every input a scenario names, validate it, choose the area.

Candidate hub sites that are not practices (``[inputs] sites``) are appended to
the practices table last, as rows with ``site_only`` true and no patients.

Practices come either from a plain table (:func:`hubopt.inputs.read_practices_table`)
or from NHS files as published (:mod:`hubopt.inputs.nhs`); the area and exclusion rules of
:mod:`hubopt.inputs.area` then apply. Problems from every file are gathered and raised once
(or, with ``drop_invalid``, those practices are left out and listed as rejects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import pandas as pd

from hubopt import inputs
from hubopt.errors import InputError
from hubopt.inputs import area, nhs
from hubopt.inputs.practices import BNG
from hubopt.scenario import Scenario


@dataclass
class Inputs:
    """Everything the later stages need from the input files."""

    practices: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame | None = None
    current: pd.DataFrame | None = None  # group_id, group_name by practice code
    notes: list[str] = field(default_factory=list)
    #: the area's practices left out, one row each (:func:`hubopt.inputs.left_out_frame`)
    rejects: pd.DataFrame = field(default_factory=inputs.left_out_frame)
    sources: dict[str, str] = field(default_factory=dict)
    #: input (scenario key) -> the date the NHS file is of and how that is known
    published: dict[str, str] = field(default_factory=dict)

    def read(self) -> tuple[int, int]:
        """Practices and patients of the area read from the files: those kept (not the
        candidate sites) and those left out (patients where their list size is usable)."""
        kept = self.practices.drop(index=inputs.site_only_codes(self.practices))
        patients = int(kept["list_size"].sum()) + int(self.rejects["patients"].sum())
        return len(kept) + len(self.rejects), patients


#: The ``category`` of practices chosen by code but far outside the area's boundary.
FAR_OUTSIDE = "far outside the area's boundary (--drop-invalid)"


def rejects_in_area(
    rejects: pd.DataFrame, scenario: Scenario, boundary: gpd.GeoDataFrame | None
) -> pd.Series:
    """Which rows left out for problems belong to the chosen area (a mask).

    By code (``[area] ccg``, ``icb``, ``practices``) when the area is chosen by code; by
    position inside the boundary when it is chosen by boundary (a row with no usable
    position counts as in the area: it cannot be placed outside it); every row when
    the whole file is the area.
    """
    s = scenario
    blank = pd.Series("", index=rejects.index)
    if s.ccg or s.icb or s.practice_codes:
        keep = pd.Series(True, index=rejects.index)
        if s.ccg:
            keep &= area._codes_match(rejects.get("ccg_code", blank), s.ccg)
        if s.icb:
            keep &= area._codes_match(rejects.get("icb_code", blank), s.icb)
        if s.practice_codes:
            keep &= rejects["practice_code"].isin(s.practice_codes)
        return keep
    if boundary is None or rejects.empty:
        return pd.Series(True, index=rejects.index)
    lat = pd.to_numeric(rejects.get("lat", blank), errors="coerce")
    lon = pd.to_numeric(rejects.get("lon", blank), errors="coerce")
    placed = lat.notna() & lon.notna()
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=rejects.index, crs="EPSG:4326")
    inside = pts[placed].to_crs(BNG).within(area.boundary_area(boundary, s))
    return ~placed | inside.reindex(rejects.index, fill_value=False)


def read_all_practices(scenario: Scenario) -> inputs.PracticeTable:
    """All practices named by the scenario's inputs, validated (before the area).

    A row with problems is set aside in ``rejects`` (with its problems) whatever
    ``drop_invalid`` says: whether it stops the run depends on whether it is in the
    chosen area (:func:`inputs_for_area`), so a bad row of one area never stops
    another's run or a batch. Problems of a whole file still raise here."""
    return _read_practices(scenario)[0]


def _read_practices(scenario: Scenario) -> tuple[inputs.PracticeTable, dict[str, str]]:
    """:func:`read_all_practices`, with each NHS file's publication date by input."""
    s = scenario
    if s.practices is not None:
        table = inputs.read_practices_table(s.practices, columns=s.columns, drop_invalid=True)
        return table, {}
    # the scenario refuses NHS inputs without both of these (scenario_from_dict)
    assert s.list_sizes is not None and s.postcodes is not None
    as_at = s.as_at or date.today().isoformat()
    sizes = nhs.read_list_sizes(s.list_sizes)
    postcodes = nhs.read_postcode_lookup(s.postcodes)
    register = nhs.read_epraccur(s.register) if s.register else None
    pcn_map = nhs.read_practice_map(s.pcn_map) if s.pcn_map else None
    epcn = nhs.read_epcn(s.pcn_membership, as_at=as_at) if s.pcn_membership else None
    files = {"list_sizes": sizes, "postcodes": postcodes, "register": register,
             "pcn_map": pcn_map, "pcn_membership": epcn}  # fmt: skip
    published = {k: str(f.published) for k, f in files.items() if f and f.published}
    table = nhs.assemble(
        list_sizes=sizes, postcodes=postcodes, register=register, pcn_map=pcn_map, epcn=epcn,
        drop_invalid=True,
    )  # fmt: skip
    return table, published


def current_from_pcn(practices: pd.DataFrame) -> pd.DataFrame:
    """Today's grouping from the practices' PCN columns (practices in no PCN are
    ungrouped)."""
    if "pcn_code" not in practices.columns:
        raise InputError(
            'current = "pcn" needs PCN membership.',
            ["give [inputs] pcn_membership (ePCN) or pcn_map, or a pcn_code column"],
        )
    grouped = practices[practices["pcn_code"].fillna("").astype(str) != ""]
    name = grouped["pcn_name"] if "pcn_name" in grouped.columns else grouped["pcn_code"]
    return pd.DataFrame({"group_id": grouped["pcn_code"], "group_name": name})


def _sites_inside(sites: gpd.GeoDataFrame, shape, label: str) -> None:
    """Refuse candidate sites far outside the area's boundary (a wrong position would
    otherwise leave the site silently unused)."""
    far = area.far_outside(sites.geometry.to_crs(BNG), shape)
    if len(far):
        raise InputError(
            f"Candidate sites in {label} lie outside the area:",
            [
                f"{label}: site {c} ({sites.at[c, 'name']}) is {km:.1f} km outside the "
                "area's boundary; check its lat and lon, or leave it out of the file"
                for c, km in far.items()
            ],
        )


def with_sites(
    practices: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, label: str = "the sites file"
) -> gpd.GeoDataFrame:
    """Practices (``site_only`` False) with candidate sites that are not practices
    appended (``site_only`` True, no patients); a site code that is also a practice
    code is refused."""
    clash = sorted(set(sites.index) & set(practices.index))
    if clash:
        raise InputError(
            f"Candidate sites in {label} have the codes of practices:",
            [
                f"{label}: site {c} ({sites.at[c, 'name']}) has the code of practice {c} "
                f"({practices.at[c, 'name']}); give the site a code of its own (a practice "
                "is already a candidate hub site)"
                for c in clash
            ],
        )
    both = pd.concat([practices.assign(site_only=False), sites.rename_axis(practices.index.name)])
    return gpd.GeoDataFrame(both, geometry="geometry", crs=practices.crs)


def load_inputs(scenario: Scenario) -> Inputs:
    """Read, validate and select: the inputs stage of :func:`hubopt.pipeline.run`."""
    s = scenario
    table, published = _read_practices(s)
    boundary = inputs.read_boundary(s.boundary) if s.boundary else None
    return inputs_for_area(table, s, boundary=boundary, published=published)


def inputs_for_area(
    table: inputs.PracticeTable,
    scenario: Scenario,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    published: dict[str, str] | None = None,
) -> Inputs:
    """Choose the scenario's area from practices already read (:func:`read_all_practices`),
    with today's grouping and candidate sites: one national read serves many areas
    (:mod:`hubopt.batch`)."""
    s = scenario
    selection, problems = area.select_area(table.practices, s, boundary=boundary)
    invalid = table.rejects[rejects_in_area(table.rejects, s, boundary).to_numpy()]
    if len(invalid) and not s.drop_invalid:
        named = set(invalid["practice_code"])
        raise inputs.problems_error(
            table.source, [p for p in table.problems if p.practice in named]
        )
    parts = [invalid[inputs.LEFT_OUT_COLUMNS], selection.left_out]
    if problems:
        if not s.drop_invalid or any(p.practice is None for p in problems):
            raise InputError("The chosen area has problems:", [str(p) for p in problems])
        bad = [p.practice for p in problems]
        far = selection.practices.loc[bad]
        parts.append(
            inputs.left_out_frame(
                {
                    "practice_code": bad,
                    "name": far["name"].to_numpy(),
                    "patients": far["list_size"].to_numpy(),
                    "category": FAR_OUTSIDE,
                    "reason": [p.text for p in problems],
                }
            )
        )
        selection.practices = selection.practices.drop(index=bad)
    rejects = inputs.left_out_frame(pd.concat([p for p in parts if len(p)] or [parts[0]]))
    practices = selection.practices
    notes = table.notes + selection.report
    if s.current_from_pcn:
        current = current_from_pcn(practices)
    elif s.current is not None:
        current = inputs.read_grouping(
            s.current,
            practices,
            # a practice left out for problems is known: its group is simply not used
            known=table.practices.index.union(table.rejects["practice_code"].dropna()),
            notes=notes,
        )
    else:
        current = None
    if s.sites is not None:
        sites = inputs.read_sites(s.sites, notes=notes)
        if boundary is not None:
            _sites_inside(sites, area.boundary_area(boundary, s), s.sites.name)
        practices = with_sites(practices, sites, s.sites.name)
    sources = {
        k: str(getattr(s, k))
        for k in ("practices", "register", "list_sizes", "pcn_map", "pcn_membership",
                  "postcodes", "boundary", "current", "sites", "network")
        if getattr(s, k) is not None
    }  # fmt: skip
    return Inputs(practices, boundary, current, notes, rejects, sources, published or {})
