"""The one-page HTML report that goes beside the map.

Everything a reviewer needs to sign off a proposal, on one printable page, with no
scripts and no external files: the solver's status and gap, the key figures and how
they compare with today, a static overview map (inline SVG, with an enlargement of the
crowded area), the per-hub table, rule breaches and exemptions, the practices that
move, the scenario's parameters, and the input files with their dates.

The page comes from the Jinja2 template ``templates/report.html`` (with ``macros.html``
and ``report.css``); this module prepares its data: figures formatted, tables as rows,
and the SVG maps. The template autoescapes, so every text from an input file or the
scenario is HTML-escaped; only the SVG maps, which this module writes and escapes
itself, go in as markup.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from markupsafe import Markup
from scipy.cluster.hierarchy import fcluster, linkage
from shapely.geometry.base import BaseGeometry

from hubopt.inputs import BNG, left_out_frame
from hubopt.outputs import tables
from hubopt.outputs.catchments import Catchments
from hubopt.outputs.choices import alternatives_text, price_sentence
from hubopt.outputs.colours import BREACH, UNGROUPED
from hubopt.outputs.maps import CROWD_LINK_PX, MIN_ENLARGEMENT
from hubopt.outputs.result import RunResult
from hubopt.outputs.templating import TEMPLATES
from hubopt.outputs.units import minutes_of
from hubopt.roads.matrix import describe_source

#: Scenario attributes that name input files, in the order they are listed.
SOURCE_FIELDS = (
    "practices", "register", "list_sizes", "pcn_map", "pcn_membership", "postcodes",
    "network", "boundary", "current", "sites",
)  # fmt: skip


def _e(value: object) -> str:
    """Escape a text for the SVG maps, which are written here (the page's template
    escapes everything else)."""
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

    def crowded(
        self,
        frame: _Frame,
        *,
        w: float = 40,
        h: float = 15,
        room: bool = True,
        skip: set[str] = frozenset(),
    ) -> list[str]:
        """Hubs whose label would overlap another or (``room``) not fit in its area;
        labels in ``skip`` are not drawn, so they clash with none."""
        shown: list[tuple[float, float]] = []
        out = []
        for hub, r in self.labels.drop(index=list(skip)).iterrows():
            x, y = frame.xy(r["x"], r["y"])
            clash = any(abs(x - a) < w + 2 and abs(y - b) < h + 2 for a, b in shown)
            if clash or (room and 2 * r["room"] * frame.scale < 0.8 * w):
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


def densest_part(points: pd.DataFrame, link: float) -> pd.Index:
    """The labels of the crowded part with the most of them: ``points`` (``x``, ``y``)
    closer than ``link`` to each other belong to one part (single linkage)."""
    if len(points) < 2:
        return points.index
    parts = fcluster(linkage(points[["x", "y"]].to_numpy(), "single"), link, "distance")
    sizes = pd.Series(parts).value_counts()
    return points.index[parts == sizes.index[0]]


def overview_svgs(c: Catchments, *, width: int = 470, height: int = 360) -> tuple[str, str, float]:
    """The proposal as a static map, an enlargement of its densest crowded part ('' if
    none) and how many times it enlarges (0 without one).

    Labels that would not fit at the overview's scale are grouped into crowded parts
    (:data:`~hubopt.outputs.maps.CROWD_LINK_PX`); the part with the most is left off the
    overview and drawn in the enlargement, whose outline is marked on the overview.
    Elsewhere a label is drawn unless it would overlap another. Without a part that
    the enlargement magnifies :data:`~hubopt.outputs.maps.MIN_ENLARGEMENT` times or
    more, there is no enlargement.
    """
    d = _Drawing.of(c)
    frame = _Frame(c.area.bounds, width, height)
    crowded = d.crowded(frame)
    if not crowded:
        return d.svg(frame, title="Proposed hubs"), "", 0.0
    part = densest_part(d.labels.loc[crowded], CROWD_LINK_PX / frame.scale)
    pts = d.labels.loc[part, ["x", "y"]]
    reach = 30 / frame.scale  # practices within 30 px (each way) of a crowded label
    near = d.practices[
        [(((pts["x"] - x).abs() < reach) & ((pts["y"] - y).abs() < reach)).any()
         for x, y in zip(d.practices["x"], d.practices["y"], strict=True)]
    ]  # fmt: skip
    xs = pd.concat([pts["x"], near["x"]])
    ys = pd.concat([pts["y"], near["y"]])
    pad = 0.12 * max(xs.max() - xs.min(), ys.max() - ys.min(), 500)
    box = (xs.min() - pad, ys.min() - pad, xs.max() + pad, ys.max() + pad)
    inset = _Frame(box, width, height)  # as large as the overview: a real enlargement
    factor = inset.scale / frame.scale
    if factor < MIN_ENLARGEMENT:
        return d.svg(frame, skip=set(d.crowded(frame, room=False)), title="Proposed hubs"), "", 0.0
    skip = set(part) | set(d.crowded(frame, room=False, skip=set(part)))
    overview = d.svg(frame, skip=skip, title="Proposed hubs")
    x0, y0 = frame.xy(box[0], box[3])
    x1, y1 = frame.xy(box[2], box[1])
    marker = (
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
        'fill="none" stroke="#333" stroke-width="1.2" stroke-dasharray="3 2"/></svg>'
    )
    return (
        overview.removesuffix("</svg>") + marker,
        d.svg(inset, title="Crowded area enlarged"),
        factor,
    )


# ------------------------------------------------------------------------ the page

# The page is ``templates/report.html`` and what it includes, from the outputs'
# :data:`~hubopt.outputs.templating.TEMPLATES`. Autoescaped: only values wrapped in
# :class:`~markupsafe.Markup` (the SVG maps) go in as markup.


def _status(res: RunResult) -> dict:
    """The solver's status line and the independent checks."""
    s = res.solve
    status = getattr(s, "status", "")
    tone = (
        "ok"
        if status == "optimal"
        else ("warn" if status in ("time-limited", "within-gap") else "bad")
    )
    gap = getattr(s, "gap", None)
    facts = [f"gap {gap:.2%}" if gap is not None else "gap unknown"]
    if getattr(s, "objective", None) is not None:
        facts.append(f"objective {s.objective:,.0f} patient-minutes")
    if getattr(s, "bound", None) is not None:
        facts.append(f"bound {s.bound:,.0f}")
    if getattr(s, "seconds", None) is not None:
        facts.append(f"{s.seconds:.1f} s ({getattr(s, 'solver', '')})")
    results = res.checks.results
    return {
        "tone": tone,
        "text": s.describe(),
        "facts": facts,
        "checks": [{"name": r.name, "passed": r.passed} for r in results],
        "passed": sum(r.passed for r in results),
    }


