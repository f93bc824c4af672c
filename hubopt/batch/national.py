"""National outputs of a batch: ``summary.csv``, ``england.gpkg`` / ``england.geojson``
(every hub's catchment) and an offline ``index.html`` (a national map of all hubs with
simplified geometry, each area linking to its own map and report, and the national
table sortable by any column).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from jinja2 import Environment

from hubopt import __version__
from hubopt.inputs import BNG
from hubopt.outputs import maps

#: summary.csv columns, in order (today's PCNs measured the same way: ``PCN_``)
COLUMNS = [
    "area",
    "name",
    "practices_in_file",
    "patients_in_file",
    "left_out",
    "left_out_patients",
    "practices",
    "patients",
    "hubs",
    "hubs_in_band",
    "in_band_share",
    "contiguous_share",
    "mean_min",
    "worst_min",
    "travel",
    "travel_note",
    "status",
    "gap",
    "clock_stops",
    "bound_kind",
    "plan_source",
    "proof",
    "seconds",
    "PCN_hubs",
    "PCN_hubs_in_band",
    "PCN_in_band_share",
    "PCN_contiguous_share",
    "PCN_mean_min",
    "PCN_worst_min",
    "reused",
    "reason",
    "folder",
]
#: catchments are simplified to this many metres for the national map
SIMPLIFY_M = 150.0
#: columns of the index page's table: (summary column, header)
PAGE_COLUMNS = [
    ("area", "Area"),
    ("name", "Name"),
    ("practices_in_file", "Practices"),
    ("patients_in_file", "Patients"),
    ("left_out", "Left out"),
    ("hubs", "Hubs"),
    ("in_band_share", "In band"),
    ("contiguous_share", "Contiguous"),
    ("mean_min", "Mean min"),
    ("travel", "Travel"),
    ("status", "Status"),
    ("gap", "Gap"),
    ("seconds", "Seconds"),
    ("PCN_hubs", "PCNs"),
    ("PCN_in_band_share", "PCNs in band"),
    ("PCN_contiguous_share", "PCNs contiguous"),
    ("PCN_mean_min", "PCN mean min"),
]


def summary_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per area, in :data:`COLUMNS` order (areas sorted by code)."""
    df = pd.DataFrame(rows)
    df = df.reindex(columns=COLUMNS)
    last = df["area"].astype(str).eq("(none)")  # practices in no area: the last row
    order = sorted(range(len(df)), key=lambda i: (bool(last.iloc[i]), str(df["area"].iloc[i])))
    return df.iloc[order].reset_index(drop=True)


def national_figures(summary: pd.DataFrame) -> dict[str, Any]:
    """England's figures from the area rows: totals, the share of hubs in band and
    contiguous, patient-weighted mean travel (areas weighted by their patients), for
    the plans and today's PCNs measured the same way."""
    s = summary
    plans = s[s["hubs"].notna()]
    out: dict[str, Any] = {
        "areas": int(s["area"].ne("(none)").sum()),
        "plans": len(plans),
        "proven": int((plans["status"] == "optimal").sum()),
        "failed": int(s["status"].eq("failed").sum()),
        "practices_in_file": int(s["practices_in_file"].sum()),
        "patients_in_file": int(s["patients_in_file"].sum()),
        "practices": int(plans["practices"].sum()),
        "patients": int(plans["patients"].sum()),
    }
    for prefix, label in (("", ""), ("PCN_", "PCN_")):
        hubs = plans[f"{prefix}hubs"].fillna(0)
        n = hubs.sum()
        out[f"{label}hubs"] = int(n)
        out[f"{label}in_band_share"] = (
            float(plans[f"{prefix}hubs_in_band"].fillna(0).sum() / n) if n else None
        )
        cont = plans[f"{prefix}contiguous_share"]
        out[f"{label}contiguous_share"] = (
            float((cont.fillna(0) * hubs).sum() / hubs[cont.notna()].sum())
            if cont.notna().any()
            else None
        )
        mean = plans[f"{prefix}mean_min"]
        w = plans["patients"].where(mean.notna(), 0)
        out[f"{label}mean_min"] = float((mean.fillna(0) * w).sum() / w.sum()) if w.sum() else None
    travel = plans["travel"].fillna("")
    out["road_areas"] = int(travel.eq("road").sum())
    out["straight_line_areas"] = int(travel.eq("straight line").sum())
    out["fallback_areas"] = sorted(plans.loc[plans["travel_note"].fillna("").ne(""), "area"])
    gaps = plans["gap"].where(plans["status"] != "optimal", 0.0).dropna()
    out["worst_gap"] = float(gaps.max()) if len(gaps) else None
    return out


