"""The one-page HTML report that goes beside the map.

Everything a reviewer needs to sign off a proposal, on one printable page, with no
scripts and no external files: the solver's status and gap, the key figures and how
they compare with today, a static overview map (inline SVG, with an enlargement of the
crowded area), the per-hub table, rule breaches and exemptions, the practices that
move, the scenario's parameters, and the input files with their dates. Every text from
an input file is HTML-escaped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hubopt.catchments import BNG, Catchments
from hubopt.colours import BREACH, UNGROUPED

if TYPE_CHECKING:  # pragma: no cover
    from hubopt.pipeline import RunResult

#: Scenario attributes that name input files, in the order they are listed.
SOURCE_FIELDS = (
    "practices", "register", "list_sizes", "pcn_map", "pcn_membership", "postcodes",
    "network", "boundary", "current", "sites",
)  # fmt: skip


def _e(value: object) -> str:
    return html.escape(str(value))


def _n(value: object) -> str:
    return f"{int(value):,}" if pd.notna(value) else "-"


def _m(value: object) -> str:
    return f"{float(value):.1f}" if pd.notna(value) else "-"


# --------------------------------------------------------------------------- SVG map


class _Frame:
    """Projects BNG metres into an SVG box of ``width`` x ``height`` pixels."""

    def __init__(self, bounds: tuple[float, float, float, float], width: int, height: int):
        x0, y0, x1, y1 = bounds
        self.scale = min((width - 8) / max(x1 - x0, 1), (height - 8) / max(y1 - y0, 1))
        self.x0 = x0 - ((width / self.scale) - (x1 - x0)) / 2
        self.y1 = y1 + ((height / self.scale) - (y1 - y0)) / 2
        self.width, self.height = width, height

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.x0) * self.scale, (self.y1 - y) * self.scale

    def extent(self) -> tuple[float, float, float, float]:
        """The BNG box the frame shows."""
        return (
            self.x0,
            self.y1 - self.height / self.scale,
            self.x0 + self.width / self.scale,
            self.y1,
        )

    def path(self, geom: BaseGeometry) -> str:
        out = []
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon":
                continue
            for ring in [poly.exterior, *poly.interiors]:
                pts = [self.xy(x, y) for x, y in ring.coords]
                out.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
        return "".join(out)


def _points(lon: pd.Series, lat: pd.Series, index) -> pd.DataFrame:
    """lon/lat -> BNG x/y."""
    g = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(BNG)
    return pd.DataFrame({"x": g.x.to_numpy(), "y": g.y.to_numpy()}, index=index)


@dataclass
class _Drawing:
    """Catchments, practices and labels in BNG, ready to draw at any scale."""

    c: Catchments
    areas: gpd.GeoDataFrame  # proposal catchments, BNG
    practices: pd.DataFrame  # c.practices with x, y
    labels: pd.DataFrame  # hub_id -> x, y, room, border colour
    boundary: BaseGeometry | None
    sites: pd.DataFrame  # c.sites (candidate sites that are not practices) with x, y

    @classmethod
    def of(cls, c: Catchments) -> _Drawing:
        p = c.practices.set_index("practice_code", drop=False)
        p = p.join(_points(p["lon"], p["lat"], p.index))
        h = c.proposal.set_index("hub_id")
        labels = _points(h["label_lon"], h["label_lat"], h.index)
        labels["room"] = h["label_room_m"]
        labels["border"] = [
            BREACH if r["in_band"] == "no" and not r.get("exemption") else r["colour"]
            for _, r in h.iterrows()
        ]
        labels = labels.sort_values("room", ascending=False)
        boundary = None
        if c.boundary is not None:
            boundary = shapely.make_valid(c.boundary.to_crs(BNG).union_all())
        loc = c.sites.set_index("site_code", drop=False)
        loc = loc.join(_points(loc["lon"], loc["lat"], loc.index))
        return cls(c, c.proposal.to_crs(BNG), p, labels, boundary, loc)

    def crowded(self, frame: _Frame, *, w: float = 40, h: float = 15) -> list[str]:
        """Hubs whose label would not fit in its area or would overlap another."""
        shown: list[tuple[float, float]] = []
        out = []
        for hub, r in self.labels.iterrows():
            x, y = frame.xy(r["x"], r["y"])
            clash = any(abs(x - a) < w + 2 and abs(y - b) < h + 2 for a, b in shown)
            if clash or 2 * r["room"] * frame.scale < 0.8 * w:
                out.append(hub)
            else:
                shown.append((x, y))
        return out

    def svg(self, frame: _Frame, *, skip: set[str] = frozenset(), title: str = "") -> str:
        W, H = frame.width, frame.height
        view = shapely.box(*frame.extent())
        big = frame.scale > 0.02  # enlarged: bigger dots
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
            f'height="{H}" role="img" aria-label="{_e(title)}">'
            f'<rect width="{W}" height="{H}" fill="#f7f7f7"/>'
        ]
        for _, a in self.areas.iterrows():
            if a.geometry is None or a.geometry.is_empty:
                continue
            d = frame.path(a.geometry.intersection(view))
            if d:
                out.append(
                    f'<path d="{d}" fill="{a["colour"]}" fill-opacity="0.28" '
                    f'stroke="{a["colour"]}" stroke-width="1.3" fill-rule="evenodd">'
                    f"<title>{_e(a['hub_id'])}</title></path>"
                )
        if self.boundary is not None:
            d = frame.path(self.boundary.intersection(view))
            if d:
                out.append(
                    f'<path d="{d}" fill="none" stroke="#333" stroke-width="1.2" '
                    'stroke-dasharray="5 3"/>'
                )
        p = self.practices
        ends = pd.concat([p[["x", "y"]], self.sites[["x", "y"]]])
        for _, r in p[~p["is_site"] & (p["hub_site_code"] != "")].iterrows():
            (ax, ay), (bx, by) = (
                frame.xy(r["x"], r["y"]),
                frame.xy(*ends.loc[r["hub_site_code"], ["x", "y"]]),
            )
            out.append(
                f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
                f'stroke="{r["colour"]}" stroke-width="1"/>'
            )
        for _, r in p.sort_values("list_size", ascending=False).iterrows():
            x, y = frame.xy(r["x"], r["y"])
            rad = (1.5 + (r["list_size"] / 2000) ** 0.5 * 0.7) * (1.7 if big else 1)
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" fill="{r["colour"]}" '
                f'stroke="#222" stroke-width="{1.3 if r["is_site"] else 0.5}">'
                f"<title>{_e(r['practice_name'])} ({_e(r['practice_code'])}): hub "
                f"{_e(r['hub_id'])}</title></circle>"
            )
        for _, r in p[p["is_site"]].iterrows():
            x, y = frame.xy(r["x"], r["y"])
            out.append(
                f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="12" '
                'fill="#fff" stroke="#000" stroke-width="0.7">&#9733;</text>'
            )
        for _, r in self.sites.iterrows():
            x, y = frame.xy(r["x"], r["y"])
            what = f"hub site of {_e(r['hub_id'])}" if r["hub_id"] else "candidate site, not used"
            out.append(
                f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" '
                f'fill="{r["colour"]}" stroke="#222" stroke-width="1.2"><title>'
                f"{_e(r['site_name'])} ({_e(r['site_code'])}): {what}</title></rect>"
                f'<text x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle" font-size="9" '
                'font-weight="bold" fill="#fff">H</text>'
            )
        for hub, r in self.labels.iterrows():
            x, y = frame.xy(r["x"], r["y"])
            if hub in skip or not (0 <= x <= W and 0 <= y <= H):
                continue
            out.append(
                f'<rect x="{x - 20:.1f}" y="{y - 8:.1f}" width="40" height="15" rx="3" '
                f'fill="#fff" fill-opacity="0.92" stroke="{r["border"]}" stroke-width="1.6"/>'
                f'<text x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle" font-size="10" '
                f'font-weight="bold">{_e(hub)}</text>'
            )
        out.append("</svg>")
        return "".join(out)


def overview_svgs(c: Catchments, *, width: int = 470, height: int = 360) -> tuple[str, str]:
    """The proposal as a static map, and an enlargement of its crowded area ('' if none).

    Labels that would not fit at the overview's scale are left off it and drawn in the
    enlargement, whose outline is marked on the overview.
    """
    d = _Drawing.of(c)
    frame = _Frame(c.area.bounds, width, height)
    crowded = d.crowded(frame)
    if not crowded:
        return d.svg(frame, title="Proposed hubs"), ""
    pts = d.labels.loc[crowded, ["x", "y"]]
    reach = 60 / frame.scale  # practices within 60 px of a crowded label
    near = d.practices[
        [((pts["x"] - x).abs() < reach).any() and ((pts["y"] - y).abs() < reach).any()
         for x, y in zip(d.practices["x"], d.practices["y"], strict=True)]
    ]  # fmt: skip
    xs = pd.concat([pts["x"], near["x"]])
    ys = pd.concat([pts["y"], near["y"]])
    pad = 0.12 * max(xs.max() - xs.min(), ys.max() - ys.min(), 500)
    box = (xs.min() - pad, ys.min() - pad, xs.max() + pad, ys.max() + pad)
    inset = _Frame(box, 300, 240)
    overview = d.svg(frame, skip=set(crowded), title="Proposed hubs")
    x0, y0 = frame.xy(box[0], box[3])
    x1, y1 = frame.xy(box[2], box[1])
    marker = (
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
        'fill="none" stroke="#333" stroke-width="1.2" stroke-dasharray="3 2"/></svg>'
    )
    return overview.removesuffix("</svg>") + marker, d.svg(inset, title="Crowded area enlarged")


# ------------------------------------------------------------------------ the page

_CSS = """
@page { size: A4; margin: 10mm; }
body { font: 12px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
  max-width: 1180px; margin: 12px auto; padding: 0 12px; }