def _exempt(hubs: pd.DataFrame) -> pd.Series:
    """Whether each hub has an exemption from the population band."""
    return hubs["exemption"].fillna("") != ""


def _over_cap(res: RunResult) -> pd.DataFrame:
    """The practices further from their hub site than the travel cap."""
    a = res.assignment
    return a[a["minutes_to_hub"] > res.scenario.travel_cap_minutes + 1e-6]


def _figures(res: RunResult) -> dict:
    """The key figures on the cards."""
    h, a = res.hubs, res.assignment
    exempt = int(_exempt(h).sum())
    in_band = int((h["in_band"] == "yes").sum())
    mean = (a["minutes_to_hub"] * a["list_size"]).sum() / a["list_size"].sum()
    return {
        "practices": f"{len(a):,}",
        "patients": f"{int(a['list_size'].sum()):,}",
        "hubs": f"{len(h)}",
        "in_band": in_band,
        "exempt": exempt,
        "out_of_band": len(h) - in_band - exempt,
        "smallest": f"{int(h['list_size'].min()):,}",
        "largest": f"{int(h['list_size'].max()):,}",
        "worst": f"{a['minutes_to_hub'].max():.1f} min",  # the caption says how measured
        "over_cap": len(_over_cap(res)),
        "mean": f"{mean:.1f} min",
    }


def _hubs(res: RunResult, c: Catchments | None) -> list[dict]:
    """One row per hub, with its members nearest first."""
    a = res.assignment
    colours = c.colours if c is not None else {}
    rows = []
    for _, h in res.hubs.iterrows():
        mem = a[a["hub_id"] == h["hub_id"]].sort_values("minutes_to_hub")
        rows.append(
            {
                "hub_id": h["hub_id"],
                "colour": colours.get(h["hub_id"], UNGROUPED),
                "site": h["site_name"],
                "site_code": h["site_code"],
                "practices": int(h["practices"]),
                "patients": _n(h["list_size"]),
                "exemption": h.get("exemption"),
                "in_band": h["in_band"] == "yes",
                "worst": _m(h["max_minutes"]),
                "mean": _m(h["mean_minutes"]),
                "members": [
                    {
                        "name": m.practice_name,
                        "patients": _n(m.list_size),
                        "minutes": _m(m.minutes_to_hub),
                    }
                    for m in mem.itertuples()
                ],
            }
        )
    return rows