def national_catchments(out_dir: Path, summary: pd.DataFrame) -> gpd.GeoDataFrame:
    """Every hub's catchment (EPSG:4326), from each solved area's
    ``catchments.geojson``, with the area's code and folder."""
    parts = []
    for area, folder in summary.loc[summary["hubs"].notna(), ["area", "folder"]].itertuples(
        index=False
    ):
        path = out_dir / str(folder) / "catchments.geojson"
        if path.is_file():
            g = gpd.read_file(path)
            g.insert(0, "area", area)
            g.insert(1, "folder", folder)
            parts.append(g)
    if not parts:
        return gpd.GeoDataFrame({"area": []}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")


def write_layers(hubs: gpd.GeoDataFrame, out_dir: Path) -> list[Path]:
    """``england.gpkg`` (layer ``catchments``, British National Grid) and
    ``england.geojson`` (WGS84)."""
    gpkg, geojson = out_dir / "england.gpkg", out_dir / "england.geojson"
    gpkg.unlink(missing_ok=True)
    hubs.to_crs(BNG).to_file(gpkg, layer="catchments", driver="GPKG")
    geojson.unlink(missing_ok=True)
    hubs.to_file(geojson, driver="GeoJSON")
    return [gpkg, geojson]


def simplified(hubs: gpd.GeoDataFrame, tolerance_m: float = SIMPLIFY_M) -> gpd.GeoDataFrame:
    """Catchments light enough for one national map: simplified by ``tolerance_m``
    metres (topology kept), coordinates to 5 decimals (about a metre)."""
    keep = ["area", "folder", "hub_id", "site_name", "practices", "list_size", "in_band"]
    keep += ["colour"] if "colour" in hubs.columns else []
    g = hubs[[c for c in keep if c in hubs.columns] + ["geometry"]].to_crs(BNG)
    g["geometry"] = g.geometry.simplify(tolerance_m, preserve_topology=True)
    g = g.to_crs("EPSG:4326")
    g["geometry"] = shapely.set_precision(g.geometry.to_numpy(), 1e-5)
    return g


def _cell(value: Any, column: str) -> tuple[str, str]:
    """(shown text, sort key) of a table cell."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-", ""
    if column.endswith("_share"):
        return f"{value:.0%}", f"{value}"
    if column == "gap":
        return f"{value:.2%}", f"{value}"
    if isinstance(value, float):
        return (f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"), f"{value}"
    if isinstance(value, int):
        return f"{value:,}", f"{value}"
    return str(value), str(value)


_PAGE = Environment(autoescape=True).from_string(
    """
<div id="hubopt-head" class="hubopt-national">
<h1>{{ title }}</h1>
<p>{{ lead }}</p>
<p class="hubopt-size">This page: {{ size_text }} (the national map's catchments are simplified
to {{ tolerance }} m; each area's own map has the full detail). Click a hub for links to its
area's map and report. Made by hubopt {{ version }}.</p>
</div>
<div id="hubopt-tablebox" class="hubopt-national">
<p>Practices and patients are the area's in the input; left out: practices the rules leave
out (listed in left_out.csv with every practice of a failed area).</p>
<table id="hubopt-table">
<thead><tr>{% for _, h in columns %}<th data-col="{{ loop.index0 }}">{{ h }}</th>{% endfor %}
<th>Map</th><th>Report</th></tr></thead>
<tbody>
{% for r in rows %}<tr class="{{ r.css }}">
{%- for text, key, note in r.cells %}<td data-sort="{{ key }}"
{%- if note %} class="fallback" title="{{ note }}"{% endif %}>{{ text }}</td>{% endfor %}
<td>{% if r.link %}<a href="{{ r.folder }}/map.html">map</a>{% endif %}</td>
<td>{% if r.link %}<a href="{{ r.folder }}/report.html">report</a>{% endif %}</td></tr>
{% endfor %}</tbody>
</table>
<p>Click a column's header to sort by it (again to reverse). Figures: share of hubs
within the band and contiguous; mean minutes are patient-weighted travel to the hub site.
PCN columns are today's PCNs measured the same way (each PCN's best member as its site).
Travel: "road" where the area was routed on the road network, "straight line" where its
minutes are the straight-line estimate; amber marks an area that was given roads and fell
back (hover for why; its report and summary.csv's travel_note say so too).</p>
</div>
<style>
body { display: flex; flex-direction: column; }
#hubopt-head { order: 0; } .folium-map { order: 1; flex: none; } #hubopt-tablebox { order: 2; }
.hubopt-national { font-family: sans-serif; padding: 6px 14px; font-size: 13px; }
.hubopt-national h1 { font-size: 18px; margin: 6px 0; }
#hubopt-table { border-collapse: collapse; }
#hubopt-table th, #hubopt-table td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
#hubopt-table th { background: #eee; cursor: pointer; position: sticky; top: 0; }
#hubopt-table td:nth-child(2) { text-align: left; }
#hubopt-table tr.failed td { background: #fde4e4; }
#hubopt-table td.fallback { background: #ffe8b0; font-weight: bold; }
#hubopt-table th.asc::after { content: " \\25B2"; }
#hubopt-table th.desc::after { content: " \\25BC"; }
html, body { height: auto !important; overflow: auto !important; }
</style>
<script>
(function () {
  var table = document.getElementById("hubopt-table");
  table.querySelectorAll("th[data-col]").forEach(function (th) {
    th.addEventListener("click", function () {
      var col = +th.dataset.col, asc = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var key = function (r) { return r.cells[col].dataset.sort; };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
</script>
"""
)


def _note(row: dict[str, Any]) -> str:
    """Why an area given roads is on straight-line minutes ("" when it is not)."""
    note = row.get("travel_note")
    return "" if note is None or (isinstance(note, float) and pd.isna(note)) else str(note)


def _size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def index_page(
    hubs: gpd.GeoDataFrame, summary: pd.DataFrame, path: Path, *, title: str, lead: str
) -> int:
    """Write the offline ``index.html``; returns its size in bytes (also stated in it)."""
    light = simplified(hubs)
    fmap = folium.Map(tiles=None, height="62vh", prefer_canvas=True)
    if len(light):
        x0, y0, x1, y1 = light.total_bounds
        fmap.fit_bounds([[y0, x0], [y1, x1]])
        light = light.assign(
            links=[
                f"<a href='{html.escape(str(f))}/map.html'>map</a> · "
                f"<a href='{html.escape(str(f))}/report.html'>report</a>"
                for f in light["folder"]
            ]
        )
        colour = "colour" in light.columns
        folium.GeoJson(
            light.drop(columns="folder").__geo_interface__,
            name="hubs",
            style_function=lambda f: {
                "color": "#333",
                "weight": 0.5,
                "fillColor": f["properties"].get("colour") if colour else "#3388ff",
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["area", "site_name", "list_size", "in_band"],
                aliases=["Area", "Hub site", "Patients", "In band"],
            ),
            popup=folium.GeoJsonPopup(
                fields=["area", "site_name", "list_size", "links"],
                aliases=["Area", "Hub site", "Patients", "Open"],
            ),
        ).add_to(fmap)
    rows = []
    for r in summary.to_dict("records"):
        rows.append(
            {
                "cells": [
                    (*_cell(r.get(c), c), _note(r) if c == "travel" else "")
                    for c, _ in PAGE_COLUMNS
                ],
                "folder": html.escape(str(r.get("folder") or "")),
                "link": pd.notna(r.get("hubs")),
                "css": "" if pd.notna(r.get("hubs")) else "failed",
            }
        )
    values = dict(title=title, lead=lead, columns=PAGE_COLUMNS, rows=rows, version=__version__)
    element = folium.Element(_PAGE.render(**values, tolerance=f"{SIMPLIFY_M:g}", size_text="SIZE"))
    root = fmap.get_root()
    assert isinstance(root, folium.Figure)
    root.html.add_child(element)
    page = maps.map_page(fmap)
    size = len(page.encode("utf-8"))
    page = page.replace(">This page: SIZE", f">This page: {_size_text(size)}", 1)
    path.write_text(page, encoding="utf-8")
    return path.stat().st_size
