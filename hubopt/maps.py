"""Folium maps a reviewer can open without Python, e-mail, and read offline.

The HTML is self-contained: Leaflet (BSD-2-Clause) and jQuery (MIT), which folium's
popups need, are inlined from ``hubopt/vendor`` (licences beside them) instead of
loaded from a CDN,
so the map draws with no internet; the street-map background tiles appear only
when online. Every text that comes from an input file is HTML-escaped.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import networkx as nx
import pandas as pd
from branca.element import MacroElement, Template

from hubopt.network import BNG

#: Distinct colours for hubs; neighbouring hubs never share one (greedy colouring).
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939", "#7b4173",
    "#843c39", "#e7ba52", "#6b6ecf", "#31a354", "#ad494a", "#3182bd",
    "#fd8d3c", "#636363",
]  # fmt: skip
BREACH = "#e00000"


def hub_colours(outlines: gpd.GeoDataFrame, *, touch_m: float = 1500.0) -> dict[str, str]:
    """Colour hubs so that hubs whose areas touch (within ``touch_m``) differ.

    ``outlines`` has ``hub_id`` and polygon geometry. With no more hubs than
    :data:`PALETTE` colours every hub gets its own; otherwise the hub adjacency
    graph is coloured with networkx's DSatur greedy colouring, so colours repeat
    only between hubs that do not touch.
    """
    hubs = list(outlines["hub_id"])
    if len(hubs) <= len(PALETTE):
        return {h: PALETTE[k] for k, h in enumerate(hubs)}
    geo = outlines.to_crs(BNG).set_index("hub_id").geometry
    grown = geo.buffer(touch_m / 2)
    G = nx.Graph()
    G.add_nodes_from(hubs)
    for a in hubs:
        G.add_edges_from((a, b) for b in geo.index[grown.intersects(grown[a])] if a < b)
    colouring = nx.greedy_color(G, strategy="saturation_largest_first")
    return {h: PALETTE[c % len(PALETTE)] for h, c in colouring.items()}


def _e(value: object) -> str:
    return html.escape(str(value))


def _practice_popup(row: pd.Series) -> str:
    return (
        f"<b>{_e(row['practice_name'])}</b> ({_e(row['practice_code'])})<br>"
        f"List size: {int(row['list_size']):,}<br>"
        f"Hub: <b>{_e(row['hub_id'])}</b>, site {_e(row['hub_site_name'])}<br>"
        f"Road minutes to hub site: {row['minutes_to_hub']:.1f}"
    )


def _hub_tip(h: pd.Series, members: list[str]) -> str:
    band = "in band" if h["in_band"] == "yes" else "<b>OUT OF BAND</b>"
    exempt = f" ({_e(h['exemption'])})" if h.get("exemption") else ""
    names = "<br>".join(f"&nbsp;&middot; {_e(n)}" for n in members)
    return (
        f"<b>{_e(h['hub_id'])}</b>: site {_e(h['site_name'])}<br>"
        f"{int(h['list_size']):,} patients, {band}{exempt}<br>"
        f"travel to site: worst {h['max_minutes']:.1f} min, mean {h['mean_minutes']:.1f} min"
        f"<br>{int(h['practices'])} practices:<br>{names}"
    )


def _radius(list_size: float) -> float:
    return 4.0 + (float(list_size) / 2000.0) ** 0.5 * 2.0


def proposal_map(
    assignment: pd.DataFrame,
    hubs: pd.DataFrame,
    geo: gpd.GeoDataFrame,
    practices: gpd.GeoDataFrame,
    *,
    title: str,
    status: str,
    cap: float,
    boundary: gpd.GeoDataFrame | None = None,
    current: pd.DataFrame | None = None,
) -> folium.Map:
    """Build the reviewer's map of a proposal.

    Parameters
    ----------
    assignment, hubs
        :func:`hubopt.report.assignment_table` and :func:`hubopt.report.hub_table`.
    geo
        :func:`hubopt.report.hubs_geodataframe` (practice points and hub outlines).
    practices
        The practices table (for coordinates).
    title, status, cap
        Shown in the legend box: scenario name, solver status, travel cap.
    boundary
        Optional area boundary, drawn as an outline layer.
    current
        Optional current grouping (``group_id``, ``group_name`` by practice code),
        drawn as a second, hidden layer to toggle against the proposal.
    """
    pts = practices.loc[assignment["practice_code"], ["lat", "lon"]]
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    folium.TileLayer("OpenStreetMap", name="Street map (online only)", opacity=0.5).add_to(fmap)
    # leave room for the legend (left) and the layer switcher (right)
    fmap.fit_bounds(
        [[pts.lat.min(), pts.lon.min()], [pts.lat.max(), pts.lon.max()]],
        padding_top_left=(360, 20),
        padding_bottom_right=(250, 20),
    )

    if boundary is not None:
        folium.GeoJson(
            boundary[["geometry"]].to_json(),
            name="Area boundary",
            style_function=lambda _f: {
                "color": "#333333",
                "weight": 2,
                "fill": False,
                "dashArray": "6 4",
            },
        ).add_to(fmap)

    outlines = geo[geo["feature"] == "hub"]
    colours = hub_colours(outlines)
    layer = folium.FeatureGroup(name="Proposed hubs", show=True).add_to(fmap)
    for _, o in outlines.iterrows():
        h = hubs.set_index("hub_id").loc[o["hub_id"]].copy()
        h["hub_id"] = o["hub_id"]
        members = list(assignment.loc[assignment["hub_id"] == o["hub_id"], "practice_name"])
        folium.GeoJson(
            gpd.GeoSeries([o.geometry], crs="EPSG:4326").to_json(),
            style_function=lambda _f, c=colours[o["hub_id"]]: {
                "color": c,
                "weight": 2,
                "fillColor": c,
                "fillOpacity": 0.18,
            },
            tooltip=folium.Tooltip(_hub_tip(h, members)),
        ).add_to(layer)

    site_xy = practices[["lat", "lon"]]
    for _, row in assignment.iterrows():
        lat, lon = site_xy.loc[row["practice_code"]]
        slat, slon = site_xy.loc[row["hub_site_code"]]
        colour = colours[row["hub_id"]]
        if row["practice_code"] != row["hub_site_code"]:
            folium.PolyLine(
                [[lat, lon], [slat, slon]], color=colour, weight=1.5, opacity=0.8
            ).add_to(layer)
        folium.CircleMarker(
            [lat, lon],
            radius=_radius(row["list_size"]),
            color="#222222",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
            popup=folium.Popup(_practice_popup(row), max_width=320),
            tooltip=folium.Tooltip(
                f"{_e(row['practice_name'])}: {_e(row['hub_id'])}, {row['minutes_to_hub']:.0f} min"
            ),
        ).add_to(layer)
    for _, h in hubs.iterrows():
        lat, lon = site_xy.loc[h["site_code"]]
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(
                icon_size=(44, 18),
                icon_anchor=(22, 26),
                html=(
                    f'<div style="font:bold 11px sans-serif;background:#fff;border:2px solid '
                    f'{colours[h["hub_id"]]};border-radius:4px;text-align:center;">'
                    f"&#9733;{_e(h['hub_id'])}</div>"
                ),
            ),
            tooltip=folium.Tooltip(f"Hub site {_e(h['hub_id'])}: {_e(h['site_name'])}"),
        ).add_to(layer)

    _breach_layer(assignment, hubs, outlines, site_xy, cap).add_to(fmap)
    if current is not None:
        _current_layer(current, practices).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    _legend(title, status, hubs, colours, cap).add_to(fmap)
    return fmap


def _breach_layer(assignment, hubs, outlines, site_xy, cap) -> folium.FeatureGroup:
    """Out-of-band hubs (red dashed outline) and practices over the travel cap."""
    layer = folium.FeatureGroup(name="Rule breaches", show=True)
    out = hubs[(hubs["in_band"] == "no")]
    for _, h in out.iterrows():
        geom = outlines.loc[outlines["hub_id"] == h["hub_id"]].geometry
        why = _e(h["exemption"]) if h.get("exemption") else "outside the population band"
        folium.GeoJson(
            geom.to_json(),
            style_function=lambda _f: {
                "color": BREACH,
                "weight": 3,
                "fill": False,
                "dashArray": "4 6",
            },
            tooltip=folium.Tooltip(f"{_e(h['hub_id'])}: {int(h['list_size']):,} patients, {why}"),
        ).add_to(layer)
    for _, row in assignment[assignment["minutes_to_hub"] > cap + 1e-6].iterrows():
        lat, lon = site_xy.loc[row["practice_code"]]
        folium.CircleMarker(
            [lat, lon],
            radius=14,
            color=BREACH,
            weight=3,
            fill=False,
            tooltip=folium.Tooltip(
                f"{_e(row['practice_name'])}: {row['minutes_to_hub']:.0f} min to hub, "
                f"over the {cap:g} min cap"
            ),
        ).add_to(layer)
    return layer


def _current_layer(current: pd.DataFrame, practices: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """Today's configuration: practices ringed in their current group's colour."""
    layer = folium.FeatureGroup(name="Current groups (e.g. today's PCNs)", show=False)
    groups = sorted(current["group_id"].unique())
    colour = {g: PALETTE[k % len(PALETTE)] for k, g in enumerate(groups)}
    for code, row in current.iterrows():
        lat, lon = practices.loc[code, ["lat", "lon"]]
        folium.CircleMarker(
            [lat, lon],
            radius=_radius(practices.at[code, "list_size"]) + 4,
            color=colour[row["group_id"]],
            weight=4,
            fill=False,
            tooltip=folium.Tooltip(
                f"{_e(practices.at[code, 'name'])}: today in {_e(row['group_name'])}"
            ),
        ).add_to(layer)
    return layer


_LEGEND = """
{% macro html(this, kwargs) %}
<details open style="position:fixed; top:10px; left:50px; z-index:9999; width:330px;
     background:rgba(255,255,255,0.93); padding:8px 10px; border:1px solid #888;
     border-radius:6px; font:12px sans-serif; max-height:85vh; overflow-y:auto;">