def _breaches(res: RunResult) -> dict:
    """Hubs out of band, practices over the travel cap, and the exemptions granted."""
    sc, h = res.scenario, res.hubs
    exempt = _exempt(h)
    return {
        "out_of_band": [
            {
                "hub_id": r["hub_id"],
                "patients": _n(r["list_size"]),
                "side": "below" if r["list_size"] < sc.population_min else "above",
            }
            for _, r in h[(h["in_band"] == "no") & ~exempt].iterrows()
        ],
        "over_cap": [
            {
                "name": r["practice_name"],
                "code": r["practice_code"],
                "minutes": _m(r["minutes_to_hub"]),
            }
            for _, r in _over_cap(res).iterrows()
        ],
        "exemptions": [
            {
                "hub_id": r["hub_id"],
                "site": r["site_name"],
                "patients": _n(r["list_size"]),
                "reason": r["exemption"],
            }
            for _, r in h[exempt].iterrows()
        ],
    }


def _moves(c: Catchments | None) -> dict | None:
    """The practices whose proposed hub is not their group's today (None: no groups)."""
    if c is None or "moved" not in c.practices:
        return None
    moved = c.moved.sort_values(["current_group", "hub_id"])
    return {
        "patients": f"{int(moved['list_size'].sum()):,}",
        "rows": [
            {
                "name": m.practice_name,
                "code": m.practice_code,
                "patients": _n(m.list_size),
                "today": m.current_group_name if m.current_group else None,
                "colour": m.colour,
                "hub_id": m.hub_id,
            }
            for m in moved.itertuples()
        ],
    }


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


