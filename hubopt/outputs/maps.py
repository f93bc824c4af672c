"""Folium maps a reviewer can open without Python, e-mail, and read offline.

What the map shows (see :func:`proposal_map`):

- **Proposal** (a base layer): each hub's catchment shaded in its colour (practice
  Voronoi cells clipped to the boundary and dissolved per hub, see
  :mod:`hubopt.outputs.catchments`; touching hubs never share a colour), practices as circles
  sized by list size and coloured by hub, a line from each practice to its hub site,
  hub sites starred, candidate sites that are not practices (e.g. a community
  hospital) as a square "H" with their name (in their hub's colour, or grey when not
  used), and a label (hub id, patients) in each catchment. Hover an area
  for the hub's figures, click it for its members; hover or click a practice.
- **Today's groups** (the other base layer, when a current grouping is given): the
  same drawing for today's configuration; a group matched with a proposed hub (most
  patients in common) has that hub's colour, so colour changes are moves.
- Overlays: the street map, the area boundary, **rule breaches** of the view shown
  (out-of-band hubs, practices over the travel cap), **practices that move** between
  today and the proposal, and the **legend** (figures per hub of the view shown).
- Labels that would overlap are hidden at that zoom, and an **inset** at the bottom
  right enlarges the densest crowded part (a city centre at county zoom: the hidden
  labels closer than :data:`CROWD_LINK_PX` to each other, the part with the most); it
  is left off when it would enlarge less than :data:`MIN_ENLARGEMENT` times, and
  disappears once the map is zoomed in far enough for every label.

The HTML is self-contained: Leaflet (BSD-2-Clause) and jQuery (MIT), which folium's
popups need, are inlined from ``hubopt/outputs/vendor`` (licences beside them) instead of
loaded from a CDN, so the map draws with no internet; the street-map background tiles
appear only when online. Every text that comes from an input file is HTML-escaped, and
also made safe inside the JavaScript template strings folium puts tooltips and popups
in.

The legend, the inset and the script that runs them (which view shows, decluttering,
the inset, the first fit) and their style are Jinja2 templates: ``templates/map.html``
with ``legend.html``, ``map.js`` and ``map.css``; this module works out what they show.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import jinja2
import pandas as pd
from branca.element import MacroElement
from markupsafe import Markup

from hubopt.inputs import BNG
from hubopt.model.adjacency import touching
from hubopt.outputs import catchments as _catchments
from hubopt.outputs import tables
from hubopt.outputs.catchments import Catchments
from hubopt.outputs.colours import BREACH, PALETTE, colour_graph
from hubopt.outputs.editing import EditData
from hubopt.outputs.templating import TEMPLATES
from hubopt.outputs.units import ROAD, Minutes
from hubopt.solver.choices import Choices
from hubopt.text import plural

__all__ = ["PALETTE", "BREACH", "hub_colours", "proposal_map", "save_map"]

#: Exempt hubs (e.g. an oversize practice on its own) are outlined in this colour.
EXEMPT = "#555555"
#: Practices that move between today's groups and the proposal are ringed in this.
MOVED = "#111111"


def hub_colours(outlines: gpd.GeoDataFrame, *, touch_m: float = 1500.0) -> dict[str, str]:
    """Colour hubs so that hubs whose areas touch (within ``touch_m``) differ.

    ``outlines`` has ``hub_id`` and polygon geometry. With no more hubs than
    :data:`PALETTE` colours every hub gets its own; otherwise colours repeat only
    between hubs that do not touch (:func:`hubopt.outputs.colours.colour_graph`).
    """
    G = touching(outlines, key="hub_id", touch_m=touch_m)
    return colour_graph(G)


def _e(value: object) -> str:
    """Escape text for HTML, and for the JS template strings folium wraps it in."""
    return (
        html.escape(str(value)).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")
    )


@jinja2.pass_eval_context
def _escape_all(ctx: jinja2.nodes.EvalContext, value: object) -> object:
    """What the map's HTML templates write for a value: escaped as :func:`_e` does (HTML,
    and the JS template strings folium puts tooltips and popups in), unless it is
    already markup. Scripts (not autoescaped) take values through ``|tojson``."""
    if ctx.autoescape and not hasattr(value, "__html__"):
        return Markup(_e(value))
    return value


#: The map's templates (``templates/map.html`` and what it includes).
_TEMPLATES = TEMPLATES.overlay(finalize=_escape_all)


def _n(value: object) -> str:
    return f"{int(value):,}" if pd.notna(value) else "-"


def _min(value: object) -> str:
    return f"{float(value):.1f}" if pd.notna(value) else "-"


def _radius(list_size: float) -> float:
    return 4.0 + (float(list_size) / 2000.0) ** 0.5 * 2.0


def _band_text(h: pd.Series, band: tuple[int, int] | None) -> str:
    rng = f" {band[0]:,}-{band[1]:,}" if band else ""
    if isinstance(h.get("exemption"), str) and h["exemption"]:
        return f"<b>exempt</b>: {_e(h['exemption'])}"
    if h.get("in_band") == "yes":
        return f"in band{rng}"
    if h.get("in_band") == "no":
        return f"<b style='color:{BREACH}'>OUT OF BAND</b>{rng}"
    return ""


def _area(geometry, colour: str, summary: str, members_html: str) -> folium.GeoJson:
    """A shaded catchment: hover for the summary, click for the member list."""
    return folium.GeoJson(
        gpd.GeoSeries([geometry], crs="EPSG:4326").to_json(),
        style_function=lambda _f, col=colour: {
            "color": col,
            "weight": 2,
            "opacity": 1,
            "fillColor": col,
            "fillOpacity": 0.22,
        },
        highlight_function=lambda _f: {"fillOpacity": 0.4, "weight": 3},
        tooltip=folium.Tooltip(summary + "<br><i>click for the member list</i>"),
        popup=folium.Popup(summary + members_html, max_width=420),
    )


def _members_table(members: pd.DataFrame, minutes_col: str, words: Minutes) -> str:
    rows = "".join(
        f"<tr><td>{_e(m.practice_name)} ({_e(m.practice_code)})"
        f"{' &#9733;' if m.is_site else ''}</td>"
        f"<td align=right>{_n(m.list_size)}</td><td align=right>{_min(m[minutes_col])}</td></tr>"
        for _, m in members.iterrows()
    )
    return (
        "<table class='hubopt-members'><tr><th align=left>practice</th><th>patients</th>"
        f"<th>{words.header('')}</th></tr>{rows}</table>"
    )


def _hub_summary(h: pd.Series, band, *, name: str, site_label: str, words: Minutes) -> str:
    site = (
        f"{site_label}: {_e(h['site_name'])} ({_e(h['site_code'])})<br>"
        if isinstance(h.get("site_name"), str)
        else ""
    )
    travel = (
        f"{words.travel} to {site_label}: worst {_min(h['max_minutes'])}, "
        f"mean {_min(h['mean_minutes'])} (patient-weighted)<br>"
        if pd.notna(h.get("max_minutes"))
        else ""
    )
    return (
        f"<b>{name}</b><br>{site}{_n(h['list_size'])} patients, {_band_text(h, band)}<br>"
        f"{travel}{plural(int(h['practices']), 'practice')}"
    )


def _practice_popup(p: pd.Series, hub_site_name: str, current: bool, words: Minutes) -> str:
    text = (
        f"<b>{_e(p['practice_name'])}</b> ({_e(p['practice_code'])})<br>"
        f"List size: {_n(p['list_size'])}<br>"
        f"Proposed hub: <b>{_e(p['hub_id'])}</b>, site {_e(hub_site_name)}"
        f"{' (this practice)' if p['is_site'] else ''}<br>"
        f"{words.travel.capitalize()} to hub site: {_min(p['minutes_to_hub'])}"
    )
    if current:
        today = (
            f"{_e(p['current_group_name'])} ({_e(p['current_group'])})"
            if p["current_group"]
            else "no group"
        )
        text += f"<br>Today: {today}"
        text += (
            "<br><b>Moves</b> (proposed hub is not the one matched with today's group)"
            if p["moved"]
            else "<br>Stays with the hub matched to today's group"
        )
    return text


def _label(text: str, sub: str, colour: str, *, alert: bool, priority: int) -> folium.DivIcon:
    border = BREACH if alert else colour
    mark = "&#9888;" if alert else ""
    return folium.DivIcon(
        html=(
            f'<div class="hubopt-label" data-priority="{priority}" '
            f'style="border-color:{border}">{mark}{text}<small>{sub}</small></div>'
        ),
        icon_size=(58, 30),
        icon_anchor=(29, 15),
        class_name="hubopt-label-icon",
    )


def _site_marker(p: pd.Series, icon_html: str, tooltip: str) -> folium.Marker:
    """A hub-site symbol (a star on a practice, "H" on a candidate site that is not a
    practice) at ``p``'s ``lat``/``lon``, drawn above the practice circles."""
    return folium.Marker(
        [p["lat"], p["lon"]],
        icon=folium.DivIcon(
            html=icon_html, icon_size=(20, 20), icon_anchor=(10, 11), class_name="hubopt-site-icon"
        ),
        tooltip=folium.Tooltip(tooltip),
    )