<summary style="cursor:pointer"><b style="font-size:14px">{{ this.title }}</b></summary>
{{ this.body }}
</details>
{% endmacro %}
"""


def _legend(title, status, hubs, colours, cap) -> MacroElement:
    def flag(h) -> str:
        if h.get("exemption"):
            return "<span title='exempt: oversize practice, own hub'>&#9675;</span>"
        return "" if h["in_band"] == "yes" else "<span title='outside the band'>&#9888;</span>"

    rows = "".join(
        f'<tr><td><span style="display:inline-block;width:11px;height:11px;background:'
        f'{colours[h["hub_id"]]}"></span>&nbsp;{_e(h["hub_id"])}</td>'
        f"<td>{_e(h['site_name'])}</td><td style='text-align:right'>{int(h['list_size']):,}</td>"
        f"<td style='text-align:right'>{h['max_minutes']:.0f}</td><td>{flag(h)}</td></tr>"
        for _, h in hubs.iterrows()
    )
    body = (
        f"{_e(status)}<br>{len(hubs)} hubs; travel cap {cap:g} min.<br>"
        "&#9679; practice (size = list, colour = hub), &#9733; hub site, "
        "line = practice to its site. Click a practice or hover a hub for details."
        "<table style='border-collapse:collapse;margin-top:4px;width:100%'>"
        "<tr><th align=left>hub</th><th align=left>site</th><th>patients</th>"
        "<th title='worst road minutes to the site'>worst min</th><th></th></tr>"
        f"{rows}</table>&#9888; outside the band &nbsp; &#9675; oversize practice, own hub"
    )
    el = MacroElement()
    el._template = Template(_LEGEND)
    el.title = f"hubopt: {_e(title)}"
    el.body = body
    return el


#: CDN scripts swapped for vendored copies; any other CDN asset is dropped (unused).
_VENDORED_JS = {"leaflet.js": "leaflet.js", "jquery": "jquery.min.js"}


def _vendor_text(name: str) -> str:
    text = (resources.files("hubopt") / "vendor" / name).read_text(encoding="utf-8")
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("//# sourceMappingURL"))


def _inline_assets(page: str) -> str:
    """Swap CDN tags for inlined Leaflet and jQuery (folium's popups call ``$``);
    drop assets hubopt maps do not use (bootstrap, awesome-markers, fonts)."""
    out = []
    for line in page.splitlines():
        s = line.strip()
        if s.startswith("<script src="):
            vendored = [f for key, f in _VENDORED_JS.items() if key in s]
            if vendored:
                out.append(f"<script>{_vendor_text(vendored[0])}</script>")
        elif s.startswith("<link") and "stylesheet" in s:
            if "leaflet.css" in s:
                out.append(f"<style>{_vendor_text('leaflet.css')}</style>")
        else:
            out.append(line)
    return "\n".join(out)


def save_map(fmap: folium.Map, path: str | Path) -> None:
    """Write the map as one self-contained HTML file."""
    Path(path).write_text(_inline_assets(fmap.get_root().render()), encoding="utf-8")
