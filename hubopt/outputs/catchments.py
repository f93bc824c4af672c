"""Hub catchments: the areas a map shades to show which hub serves where.

Each practice location gets the part of the study area closer to it than to any other
practice (its Voronoi cell, straight-line distance in British National Grid), clipped
to the area boundary; a hub's catchment is the union of its practices' cells. Unlike
convex hulls, catchments never overlap, cover the whole area and put every hub's label
where that hub is drawn. They illustrate the grouping; they are not patient addresses
and not road-time isochrones.

Practices sharing a building share one cell; if they belong to different hubs the cell
goes to the hub with the most patients there.

:func:`build` gathers everything the map and the report draw (catchments of the
proposal and of the current grouping, their colours, label points and which practices
move) so that the two show the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from hubopt.inputs import BNG, site_only_codes
from hubopt.model.adjacency import practice_cells, study_area, touching
from hubopt.outputs import colours as _colours
from hubopt.outputs import evaluate

#: Columns of :attr:`Catchments.sites`.
LOCATION_COLUMNS = ["site_code", "site_name", "lat", "lon", "hub_id", "colour"]
#: Two catchments closer than this (metres) count as neighbours for colouring.
TOUCH_M = 50.0


def dissolve(cells: gpd.GeoDataFrame, groups: pd.Series, sizes: pd.Series) -> gpd.GeoDataFrame:
    """Union the cells of each group (BNG); ``groups`` maps practice code -> group id.

    A shared cell goes to the group with the most patients at that location; cells of
    ungrouped practices (missing or empty group) are left out.
    """
    g = groups.reindex(cells.index)
    g = g.where(g.notna() & (g.astype(str) != ""))
    frame = pd.DataFrame({"group": g, "w": sizes.reindex(cells.index), "loc": cells["location"]})
    owner = (
        frame.dropna(subset=["group"])
        .groupby(["loc", "group"])["w"]
        .sum()
        .reset_index()
        .sort_values(["loc", "w", "group"], ascending=[True, False, True])
        .drop_duplicates("loc")
        .set_index("loc")["group"]
    )
    first = cells.drop_duplicates("location").set_index("location").geometry
    parts = (
        gpd.GeoDataFrame({"group": owner}, geometry=first.reindex(owner.index), crs=BNG)
        .dissolve("group")
        .geometry
    )
    parts = parts.apply(lambda geom: shapely.make_valid(geom.buffer(0.5).buffer(-0.5)))
    return gpd.GeoDataFrame({"group": parts.index}, geometry=parts.to_numpy(), crs=BNG)


def label_point(geom: BaseGeometry) -> tuple[Point, float]:
    """Where a label sits, and the room there (metres to the area's edge): the pole of
    inaccessibility (centre of the largest inscribed circle) of the largest part."""
    parts = list(getattr(geom, "geoms", [geom]))
    parts = [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        return geom.representative_point(), 0.0
    big = max(parts, key=lambda p: p.area)
    point = shapely.ops.polylabel(big, tolerance=max(big.length / 500, 1.0))
    return point, float(big.boundary.distance(point))


def pair_groups(proposal: pd.Series, current: pd.Series, sizes: pd.Series) -> dict[str, str]:
    """Pair current groups with proposed hubs one-to-one, keeping most patients together.

    The same Hungarian matching as :func:`hubopt.outputs.evaluate.practices_moved`, returned
    as ``{current group: proposed hub}`` so a current group can take its hub's colour.
    """
    from scipy.optimize import linear_sum_assignment

    frame = pd.DataFrame(
        {"p": proposal, "c": current.reindex(proposal.index), "w": sizes.reindex(proposal.index)}
    ).dropna()
    frame = frame[(frame["p"] != "") & (frame["c"] != "")]
    if frame.empty:
        return {}
    overlap = frame.pivot_table(index="p", columns="c", values="w", aggfunc="sum", fill_value=0)
    rows, cols = linear_sum_assignment(-overlap.to_numpy())
    return {overlap.columns[c]: overlap.index[r] for r, c in zip(rows, cols, strict=True)}


@dataclass
class Catchments:
    """What the map and the report draw, in EPSG:4326 unless named otherwise.

    Attributes
    ----------
    area
        Study area (BNG), the region divided into cells.
    cells
        Practice Voronoi cells (BNG), by practice code.
    proposal
        One row per proposed hub: ``hub_id``, the :func:`hubopt.outputs.tables.hub_table`
        columns, ``colour``, ``area_km2``, ``label_lat``, ``label_lon``,
        ``label_room_m`` (radius of the largest circle in the area around the label
        point) and the catchment geometry.
    colours
        Hub id -> colour (neighbours never share one).
    current
        Like ``proposal`` for today's groups (``group_id``, ``group_name``, patients,
        practices, ``in_band`` ...), or None. A group paired with a proposed hub
        (most patients in common) has that hub's colour.
    current_colours
        Group id -> colour.
    practices
        One row per practice: code, name, list size, lat, lon, hub, colour, and with a
        current grouping ``current_group``, ``current_group_name``, ``current_colour``
        and ``moved`` (its proposed hub is not the one paired with its group).
    boundary
        The area boundary (EPSG:4326) or None.
    sites
        Candidate hub sites that are not practices (``site_only``; no cells of their
        own): ``site_code, site_name, lat, lon``, ``hub_id`` ("" when not used) and
        ``colour`` (the hub's, or grey); empty without such sites.
    """

    area: BaseGeometry
    cells: gpd.GeoDataFrame
    proposal: gpd.GeoDataFrame
    colours: dict[str, str]
    practices: pd.DataFrame
    current: gpd.GeoDataFrame | None = None
    current_colours: dict[str, str] = field(default_factory=dict)
    boundary: gpd.GeoDataFrame | None = None
    sites: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LOCATION_COLUMNS))

    @property
    def site_points(self) -> pd.DataFrame:
        """``name, lat, lon`` of every place a hub can be sited, by code: the practices
        and the candidate sites that are not practices."""
        cols = ["name", "lat", "lon"]
        practices = self.practices.rename(columns={"practice_name": "name"})
        sites = self.sites.rename(columns={"site_name": "name"})
        return pd.concat(
            [practices.set_index("practice_code")[cols], sites.set_index("site_code")[cols]]
        )

    @property
    def moved(self) -> pd.DataFrame:
        """Practices whose proposed hub is not the one matched with their group today."""
        if "moved" not in self.practices:
            return self.practices.iloc[0:0]
        return self.practices[self.practices["moved"]]


def _areas(
    cells: gpd.GeoDataFrame,
    groups: pd.Series,
    sizes: pd.Series,
    table: pd.DataFrame,
    key: str,
    *,
    fixed: dict[str, str] | None = None,
    points: pd.DataFrame,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Catchments of ``groups`` with the ``table`` columns, colours and label points.

    A group left with no area (its only practices share a building with a bigger
    group's) keeps its row with no geometry, no room for a label, and its label at its
    practices' mean position (``points``: lat, lon by practice code).
    """
    areas = dissolve(cells, groups, sizes)
    G = touching(areas, touch_m=TOUCH_M)
    G.add_nodes_from(table[key])
    colours = _colours.colour_graph(G, fixed=fixed)
    labels = [label_point(g) for g in areas.geometry]
    areas = areas.assign(
        colour=areas["group"].map(colours),
        area_km2=(areas.area / 1e6).round(2),
        label=gpd.GeoSeries([p for p, _ in labels], crs=BNG).to_crs("EPSG:4326").to_numpy(),
        label_room_m=[round(r) for _, r in labels],
    )
    areas = areas.to_crs("EPSG:4326")
    areas.geometry = shapely.set_precision(areas.geometry.to_numpy(), 1e-6)  # ~0.1 m
    areas["label_lat"] = [p.y for p in areas["label"]]
    areas["label_lon"] = [p.x for p in areas["label"]]
    areas = areas.drop(columns="label").rename(columns={"group": key})
    merged = table.merge(pd.DataFrame(areas.drop(columns="geometry")), on=key, how="left")
    missing = merged["label_lat"].isna()
    if missing.any():
        mean = points.groupby(groups.reindex(points.index)).mean()
        lost = merged.loc[missing, key]
        merged.loc[missing, "label_lat"] = mean["lat"].reindex(lost).to_numpy()
        merged.loc[missing, "label_lon"] = mean["lon"].reindex(lost).to_numpy()
        merged.loc[missing, ["area_km2", "label_room_m"]] = 0
        merged.loc[missing, "colour"] = lost.map(colours).to_numpy()
    geometry = areas.set_index(key).geometry.reindex(merged[key])
    return gpd.GeoDataFrame(merged, geometry=geometry.to_numpy(), crs="EPSG:4326"), colours


def build(
    assignment: pd.DataFrame,
    hubs: pd.DataFrame,
    practices: gpd.GeoDataFrame,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    current: pd.DataFrame | None = None,
    current_scored: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Catchments:
    """Catchments, colours, labels and moves for a proposal (and today's grouping).

    Parameters
    ----------
    assignment, hubs
        :func:`hubopt.outputs.tables.assignment_table` and :func:`hubopt.outputs.tables.hub_table`.
    practices
        The practices (coordinates, names, list sizes).
    boundary
        Optional area boundary; catchments are clipped to it.
    current
        Optional current grouping (``group_id``, ``group_name`` by practice code).
    current_scored
        Optional (assignment, hubs) tables of the current grouping from
        :func:`hubopt.outputs.evaluate.score`: travel to each group's best site and band
        figures per group.
    """
    area = study_area(practices, boundary)
    codes = assignment["practice_code"]
    cells = practice_cells(practices.loc[codes], area)
    sizes = practices["list_size"].astype(float)
    by_code = assignment.set_index("practice_code")
    points = practices.loc[codes, ["lat", "lon"]]
    proposal, colours = _areas(cells, by_code["hub_id"], sizes, hubs, "hub_id", points=points)

    table = pd.DataFrame(
        {
            "practice_code": codes.to_numpy(),
            "practice_name": by_code["practice_name"].to_numpy(),
            "list_size": by_code["list_size"].to_numpy(),
            "lat": practices.loc[codes, "lat"].to_numpy(),
            "lon": practices.loc[codes, "lon"].to_numpy(),
            "hub_id": by_code["hub_id"].to_numpy(),
            "hub_site_code": by_code["hub_site_code"].to_numpy(),
            "minutes_to_hub": by_code["minutes_to_hub"].to_numpy(),
        }
    )
    table["is_site"] = table["practice_code"] == table["hub_site_code"]
    table["colour"] = table["hub_id"].map(colours).fillna(_colours.UNGROUPED)

    cur_areas, cur_colours = None, dict[str, str]()
    if current is not None:
        group = current["group_id"].reindex(codes)
        names = current["group_name"].reindex(codes)
        pairing = pair_groups(by_code["hub_id"], group, sizes)
        fixed = {g: colours[h] for g, h in pairing.items() if h in colours}
        members = pd.DataFrame({"group_id": group, "list_size": sizes.reindex(codes)}).dropna()
        summary = (
            members.groupby("group_id")
            .agg(practices=("list_size", "size"), list_size=("list_size", "sum"))
            .reset_index()
        )
        summary["list_size"] = summary["list_size"].astype(int)
        summary["group_name"] = summary["group_id"].map(
            current.drop_duplicates("group_id").set_index("group_id")["group_name"]
        )
        summary["paired_hub"] = summary["group_id"].map(pairing).fillna("")
        if current_scored is not None:
            extra = (
                current_scored[1]
                .rename(columns={"hub_id": "group_id"})
                .drop(columns=["practices", "list_size"], errors="ignore")
            )
            summary = summary.merge(extra, on="group_id", how="left")
        cur_areas, cur_colours = _areas(
            cells, group, sizes, summary, "group_id", fixed=fixed, points=points
        )
        table["current_group"] = group.fillna("").to_numpy()
        table["current_group_name"] = names.fillna("").to_numpy()
        table["current_colour"] = group.map(cur_colours).fillna(_colours.UNGROUPED).to_numpy()
        moved = evaluate.practices_moved(by_code["hub_id"], group, sizes)
        minutes = (
            current_scored[0].set_index("practice_code")["minutes_to_hub"]
            if current_scored is not None
            else pd.Series(dtype=float)
        )
        table["current_minutes"] = minutes.reindex(codes).to_numpy()
        table["moved"] = moved.reindex(codes).fillna(False).astype(bool).to_numpy()
    return Catchments(
        area=area,
        cells=cells,
        proposal=proposal,
        colours=colours,
        practices=table,
        current=cur_areas,
        current_colours=cur_colours,
        boundary=boundary,
        sites=site_locations(practices, by_code, colours),
    )


def site_locations(
    practices: pd.DataFrame, by_code: pd.DataFrame, colours: dict[str, str]
) -> pd.DataFrame:
    """Candidate sites that are not practices, with the hub each one is the site of
    ("" when unused) and its colour (see :attr:`Catchments.sites`)."""
    loc = practices.loc[site_only_codes(practices)]
    hub_of = by_code.drop_duplicates("hub_site_code").set_index("hub_site_code")["hub_id"]
    hub = hub_of.reindex(loc.index).fillna("").astype(str)
    return pd.DataFrame(
        {
            "site_code": loc.index.to_numpy(),
            "site_name": loc["name"].to_numpy(),
            "lat": loc["lat"].to_numpy(),
            "lon": loc["lon"].to_numpy(),
            "hub_id": hub.to_numpy(),
            "colour": hub.map(colours).fillna(_colours.UNGROUPED).to_numpy(),
        },
        columns=LOCATION_COLUMNS,
    )