def _proposal_group(c: Catchments, hubs: pd.DataFrame, band, *, overlay: bool, words: Minutes):
    layer = folium.FeatureGroup(name="Proposal: hubs and their areas", overlay=overlay, show=True)
    members = c.practices
    points = c.site_points
    site_names = points["name"]
    has_current = "moved" in members
    for _, h in c.proposal.iterrows():
        colour = c.colours[h["hub_id"]]
        summary = _hub_summary(
            h, band, name=f"Hub {_e(h['hub_id'])}", site_label="hub site", words=words
        )
        mem = members[members["hub_id"] == h["hub_id"]].sort_values("minutes_to_hub")
        if h.geometry is None or h.geometry.is_empty:
            continue  # no area of its own (shares a building with a bigger hub)
        table = _members_table(mem, "minutes_to_hub", words)
        _area(h.geometry, colour, summary, table).add_to(layer)
    xy = points[["lat", "lon"]]
    for _, p in members.iterrows():
        if not p["is_site"] and p["hub_site_code"]:
            folium.PolyLine(
                [[p["lat"], p["lon"]], xy.loc[p["hub_site_code"]].tolist()],
                color=p["colour"],
                weight=1.5,
                opacity=0.8,
                interactive=False,
            ).add_to(layer)
    for _, p in members.sort_values("list_size", ascending=False).iterrows():
        folium.CircleMarker(
            [p["lat"], p["lon"]],
            radius=_radius(p["list_size"]),
            color="#222222",
            weight=2.5 if p["is_site"] else 1,
            fill=True,
            fill_color=p["colour"],
            fill_opacity=0.95,
            popup=folium.Popup(
                _practice_popup(p, site_names.get(p["hub_site_code"], ""), has_current, words),
                max_width=340,
            ),
            tooltip=folium.Tooltip(
                f"{_e(p['practice_name'])} ({_e(p['practice_code'])}): hub {_e(p['hub_id'])}, "
                f"{_n(p['list_size'])} patients, {words(p['minutes_to_hub'])} to the site"
            ),
        ).add_to(layer)
    for _, p in members[members["is_site"]].iterrows():
        _site_marker(
            p,
            '<div class="hubopt-site">&#9733;</div>',
            f"Hub site of {_e(p['hub_id'])}: {_e(p['practice_name'])} ({_e(p['practice_code'])})",
        ).add_to(layer)
    for _, s in c.sites.iterrows():
        used = bool(s["hub_id"])
        what = f"Hub site of {_e(s['hub_id'])}" if used else "Candidate site, not used"
        _site_marker(
            s,
            f'<div class="hubopt-location" style="background:{s["colour"]}">H</div>'
            f'<div class="hubopt-location-name">{_e(s["site_name"])}</div>',
            f"{what}: {_e(s['site_name'])} ({_e(s['site_code'])}), not a practice",
        ).add_to(layer)
    for k, (_, h) in enumerate(c.proposal.sort_values("area_km2", ascending=False).iterrows()):
        folium.Marker(
            [h["label_lat"], h["label_lon"]],
            icon=_label(
                _e(h["hub_id"]),
                _n(h["list_size"]),
                c.colours[h["hub_id"]],
                alert=h["in_band"] == "no" and not h.get("exemption"),
                priority=k,
            ),
            interactive=False,
            room=h["label_room_m"],
        ).add_to(layer)
    return layer