def _parameters(sc) -> list[tuple[str, str]]:
    """(label, value) for the parameters after the band and the cap, which the page
    words itself."""
    rows = [
        (label, _value(getattr(sc, name)))
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
        rows.append((f.name.replace("_", " "), _value(v)))
    return rows


def _file(role: str, path: Path) -> dict:
    """An input file's name, folder, size, modification time and SHA-256 prefix."""
    p = Path(path)
    if not p.exists():
        return {"role": role, "found": False, "path": str(p)}
    stat = p.stat()
    digest = "-"
    if p.is_file():
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()[:12]
    return {
        "role": role,
        "found": True,
        "name": p.name,
        "folder": str(p.parent),
        "size": f"{stat.st_size / 1024:,.0f} KiB" if stat.st_size >= 1024 else f"{stat.st_size} B",
        "modified": datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y-%m-%d %H:%M"),
        "digest": digest,
    }


def _sources(sc, published: dict[str, str] | None = None) -> dict:
    """The scenario's input files, in :data:`SOURCE_FIELDS` order, each NHS file's
    publication date (``published``: input -> date), and the data date."""
    files = []
    if getattr(sc, "source", None):
        files.append(_file("scenario file", sc.source))
    for name in SOURCE_FIELDS:
        v = getattr(sc, name, None)
        if isinstance(v, str | Path):
            files.append(_file(name.replace("_", " "), Path(v)))
            files[-1]["published"] = (published or {}).get(name, "")
    return {
        "files": files,
        "from_pcn": bool(getattr(sc, "current_from_pcn", False)),
        "as_at": getattr(sc, "as_at", None),
    }


def _counts(res: RunResult) -> dict | None:
    """Practices and patients read = grouped + left out, by reason, and each practice
    left out with its patients (None when the run did not record what it read)."""
    if res.read is None:
        return None
    left = res.rejects if res.rejects is not None else left_out_frame()
    table = tables.count_table(res.read, res.assignment, left)
    rows = [
        {
            "what": what,
            "practices": f"{int(r['practices']):,}",
            "patients": f"{int(r['patients']):,}",
            "unknown": int(r["unknown"]),
            "kind": "sum" if what == "read" else ("bad" if what == "unaccounted" else ""),
        }
        for what, r in table.iterrows()
    ]
    unaccounted = table.loc["unaccounted"]
    adds_up = unaccounted["practices"] == 0 and unaccounted["patients"] == 0
    return {
        "rows": rows if not adds_up else rows[:-1],
        "adds_up": adds_up,
        "left_out": [
            {
                "code": r.practice_code,
                "name": r.name,
                "patients": _n(r.patients),
                "reason": r.reason,
            }
            for r in left.itertuples()
        ],  # fmt: skip
    }


def _comparison(res: RunResult) -> dict | None:
    """The proposal and today's grouping side by side (None: no current grouping)."""
    if res.comparison is None:
        return None
    cmp = res.comparison
    return {
        "columns": [str(c) for c in cmp.columns],
        "rows": [
            {
                "measure": str(idx),
                "cells": [f"{v:,}" if isinstance(v, int) else str(v) for v in row],
            }
            for idx, row in cmp.iterrows()
        ],
    }


def _review(res: RunResult) -> dict | None:
    """The reviewer's edit beside the proposal and the plan re-solved around it (None:
    no ``--keep``)."""
    r = res.review
    if r is None:
        return None
    cmp = r.comparison
    costs = []
    if "proposal" in r.scored:
        for name in ("reviewer's edit", "re-solved"):
            extra, share = r.cost(name)
            costs.append({"plan": name, "extra": f"{extra:+,.0f}", "share": f"{share:+.1%}"})
    names = res.practices["name"]
    return {
        "source": r.source.name,
        "columns": [str(c) for c in cmp.columns],
        "rows": [
            {
                "measure": str(idx),
                "cells": [f"{v:,}" if isinstance(v, int) else str(v) for v in row],
            }
            for idx, row in cmp.iterrows()
        ],
        "costs": costs,
        "kept": [
            {"site": f"{names.get(h[0], h[0])} ({h[0]})", "members": ", ".join(h)} for h in r.kept
        ],
        "failures": [(name, f) for name, fs in r.failures.items() for f in fs],
    }


def _choices(res: RunResult) -> dict | None:
    """The "Choices" section: the alternatives, the contested practices and what each
    choice costs, the price of each rule (None: not asked for)."""
    ch = res.choices
    if ch is None:
        return None
    name = res.practices["name"]
    site = lambda code: f"{name.get(code, code)} ({code})"  # noqa: E731
    out: dict = {"alternatives": None, "prices": [], "prices_seconds": None}
    a = ch.alternatives
    if a is not None:
        best = a.plans[0].result.objective or 0.0
        plans = [
            {
                "label": p.label,
                "status": p.result.describe(),
                "extra": f"+{((p.result.objective or 0.0) - best) / best:.1%}" if best else "-",
                "minutes": _n(round(p.result.objective or 0.0)),
                "hubs": int(p.assignment.dropna().nunique()),
                "differs": p.differs_from_best if p.rank else "-",
                "checks": "passed" if p.checks.passed else "FAILED",
            }
            for p in a.plans
        ]
        counts = ch.pairs["verdict"].value_counts() if ch.pairs is not None else pd.Series()
        contested = []
        moves = ch.moves if ch.moves is not None else pd.DataFrame()
        for code, rows in moves.groupby("practice_code", sort=True):
            options = tables.hub_choices(rows, site)
            contested.append({"name": name[code], "code": code, "options": options})
        out["alternatives"] = {
            "text": alternatives_text(a),
            "seconds": f"{a.seconds:.1f}",
            "plans": plans,
            "pairs": len(ch.pairs) if ch.pairs is not None else 0,
            "firm": int(counts.get("firm", 0)),
            "contested_pairs": int(counts.get("contested", 0)),
            "contested": contested,
        }
    out["prices"] = [{"text": price_sentence(p), "proven": p.proven} for p in ch.prices]
    if ch.prices:
        out["prices_seconds"] = f"{ch.seconds.get('prices', 0.0):.1f}"
    return out


def render(res: RunResult, *, map_href: str | None = "map.html") -> str:
    """The report page for a run, as one HTML string."""
    from hubopt import __version__

    sc = res.scenario
    c = getattr(res, "catchments", None)
    overview, inset, factor = overview_svgs(c) if c is not None else ("", "", 0.0)
    return TEMPLATES.get_template("report.html").render(
        scenario=sc.name,
        description=getattr(sc, "description", ""),
        map_href=map_href,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        status=_status(res),
        figures=_figures(res),
        band={"min": f"{sc.population_min:,}", "max": f"{sc.population_max:,}"},
        cap=f"{sc.travel_cap_minutes:g}",
        # built by overview_svgs from our own numbers, every text in them escaped
        overview=Markup(overview),
        inset=Markup(inset),
        inset_factor=f"{factor:.0f}",
        comparison=_comparison(res),
        review=_review(res),
        choices=_choices(res),
        counts=_counts(res),
        words=minutes_of(res.matrix),
        travel_source=describe_source(res.matrix),
        breaches=_breaches(res),
        notes=list(res.notes),
        moves=_moves(c),
        hubs=_hubs(res, c),
        parameters=_parameters(sc),
        sources=_sources(sc, getattr(res, "published", None)),
    )


def write_report(res: RunResult, path: str | Path, *, map_href: str | None = "map.html") -> None:
    """Write :func:`render` to ``path``."""
    Path(path).write_text(render(res, map_href=map_href), encoding="utf-8")
