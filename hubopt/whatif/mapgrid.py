"""Maps for Jupyter and as one HTML file: one map, or outcomes side by side in a grid.

Each map is a self-contained page (Leaflet inlined, so it works offline) in an
``<iframe srcdoc>``; :class:`MapGrid` shows itself in Jupyter and ``save`` writes it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hubopt.outputs import maps
from hubopt.text import plural
from hubopt.whatif.outcomes import MOVED, Outcome

if TYPE_CHECKING:
    import folium


@dataclass
class MapGrid:
    """Maps of several outcomes in a grid: shows itself in Jupyter, ``save`` writes
    one self-contained HTML file (each map an ``<iframe srcdoc>``)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>hubopt what-ifs"
            "</title></head><body style='margin:8px'>" + self.html + "</body></html>",
            encoding="utf-8",
        )
        return path


def map_html(fmap: folium.Map) -> str:
    """A Folium map as one self-contained HTML page (:func:`hubopt.outputs.maps.map_page`)."""
    return maps.map_page(fmap)


def _iframe(page: str, height: int, scale: float = 1.0) -> str:
    """``page`` in an iframe ``height`` pixels high, drawn at ``scale`` (below 1: laid
    out on a larger page and shrunk, so that a small frame shows the whole map)."""
    size = f"width:{100 / scale:.4g}%;height:{height / scale:.0f}px"
    shrink = f";transform:scale({scale:g});transform-origin:0 0" if scale != 1 else ""
    return (
        f"<div style='height:{height}px;overflow:hidden;border:1px solid #bbb'>"
        f'<iframe srcdoc="{html.escape(page, quote=True)}" '
        f"style='{size};border:0{shrink}'></iframe></div>"
    )


def map_frame(fmap: folium.Map | str | Path, *, height: int = 600) -> MapGrid:
    """One map for Jupyter, a Folium map or a saved map file (e.g. a run's
    ``map.html``), drawn offline: Leaflet is inlined, whereas folium's own display
    fetches it from a CDN. ``save`` writes it as one HTML file."""
    if isinstance(fmap, str | Path):
        return MapGrid(_iframe(Path(fmap).read_text(encoding="utf-8"), height))
    return MapGrid(_iframe(map_html(fmap), height))


def side_by_side(
    outcomes: Sequence[Outcome], *, columns: int = 2, height: int = 520, scale: float = 0.7
) -> MapGrid:
    """The outcomes' maps in a grid, ``columns`` across and ``height`` pixels high,
    each headed by its name, status and key figures; an outcome with no plan shows its
    reasons instead. Maps are drawn at ``scale`` (0.7: as on a page 1/0.7 times larger,
    shrunk) so that the legend and layer box leave room for the area."""
    cells = []
    for o in outcomes:
        head = f"<b>{html.escape(o.name)}</b> &middot; {html.escape(o.status_text())}"
        if o.has_plan:
            f, unit = o.figures(), o.area.words.unit
            head += html.escape(
                f" · {plural(f['hubs'], 'hub')}, {f['share in band']} in band, worst "
                f"{f['worst minutes to site']} {unit}, mean "
                f"{f['mean minutes to site (patient-weighted)']} {unit}, moved {f[MOVED]}"
            )
            body = _iframe(map_html(o.map()), height, scale)
        else:
            items = "".join(f"<li>{html.escape(r)}</li>" for r in o.reasons)
            body = (
                f"<div style='height:{height}px;overflow:auto;border:1px solid #bbb;"
                f"padding:8px;background:#fff5f5'><p>{html.escape(o.message)}</p>"
                f"<ul>{items}</ul></div>"
            )
        cells.append(
            f"<div style='min-width:0'><div style='margin:4px 0;min-height:2.6em'>{head}</div>"
            f"{body}</div>"
        )
    grid = (
        f"<div style='display:grid;grid-template-columns:repeat({columns},minmax(0,1fr));"
        "gap:10px;font:13px sans-serif'>" + "".join(cells) + "</div>"
    )
    return MapGrid(grid)