def _current_group(c: Catchments, band, words: Minutes):
    layer = folium.FeatureGroup(name="Today's groups (e.g. PCNs)", overlay=False, show=False)
    members = c.practices[c.practices["current_group"] != ""]
    for _, g in c.current.iterrows():
        colour = c.current_colours[g["group_id"]]
        paired = f"<br>matched with proposed hub {_e(g['paired_hub'])}" if g["paired_hub"] else ""
        summary = _hub_summary(
            g,
            band,
            name=f"Today: {_e(g['group_name'])} ({_e(g['group_id'])})",
            site_label="best site",
            words=words,
        )
        mem = members[members["current_group"] == g["group_id"]].sort_values("current_minutes")
        mem = mem.assign(is_site=mem["practice_code"] == g.get("site_code"))
        if g.geometry is None or g.geometry.is_empty:
            continue
        table = _members_table(mem, "current_minutes", words)
        _area(g.geometry, colour, summary + paired, table).add_to(layer)
    for _, p in members.sort_values("list_size", ascending=False).iterrows():
        folium.CircleMarker(
            [p["lat"], p["lon"]],
            radius=_radius(p["list_size"]),
            color="#222222",
            weight=1,
            fill=True,
            fill_color=p["current_colour"],
            fill_opacity=0.95,
            tooltip=folium.Tooltip(
                f"{_e(p['practice_name'])} ({_e(p['practice_code'])}): today "
                f"{_e(p['current_group_name'])}; proposed hub {_e(p['hub_id'])}"
            ),
        ).add_to(layer)
    for k, (_, g) in enumerate(c.current.sort_values("area_km2", ascending=False).iterrows()):
        folium.Marker(
            [g["label_lat"], g["label_lon"]],
            icon=_label(
                _e(g["group_id"]),
                _n(g["list_size"]),
                c.current_colours[g["group_id"]],
                alert=g.get("in_band") == "no" and not g.get("exemption"),
                priority=k,
            ),
            interactive=False,
            room=g["label_room_m"],
        ).add_to(layer)
    return layer