h1 { font-size: 20px; margin: 0 0 2px; }
h2 { font-size: 14px; margin: 14px 0 5px; border-bottom: 1px solid #ccc; padding-bottom: 2px; }
.sub { color: #555; margin-bottom: 8px; }
.status { padding: 6px 10px; border-radius: 5px; margin: 6px 0 10px; font-size: 13px; }
.status.ok { background: #e7f5e9; border: 1px solid #8fc79a; }
.status.warn { background: #fff4e0; border: 1px solid #e0b060; }
.status.bad { background: #fde8e8; border: 1px solid #e08a8a; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 6px;
  margin-bottom: 6px; }
.card { border: 1px solid #ccc; border-radius: 5px; padding: 4px 9px; }
.card b { display: block; font-size: 17px; }
.card span { color: #555; font-size: 11px; }
.card.alert { border-color: #e00000; }
.grid { display: grid; grid-template-columns: 480px 1fr; gap: 14px; align-items: start; }
.maps { display: flex; flex-direction: column; gap: 4px; }
.maps figure { margin: 0; }
.maps figcaption { font-size: 11px; color: #555; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 2px 5px; text-align: left; vertical-align: top; }
th { background: #eee; font-weight: 600; }
tr:nth-child(even) td { background: #f7f7f7; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.id { white-space: nowrap; }
.members { font-size: 10.5px; color: #333; }
.sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border: 1px solid #0003;
  vertical-align: -1px; }
.out { color: #e00000; font-weight: 600; }
.small { font-size: 11px; color: #444; }
ul { margin: 3px 0; padding-left: 18px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def _status_block(res: RunResult) -> str:
    s = res.solve
    status = getattr(s, "status", "")
    cls = (
        "ok"
        if status == "optimal"
        else ("warn" if status in ("time-limited", "within-gap") else "bad")
    )
    gap = getattr(s, "gap", None)
    bits = [f"<b>Solver: {_e(s.describe())}</b>"]
    bits.append(f"gap {gap:.2%}" if gap is not None else "gap unknown")
    if getattr(s, "objective", None) is not None:
        bits.append(f"objective {s.objective:,.0f} patient-minutes")
    if getattr(s, "bound", None) is not None:
        bits.append(f"bound {s.bound:,.0f}")
    if getattr(s, "seconds", None) is not None:
        bits.append(f"{s.seconds:.1f} s ({_e(getattr(s, 'solver', ''))})")
    results = res.checks.results
    passed = sum(r.passed for r in results)
    checks = ", ".join(
        f"{_e(r.name)} {'ok' if r.passed else '<span class=out>FAILED</span>'}" for r in results
    )
    return (
        f"<div class='status {cls}'>{' &middot; '.join(bits)}<br>"
        f"Independent checks: {passed} of {len(results)} passed ({checks})</div>"
    )


def _cards(res: RunResult, c: Catchments | None) -> str:
    sc, h, a = res.scenario, res.hubs, res.assignment
    exempt = int((h["exemption"].fillna("") != "").sum())
    in_band = int((h["in_band"] == "yes").sum())
    out = len(h) - in_band - exempt
    over = int((a["minutes_to_hub"] > sc.travel_cap_minutes + 1e-6).sum())
    mean = (a["minutes_to_hub"] * a["list_size"]).sum() / a["list_size"].sum()
    cards = [
        (f"{len(a):,}", "practices", False),
        (f"{int(a['list_size'].sum()):,}", "registered patients", False),
        (
            f"{len(h)}",
            f"hubs: {in_band} in band{f', {exempt} exempt' if exempt else ''}"
            f"{f', {out} out of band' if out else ''}",
            out > 0,
        ),
        (
            f"{int(h['list_size'].min()):,}&ndash;{int(h['list_size'].max()):,}",
            f"patients per hub (band {sc.population_min:,}&ndash;{sc.population_max:,})",
            False,
        ),
        (
            f"{a['minutes_to_hub'].max():.1f} min",
            f"worst road travel to the hub site (cap {sc.travel_cap_minutes:g})",
            over > 0,
        ),
        (f"{mean:.1f} min", "mean travel, patient-weighted", False),
    ]
    if c is not None and "moved" in c.practices:
        moved = c.moved
        cards.append(
            (
                f"{len(moved)}",
                f"practices move ({int(moved['list_size'].sum()):,} patients)",
                False,
            )
        )
    return (
        "<div class='cards'>"
        + "".join(
            f"<div class='card{' alert' if alert else ''}'><b>{v}</b><span>{t}</span></div>"
            for v, t, alert in cards
        )
        + "</div>"
    )


def _hub_rows(res: RunResult, c: Catchments | None) -> str:
    a = res.assignment
    colours = c.colours if c is not None else {}
    rows = []
    for _, h in res.hubs.iterrows():
        mem = a[a["hub_id"] == h["hub_id"]].sort_values("minutes_to_hub")
        names = ", ".join(
            f"{_e(m.practice_name)} ({_n(m.list_size)}, {_m(m.minutes_to_hub)} min)"
            for m in mem.itertuples()
        )
        if h.get("exemption"):
            band = f"exempt: {_e(h['exemption'])}"
        elif h["in_band"] == "yes":
            band = "in band"
        else:
            band = "<span class='out'>out of band</span>"
        swatch = (
            f"<span class='sw' style='background:{colours.get(h['hub_id'], UNGROUPED)}'></span>"
        )
        rows.append(
            f"<tr><td class=id>{swatch}<b>{_e(h['hub_id'])}</b></td>"
            f"<td>{_e(h['site_name'])} ({_e(h['site_code'])})</td>"
            f"<td class=n>{int(h['practices'])}</td><td class=n>{_n(h['list_size'])}</td>"
            f"<td>{band}</td><td class=n>{_m(h['max_minutes'])}</td>"
            f"<td class=n>{_m(h['mean_minutes'])}</td><td class=members>{names}</td></tr>"
        )
    return (
        "<table><tr><th>hub</th><th>site</th><th class=n>practices</th><th class=n>patients</th>"
        "<th>band</th><th class=n title='worst road minutes to the site'>worst min</th>"
        "<th class=n title='patient-weighted mean road minutes'>mean min</th>"
        "<th>members (patients, minutes to site)</th></tr>" + "".join(rows) + "</table>"
    )


def _breaches(res: RunResult) -> str:
    sc, h, a = res.scenario, res.hubs, res.assignment
    items = []
    for _, r in h[(h["in_band"] == "no") & (h["exemption"].fillna("") == "")].iterrows():
        side = "below" if r["list_size"] < sc.population_min else "above"
        items.append(
            f"<li class=out>Hub {_e(r['hub_id'])} has {_n(r['list_size'])} patients, {side} the "
            f"band {sc.population_min:,}&ndash;{sc.population_max:,}</li>"
        )
    for _, r in a[a["minutes_to_hub"] > sc.travel_cap_minutes + 1e-6].iterrows():
        items.append(
            f"<li class=out>{_e(r['practice_name'])} ({_e(r['practice_code'])}) is "
            f"{_m(r['minutes_to_hub'])} road minutes from its hub site, over the "
            f"{sc.travel_cap_minutes:g} min cap</li>"
        )
    if not items:
        items.append(
            f"<li>None: every hub has {sc.population_min:,}&ndash;{sc.population_max:,} patients "
            "or is exempt, and every practice is within "
            f"{sc.travel_cap_minutes:g} road minutes of its hub site.</li>"
        )
    for _, r in h[h["exemption"].fillna("") != ""].iterrows():
        items.append(
            f"<li>Exemption: hub {_e(r['hub_id'])}, {_e(r['site_name'])} "
            f"({_n(r['list_size'])} patients): {_e(r['exemption'])}</li>"
        )
    for note in res.notes:
        items.append(f"<li class=small>Note: {_e(note)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _moves(c: Catchments | None) -> str:
    if c is None or "moved" not in c.practices:
        return "<p class=small>No current grouping was given, so nothing to compare.</p>"
    moved = c.moved.sort_values(["current_group", "hub_id"])
    if moved.empty:
        return "<p>No practice moves: every proposed hub matches one of today's groups.</p>"
    rows = "".join(
        f"<tr><td>{_e(m.practice_name)} ({_e(m.practice_code)})</td>"
        f"<td class=n>{_n(m.list_size)}</td>"
        f"<td>{_e(m.current_group_name) if m.current_group else 'no group'}</td>"
        f"<td><span class='sw' style='background:{m.colour}'></span>{_e(m.hub_id)}</td></tr>"
        for m in moved.itertuples()
    )
    return (
        "<p class=small>Proposed hubs are matched one-to-one with today's groups to keep the "
        "most patients together; a practice <i>moves</i> when its proposed hub is not the one "
        "matched with its group today.</p><table><tr><th>practice</th><th class=n>patients</th>"
        f"<th>today</th><th>proposed hub</th></tr>{rows}</table>"
    )


#: Parameters shown first, in words; any other parameter is listed when not default.
_KEY_PARAMETERS = {
    "population_min": None,
    "population_max": None,
    "travel_cap_minutes": None,
    "oversize": "practices above the band",
    "objective": "objective",
    "solver": "solver",
    "time_limit_seconds": "solver time limit (s)",
    "gap": "relative gap to stop at",
    "threads": "solver threads",
}


_SHOWN_ELSEWHERE = ("source", "name", "description")


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple | list):
        return ", ".join(map(str, v))
    if isinstance(v, dict):
        return ", ".join(f"{k}={x}" for k, x in v.items())
    return str(v)


def _parameters(sc) -> str:
    rows = [
        ("population band", f"{sc.population_min:,}&ndash;{sc.population_max:,} patients per hub"),
        ("travel cap", f"{sc.travel_cap_minutes:g} road minutes from a practice to its hub site"),
    ]
    rows += [
        (label, _e(_value(getattr(sc, name))))
        for name, label in _KEY_PARAMETERS.items()
        if label and hasattr(sc, name)
    ]
    for f in dataclasses.fields(sc):
        if f.name in SOURCE_FIELDS or f.name in _KEY_PARAMETERS or f.name in _SHOWN_ELSEWHERE:
            continue
        v = getattr(sc, f.name)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if v in (None, "", (), {}, []) or isinstance(v, Path) or v == default:
            continue
        rows.append((_e(f.name.replace("_", " ")), _e(_value(v))))
    return "<table>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _file_row(role: str, path: Path) -> str:
    p = Path(path)
    if not p.exists():
        return f"<tr><td>{_e(role)}</td><td>{_e(p)}</td><td colspan=3>not found</td></tr>"
    stat = p.stat()
    when = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y-%m-%d %H:%M")
    digest = "-"
    if p.is_file():
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()[:12]
    size = f"{stat.st_size / 1024:,.0f} KiB" if stat.st_size >= 1024 else f"{stat.st_size} B"
    return (
        f"<tr><td>{_e(role)}</td><td>{_e(p.name)}<div class=small>{_e(p.parent)}</div></td>"
        f"<td class=n>{size}</td><td>{when}</td><td><code>{digest}</code></td></tr>"
    )


def _sources(sc) -> str:
    rows = []
    if getattr(sc, "source", None):
        rows.append(_file_row("scenario file", sc.source))
    for name in SOURCE_FIELDS:
        v = getattr(sc, name, None)
        if isinstance(v, str | Path):
            rows.append(_file_row(name.replace("_", " "), Path(v)))
    if getattr(sc, "current_from_pcn", False):
        rows.append("<tr><td>current</td><td colspan=4>the practices' PCN membership</td></tr>")
    as_at = getattr(sc, "as_at", None)
    extra = f"<p class=small>Data as at {_e(as_at)}.</p>" if as_at else ""
    return (
        "<table><tr><th>input</th><th>file</th><th class=n>size</th>"
        "<th>modified (UTC)</th><th>SHA-256</th></tr>" + "".join(rows) + "</table>" + extra
    )


def _comparison(res: RunResult) -> str:
    if res.comparison is None:
        return "<p class=small>No current grouping given.</p>"
    cmp = res.comparison
    head = "".join(f"<th class=n>{_e(c)}</th>" for c in cmp.columns)
    rows = "".join(
        f"<tr><td>{_e(idx)}</td>"
        + "".join(f"<td class=n>{f'{v:,}' if isinstance(v, int) else _e(v)}</td>" for v in row)
        + "</tr>"
        for idx, row in cmp.iterrows()
    )
    return f"<table><tr><th>measure</th>{head}</tr>{rows}</table>"


def render(res: RunResult, *, map_href: str | None = "map.html") -> str:
    """The report page for a run, as one HTML string."""
    from hubopt import __version__

    sc = res.scenario
    c = getattr(res, "catchments", None)
    overview, inset = overview_svgs(c) if c is not None else ("", "")
    maps = ""
    if overview:
        enlarged = " The dashed box is enlarged below." if inset else ""
        maps = (
            f"<figure>{overview}<figcaption>Proposed hubs: shaded areas are catchments (each "
            "place with its nearest practice), &#9733; hub sites, lines join practices to "
            f"their site.{enlarged}</figcaption></figure>"
        )
        if inset:
            maps += f"<figure>{inset}<figcaption>Enlarged: the crowded area.</figcaption></figure>"
    link = (
        f"Interactive map: <a href='{_e(map_href)}'>{_e(map_href)}</a> (one file, works offline). "
        if map_href
        else ""
    )
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    desc = f"{_e(sc.description)}<br>" if getattr(sc, "description", "") else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hubopt report: {_e(sc.name)}</title>
<style>{_CSS}</style></head>
<body>
<h1>hubopt report: {_e(sc.name)}</h1>
<div class="sub">{desc}{link}Generated {now} by hubopt {_e(__version__)}.</div>
{_status_block(res)}
{_cards(res, c)}
<div class="grid">
<div class="maps">{maps}</div>
<div>
<h2>Proposal and today's grouping, measured the same way</h2>
{_comparison(res)}
<h2>Rule breaches and exemptions</h2>
{_breaches(res)}
<h2>Practices that move</h2>
{_moves(c)}
</div>
</div>
<h2>Hubs</h2>
{_hub_rows(res, c)}
<div class="two">
<div><h2>Scenario parameters</h2>{_parameters(sc)}</div>
<div><h2>Data sources and dates</h2>{_sources(sc)}
<p class="small">Dates are the files' modification times; the SHA-256 prefix identifies
the exact file used. Road network &copy; OpenStreetMap contributors (ODbL) where it
comes from OSM.</p></div>
</div>
<h2>How to read this</h2>
<p class="small">Travel is road minutes from each practice to its hub's site over the road
network (OSM speeds by road type). Patient-weighted means weight each practice by its list
size. Today's groups have no sites, so each is measured to its <i>best site</i>: the member
that minimises patient-weighted travel. Catchment areas are drawn for orientation only
(nearest practice in a straight line), not from patient addresses.</p>
</body></html>
"""


def write_report(res: RunResult, path: str | Path, *, map_href: str | None = "map.html") -> None:
    """Write :func:`render` to ``path``."""
    Path(path).write_text(render(res, map_href=map_href), encoding="utf-8")
