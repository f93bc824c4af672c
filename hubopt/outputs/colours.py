"""Hub colours that neighbouring hubs never share, and that differ as much as possible.

Hubs are the nodes of an adjacency graph (an edge when two catchments touch). Every hub
gets a palette colour no neighbour has; while unused palette colours remain a hub takes
a fresh one, so with no more hubs than colours every hub has its own. Among the allowed
colours, a hub takes the one that differs most (CIE76 distance in Lab) from its
neighbours' colours, so touching hubs are easy to tell apart, not merely different.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

#: Hub colours, each as different as possible from those before it (greedy max-min
#: CIE76 distance over Tableau/ColorBrewer/Material colours of mid lightness, none close
#: to :data:`BREACH` red or to grey), so the first *n* suit *n* hubs.
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#e7298a", "#8c564b", "#2a9d8f", "#8e24aa",
    "#bcbd22", "#a6761d", "#637939", "#7b4173", "#3949ab", "#e377c2", "#d6616b",
    "#e6ab02", "#f4a261", "#9467bd", "#b15928", "#ad1457", "#00838f",
]  # fmt: skip
#: Rule breaches (out-of-band hubs, practices over the travel cap).
BREACH = "#e00000"
#: Areas and practices without a group.
UNGROUPED = "#9e9e9e"


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """sRGB hex -> CIE L*a*b* (D65)."""
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def distance(a: str, b: str) -> float:
    """Perceptual distance between two hex colours (CIE76 Delta E)."""
    la, lb = _lab(a), _lab(b)
    return sum((p - q) ** 2 for p, q in zip(la, lb, strict=True)) ** 0.5


def colour_graph(
    G: nx.Graph,
    *,
    palette: list[str] | None = None,
    fixed: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Colour the nodes of ``G`` so that adjacent nodes differ.

    Parameters
    ----------
    G
        Adjacency graph (nodes are hub ids; an edge where two hubs touch).
    palette
        Colours to use (default :data:`PALETTE`).
    fixed
        Colours already decided (e.g. a current group takes the colour of the proposed
        hub it matches); the other nodes avoid their neighbours' fixed colours.

    With no more nodes than palette colours, the first ``len(G)`` colours are used,
    one per node. Nodes are coloured most-constrained first (DSatur order: most differently-coloured
    neighbours, then most neighbours, then name). With more mutually touching hubs than
    palette colours a clash is unavoidable; the colour then repeats as far from the
    neighbours' colours as possible.
    """
    palette = list(PALETTE if palette is None else palette)
    colours: dict[str, str] = {n: c for n, c in (fixed or {}).items() if n in G}
    if len(G) <= len(palette):  # the n most distinct colours for n hubs
        palette = list(dict.fromkeys(palette[: len(G)] + list(colours.values())))
    used = set(colours.values())
    todo = set(G.nodes) - set(colours)
    while todo:

        def urgency(n: str) -> tuple[int, int, str]:
            nbr = {colours[m] for m in G[n] if m in colours}
            return (-len(nbr), -G.degree(n), str(n))

        node = min(todo, key=urgency)
        nbr = [colours[m] for m in G[node] if m in colours]
        allowed = [c for c in palette if c not in nbr] or palette
        fresh = [c for c in allowed if c not in used]
        candidates = fresh or allowed

        def score(c: str, nbr: list[str] = nbr) -> tuple[float, int]:
            # highest contrast with the neighbours; palette order breaks ties
            return round(min((distance(c, d) for d in nbr), default=0.0)), -palette.index(c)

        best = max(candidates, key=score)
        colours[node] = best
        used.add(best)
        todo.remove(node)
    return colours