def _breaches(
    areas: gpd.GeoDataFrame, key: str, over: pd.DataFrame, minutes_col: str, cap, words: Minutes
):
    """Out-of-band areas (red dashes), exempt ones (grey dashes), practices over the cap."""
    layer = folium.FeatureGroup(name=f"breaches {key}", show=False, control=False)
    for _, h in areas.iterrows():
        exempt = isinstance(h.get("exemption"), str) and bool(h["exemption"])
        if h.get("in_band") != "no":
            continue
        why = f"exempt: {_e(h['exemption'])}" if exempt else "outside the population band"
        if h.geometry is None or h.geometry.is_empty:
            continue  # its label still warns
        folium.GeoJson(
            gpd.GeoSeries([h.geometry], crs="EPSG:4326").to_json(),
            style_function=lambda _f, ex=exempt: {
                "color": EXEMPT if ex else BREACH,
                "weight": 3,
                "fill": False,
                "dashArray": "4 6",
            },
            tooltip=folium.Tooltip(f"{_e(h[key])}: {_n(h['list_size'])} patients, {why}"),
        ).add_to(layer)
    for _, p in over.iterrows():
        _ring(
            p,
            BREACH,
            6,
            f"{_e(p['practice_name'])}: {_min(p[minutes_col])} {words.travel} to its site, "
            f"over the {cap:g} min cap",
        ).add_to(layer)
    return layer


def _ring(
    p: pd.Series,
    colour: str,
    gap: float,
    tooltip: str,
    *,
    weight: float = 3,
    dash: str | None = None,
) -> folium.CircleMarker:
    """An unfilled ring ``gap`` pixels outside practice ``p``'s dot, with ``tooltip``."""
    return folium.CircleMarker(
        [p["lat"], p["lon"]],
        radius=_radius(p["list_size"]) + gap,
        color=colour,
        weight=weight,
        fill=False,
        dash_array=dash,
        tooltip=folium.Tooltip(tooltip),
    )


