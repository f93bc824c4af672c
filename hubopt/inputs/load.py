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
    rejects: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["practice_code", "reason"])
    )
    sources: dict[str, str] = field(default_factory=dict)


def read_all_practices(scenario: Scenario) -> inputs.PracticeTable:
    """All practices named by the scenario's inputs, validated (before the area)."""
    s = scenario
    if s.practices is not None:
        return inputs.read_practices_table(
            s.practices, columns=s.columns, drop_invalid=s.drop_invalid
        )
    # the scenario refuses NHS inputs without both of these (scenario_from_dict)
    assert s.list_sizes is not None and s.postcodes is not None
    as_at = s.as_at or date.today().isoformat()
    return nhs.assemble(
        list_sizes=nhs.read_list_sizes(s.list_sizes),
        postcodes=nhs.read_postcode_lookup(s.postcodes),
        register=nhs.read_epraccur(s.register) if s.register else None,
        pcn_map=nhs.read_practice_map(s.pcn_map) if s.pcn_map else None,
        epcn=nhs.read_epcn(s.pcn_membership, as_at=as_at) if s.pcn_membership else None,
        drop_invalid=s.drop_invalid,
    )


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
    table = read_all_practices(s)
    boundary = inputs.read_boundary(s.boundary) if s.boundary else None
    selection, problems = area.select_area(table.practices, s, boundary=boundary)
    rejects = table.rejects
    if problems:
        if not s.drop_invalid or any(p.practice is None for p in problems):
            raise InputError("The chosen area has problems:", [str(p) for p in problems])
        bad = {p.practice for p in problems}
        selection.practices = selection.practices.drop(index=list(bad))
        rejects = pd.concat(
            [
                rejects,
                pd.DataFrame([{"practice_code": p.practice, "reason": p.text} for p in problems]),
            ],
            ignore_index=True,
        )
    practices = selection.practices
    notes = table.notes + selection.report
    if s.current_from_pcn:
        current = current_from_pcn(practices)
    elif s.current is not None:
        current = inputs.read_grouping(
            s.current, practices, known=table.practices.index, notes=notes
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
    return Inputs(practices, boundary, current, notes, rejects, sources)