def _moved_layer(c: Catchments) -> folium.FeatureGroup:
    layer = folium.FeatureGroup(name="Practices that move (vs today)", show=True)
    for _, p in c.moved.iterrows():
        today = (
            f"{_e(p['current_group_name'])} ({_e(p['current_group'])})"
            if p["current_group"]
            else "no group"
        )
        _ring(
            p,
            MOVED,
            3,
            f"<b>{_e(p['practice_name'])}</b> moves: today {today}, proposed hub {_e(p['hub_id'])}",
            weight=2,
            dash="3 3",
        ).add_to(layer)
    return layer


#: What stays together across the plans: firm links, contested links, practices that
#: change hub between plans.
FIRM_LINK = "#1b5e20"
CONTESTED_LINK = "#e65100"
CHANGES_HUB = "#6a1b9a"


def _choices_layer(choices: Choices, practices: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """What stays together across the best plan and its alternatives: neighbouring
    practices that share a hub in every plan joined by a solid line, in some plans by a
    dashed one; practices that change hub between plans ringed, with the hubs they move
    between and what each choice costs."""
    alts = choices.alternatives
    n = 0 if alts is None else len(alts.plans)
    title = f"Choices: what stays together ({plural(n, 'plan')})"
    layer = folium.FeatureGroup(name=title, show=True)
    if alts is None or choices.pairs is None:
        return layer
    xy = practices[["lat", "lon"]]
    name = practices["name"]
    for _, pair in choices.pairs.iterrows():
        if pair["verdict"] == "apart":
            continue
        firm = pair["verdict"] == "firm"
        a, b = pair["a"], pair["b"]
        folium.PolyLine(
            [xy.loc[a].tolist(), xy.loc[b].tolist()],
            color=FIRM_LINK if firm else CONTESTED_LINK,
            weight=3.5 if firm else 3,
            opacity=0.9,
            dash_array=None if firm else "7 6",
            tooltip=folium.Tooltip(
                f"{_e(name[a])} and {_e(name[b])}: in one hub in "
                f"{'every plan' if firm else f'{pair.together} of {pair.plans} plans'}"
            ),
        ).add_to(layer)
    moves = choices.moves if choices.moves is not None else pd.DataFrame()
    for code, rows in moves.groupby("practice_code", sort=True):
        where = tables.hub_choices(rows, lambda s: _e(name.get(s, s)))
        _ring(
            practices.loc[code],
            CHANGES_HUB,
            5,
            f"<b>{_e(name[code])}</b> ({_e(code)}) changes hub between plans: " + "; ".join(where),
        ).add_to(layer)
    return layer


def _choices_key(choices: Choices | None) -> dict | None:
    """The legend's key to the choices layer (``legend.html``), if there is one."""
    if choices is None or choices.alternatives is None:
        return None
    a = choices.alternatives
    return {
        "plans": plural(len(a.plans), "plan"),
        "within": f"{a.within:.0%}",
        "moving": len(choices.contested),
        "firm": FIRM_LINK,
        "contested": CONTESTED_LINK,
        "changes": CHANGES_HUB,
    }


def proposal_map(
    assignment: pd.DataFrame,
    hubs: pd.DataFrame,
    practices: gpd.GeoDataFrame,
    *,
    title: str,
    status: str,
    cap: float,
    band: tuple[int, int] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    current: pd.DataFrame | None = None,
    current_scored: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    catchments: Catchments | None = None,
    choices: Choices | None = None,
    minutes: Minutes = ROAD,
    edit: EditData | None = None,
) -> folium.Map:
    """Build the reviewer's map of a proposal (see the module docstring).

    Parameters
    ----------
    assignment, hubs
        :func:`hubopt.outputs.tables.assignment_table` and :func:`hubopt.outputs.tables.hub_table`.
    practices
        The practices table (coordinates, names, list sizes).
    title, status, cap, band
        Shown in the legend: scenario name, solver status, travel cap (minutes) and
        population band (min, max).
    boundary
        Optional area boundary: drawn as an outline layer; catchments are clipped to it.
    current
        Optional current grouping (``group_id``, ``group_name`` by practice code): a
        second view to switch to, and the practices that move.
    current_scored
        Optional (assignment, hubs) tables of the current grouping from
        :func:`hubopt.outputs.evaluate.score`: travel and band figures for today's groups.
    catchments
        :func:`hubopt.outputs.catchments.build` output, if already computed (else built here).
    choices
        :class:`hubopt.solver.choices.Choices` with alternatives: a layer of what stays
        together across the plans (:func:`_choices_layer`) and its key in the legend.
    minutes
        How minute figures are labelled (:func:`hubopt.outputs.units.minutes_of` the
        travel-time matrix): a straight-line estimate says so on every figure.
    edit
        :func:`hubopt.outputs.editing.edit_data`: the page gets an edit mode (an *Edit
        this plan* button; ``templates/edit.js``) where a reviewer moves practices
        between hubs and sees every rule re-checked; None leaves it out.
    """
    c = catchments or _catchments.build(
        assignment,
        hubs,
        practices,
        boundary=boundary,
        current=current,
        current_scored=current_scored,
    )
    boundary = c.boundary
    has_current = c.current is not None

    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_snap=0.25)
    folium.TileLayer(
        "OpenStreetMap", name="Street map (online only)", opacity=0.45, overlay=True
    ).add_to(fmap)
    west, south, east, north = gpd.GeoSeries([c.area], crs=BNG).to_crs(4326).total_bounds.tolist()
    bounds = [[south, west], [north, east]]
    fmap.fit_bounds(bounds)  # refitted around the legend and layer box once drawn

    words = minutes
    views = {
        "proposal": _proposal_group(c, hubs, band, overlay=not has_current, words=words).add_to(
            fmap
        )
    }
    if has_current:
        views["current"] = _current_group(c, band, words).add_to(fmap)

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
            interactive=False,
        ).add_to(fmap)

    breaches = folium.FeatureGroup(name="Rule breaches", show=True).add_to(fmap)
    overlays: list[folium.FeatureGroup] = []
    over = c.practices[c.practices["minutes_to_hub"] > cap + 1e-6]
    followers = {
        "proposal": _breaches(c.proposal, "hub_id", over, "minutes_to_hub", cap, words).add_to(
            breaches
        )
    }
    if has_current:
        cur_over = c.practices[c.practices["current_minutes"] > cap + 1e-6]
        followers["current"] = _breaches(
            c.current, "group_id", cur_over, "current_minutes", cap, words
        ).add_to(breaches)
        overlays.append(_moved_layer(c).add_to(fmap))
    if choices is not None and choices.alternatives is not None:
        overlays.append(_choices_layer(choices, practices).add_to(fmap))
    legend_layer = folium.FeatureGroup(name="Legend", show=True).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    _Controls(
        bounds=bounds,
        views=views,
        breaches=breaches,
        followers=followers,
        legend_layer=legend_layer,
        legend=_legend(
            c, title=title, status=status, cap=cap, band=band, words=words, choices=choices
        ),
        overlays=overlays,
        edit=edit,
        name=title,
    ).add_to(fmap)
    return fmap


@dataclass(frozen=True)
class _Area:
    """One row of a legend table: a proposed hub, or one of today's groups."""

    colour: str
    id: str
    #: the hub site's name, or the group's
    name: str
    practices: int
    patients: str
    worst: str
    #: why the area is exempt from the band, or ""
    exemption: str
    out_of_band: bool
    #: today's group: the proposed hub it is matched with, or ""
    paired: str = ""

    @classmethod
    def of(cls, r: pd.Series, colour: str, *, key: str, name: str, paired: str = "") -> _Area:
        exemption = r.get("exemption")
        return cls(
            colour=colour,
            id=str(r[key]),
            name=str(r[name]),
            practices=int(r["practices"]),
            patients=_n(r["list_size"]),
            worst=_min(r.get("max_minutes")),
            exemption=exemption if isinstance(exemption, str) else "",
            out_of_band=r.get("in_band") == "no",
            paired=paired,
        )


@dataclass(frozen=True)
class _Legend:
    """What the legend (``templates/legend.html``) shows, formatted."""

    title: str
    status: str
    words: Minutes
    #: the ``worst`` minutes column header (HTML)
    worst: Markup
    cap: str
    #: ``band 30,000-50,000 patients, `` or "" without a band
    band: str
    #: the proposal: ``12 hubs``, how many in the band and exempt, the practices over
    #: the cap (``2 practices``, or "")
    hubs: str
    in_band: int
    exempt: int
    over: str
    hubs_table: list[_Area]
    #: today's groups (``11 groups``), or None when no current grouping is given
    groups: str | None
    groups_in_band: int
    groups_table: list[_Area]
    #: practices that move from today's groups, of all practices
    moved: int
    practices: int
    #: candidate sites that are not practices are drawn
    sites: bool
    #: the key to the choices layer (:func:`_choices_key`), or None
    choices: dict | None
    breach: str = BREACH


def _legend(
    c: Catchments, *, title: str, status: str, cap: float, band, words: Minutes, choices
) -> _Legend:
    h, g = c.proposal, c.current
    over = int((c.practices["minutes_to_hub"] > cap + 1e-6).sum())
    groups, groups_in_band, groups_table = None, 0, []
    if g is not None:
        groups = plural(len(g), "group")
        groups_in_band = int((g.get("in_band", pd.Series(dtype=str)) == "yes").sum())
        groups_table = [
            _Area.of(
                r,
                c.current_colours[r["group_id"]],
                key="group_id",
                name="group_name",
                paired=str(r["paired_hub"]),
            )
            for _, r in g.iterrows()
        ]
    return _Legend(
        title=title,
        status=status,
        words=words,
        worst=Markup(words.header("worst")),
        cap=f"{cap:g}",
        band=f"band {band[0]:,}-{band[1]:,} patients, " if band else "",
        hubs=plural(len(h), "hub"),
        in_band=int((h["in_band"] == "yes").sum()),
        exempt=int((h["exemption"].fillna("") != "").sum()) if "exemption" in h else 0,
        over=plural(over, "practice") if over else "",
        hubs_table=[
            _Area.of(r, c.colours[r["hub_id"]], key="hub_id", name="site_name")
            for _, r in h.iterrows()
        ],
        groups=groups,
        groups_in_band=groups_in_band,
        groups_table=groups_table,
        moved=len(c.moved) if g is not None else 0,
        practices=len(c.practices),
        sites=bool(len(c.sites)),
        choices=_choices_key(choices),
    )


#: Labels hidden for crowding that lie closer than this (pixels, at the map's zoom)
#: belong to one crowded part; the inset enlarges the part with the most of them.
CROWD_LINK_PX = 150

#: The inset is left off unless it enlarges its part at least this many times: a box
#: that covers the whole area at the overview's scale shows nothing new.
MIN_ENLARGEMENT = 2.0


class _Controls(MacroElement):
    """Legend, view-following layers, label decluttering and the inset map: the macros
    of ``templates/map.html``, with the names of the layers they work on."""

    _template = _TEMPLATES.get_template("map.html")

    def __init__(
        self,
        *,
        bounds,
        views,
        breaches,
        followers,
        legend_layer,
        legend: _Legend,
        overlays=(),
        edit: EditData | None = None,
        name: str = "plan",
    ):
        super().__init__()
        self.overlays = [o.get_name() for o in overlays]
        self.edit = edit.markup() if edit is not None else None
        self.edit_js = _template_text("edit.js") if edit is not None else ""
        self.edit_name = name
        self.bounds = bounds
        self._name = "HuboptControls"
        self.views = {k: v.get_name() for k, v in views.items()}
        self.followers = {k: v.get_name() for k, v in followers.items()}
        self.breaches = breaches.get_name()
        self.legend_layer = legend_layer.get_name()
        self.legend = legend
        self.link_px = CROWD_LINK_PX
        self.min_enlargement = MIN_ENLARGEMENT


#: CDN scripts swapped for vendored copies; any other CDN asset is dropped (unused).
_VENDORED_JS = {"leaflet.js": "leaflet.js", "jquery": "jquery.min.js"}


def _template_text(name: str) -> str:
    """A file of ``templates/`` as it is (a plain script, not a Jinja2 template)."""
    return (resources.files("hubopt.outputs") / "templates" / name).read_text(encoding="utf-8")


def _vendor_text(name: str) -> str:
    text = (resources.files("hubopt.outputs") / "vendor" / name).read_text(encoding="utf-8")
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


def map_page(fmap: folium.Map) -> str:
    """The map as one self-contained HTML page (scripts and styles inlined)."""
    return _inline_assets(fmap.get_root().render())


def save_map(fmap: folium.Map, path: str | Path) -> None:
    """Write the map as one self-contained HTML file."""
    Path(path).write_text(map_page(fmap), encoding="utf-8")
