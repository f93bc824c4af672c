"""What the map's edit mode needs, as one compact JSON blob (``templates/edit.js`` reads it).

A reviewer edits a plan in the browser (move practices between hubs, make a hub,
choose a hub's site) and every rule is re-checked after each edit with the run's own
numbers. The page carries:

- the practices (code, name, list size, position; candidate sites that are not
  practices flagged), in the practices table's order;
- the travel-time matrix as minutes rounded to 2 decimals, as
  :func:`hubopt.outputs.tables.assignment_table` rounds them, packed as little-endian
  16-bit hundredths of a minute (base64; :data:`NO_ROUTE` for unreachable or beyond
  655 minutes): every pair, so an edit that breaks the travel cap shows its true
  figure. For 430 practices that is 370 KB (490 KB as base64);
- the pairs whose rounded minutes fall on the other side of the travel cap than the
  raw minutes (:func:`hubopt.model.check.travel_within_cap` compares the raw ones);
- the practice neighbour graph (:func:`hubopt.model.adjacency.practice_neighbours`)
  for the contiguity rule;
- the scenario's rules, the proposal and today's groups (with each group's best site,
  :func:`hubopt.outputs.evaluate.best_sites`).

The page's figures are :func:`hubopt.outputs.tables.hub_table`'s (minutes rounded to
2 decimals before the worst and mean are taken) and its rule checks mirror
:mod:`hubopt.model.check` one to one, under the same names. The mean-travel cap is
checked on the rounded minutes (the Python check uses the raw ones): the two can
differ only for a hub whose mean lies within 0.005 minutes of the cap.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from markupsafe import Markup

from hubopt.inputs import site_only_codes
from hubopt.outputs.colours import BREACH, PALETTE
from hubopt.outputs.units import Minutes
from hubopt.scenario import Scenario

#: 16-bit hundredths of a minute meaning "no route, or beyond 655.34 minutes".
NO_ROUTE = 65535
#: Areas above this many practices get no edit mode (the matrix grows as its square:
#: 1,500 practices would carry 6 MB of minutes).
MAX_PRACTICES = 1500

#: Columns of the plan the page downloads (``Download plan``); the first three are what
#: ``hubopt evaluate --grouping`` reads, the rest are what ``hubopt run --keep`` needs.
DOWNLOAD_COLUMNS = (
    "practice_code", "hub_id", "hub_site_code", "proposed_hub_id", "proposed_hub_site_code",
    "changed",
)  # fmt: skip


@dataclass(frozen=True)
class EditData:
    """The edit mode's data, ready for the page (:meth:`markup`)."""

    data: dict

    def json(self) -> str:
        return json.dumps(self.data, separators=(",", ":"))

    def markup(self) -> Markup:
        """The JSON, safe inside a ``<script type="application/json">`` element."""
        return Markup(self.json().replace("<", "\\u003c").replace(">", "\\u003e"))


def cents(minutes: pd.DataFrame) -> np.ndarray:
    """Minutes as integer hundredths, exactly as ``round(float(t), 2)`` rounds them."""
    raw = minutes.to_numpy(dtype=float)
    out = np.full(raw.shape, NO_ROUTE, dtype=np.int64)
    ok = np.isfinite(raw) & (raw < (NO_ROUTE - 1) / 100)
    out[ok] = [round(round(float(t), 2) * 100) for t in raw[ok]]
    return out


def edit_data(
    assignment: pd.DataFrame,
    practices: pd.DataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    *,
    neighbours: nx.Graph | None,
    colours: dict[str, str],
    words: Minutes,
    current: pd.DataFrame | None = None,
    current_sites: pd.Series | None = None,
    current_colours: dict[str, str] | None = None,
) -> EditData | None:
    """The blob for the edit mode of a proposal's map (None for too large an area).

    Parameters
    ----------
    assignment
        :func:`hubopt.outputs.tables.assignment_table` of the proposal.
    practices, minutes, scenario
        The run's practices table (with any candidate sites that are not practices),
        travel-time matrix and scenario.
    neighbours
        Practice neighbours (contiguity); None leaves the rule unchecked on the page.
    colours
        Hub id -> colour, as the map draws the proposal.
    current, current_sites, current_colours
        Today's groups (``group_id``, ``group_name`` by practice), each grouped
        practice's best site (:func:`hubopt.outputs.evaluate.best_sites`) and the
        groups' colours on the map.
    """
    codes = list(practices.index)
    n = len(codes)
    if n > MAX_PRACTICES:
        return None
    pos = {c: k for k, c in enumerate(codes)}
    idx = lambda seq: [pos[c] for c in seq if c in pos]  # noqa: E731
    m = minutes.reindex(index=codes, columns=codes)
    c = cents(m)
    raw = m.to_numpy(dtype=float)
    cap = scenario.travel_cap_minutes
    by_raw = raw <= cap + 1e-6
    by_cents = c / 100 <= cap + 1e-6
    flips = np.argwhere(by_raw != by_cents)
    packed = base64.b64encode(c.astype("<u2").tobytes()).decode("ascii")

    hubs = assignment[assignment["hub_id"] != ""].drop_duplicates("hub_id")
    hub_list = [
        {"id": str(h.hub_id), "site": pos[h.hub_site_code], "colour": colours.get(h.hub_id, "#888")}
        for h in hubs.itertuples()
    ]
    hub_of = {h: k for k, h in enumerate(hubs["hub_id"])}
    plan = [-1] * n
    for r in assignment.itertuples():
        if r.hub_id:
            plan[pos[r.practice_code]] = hub_of[r.hub_id]

    today = None
    if current is not None and len(current):
        g = current["group_id"].reindex(codes).fillna("").astype(str)
        ids = [x for x in dict.fromkeys(g) if x]
        names = current["group_name"].astype(str).groupby(current["group_id"]).first()
        sites = current_sites if current_sites is not None else pd.Series(dtype=object)
        group_list = []
        for gid in ids:
            members = g.index[g == gid]
            site = sites.reindex(members).dropna()
            group_list.append(
                {
                    "id": gid,
                    "name": str(names.get(gid, gid)),
                    "site": pos[site.iloc[0]] if len(site) else pos[members[0]],
                    "colour": (current_colours or {}).get(gid, "#888"),
                }
            )
        gk = {x: k for k, x in enumerate(ids)}
        today = {"groups": group_list, "groupOf": [gk.get(x, -1) for x in g]}

    s = scenario
    zone = None
    if s.within and s.within in practices.columns:
        zone = practices[s.within].astype(str).tolist()
    edges = []
    if neighbours is not None:
        for a, b in neighbours.edges():
            if a in pos and b in pos:
                edges += [pos[a], pos[b]]
    rules = {
        "population_min": s.population_min,
        "population_max": s.population_max,
        "band": s.band,
        "travel_cap_minutes": cap,
        "mean_travel_cap_minutes": s.mean_travel_cap_minutes,
        "contiguous": bool(s.contiguous and neighbours is not None),
        "oversize": s.oversize,
        "exempt": idx(s.exempt),
        "locked_groups": [idx(gr) for gr in s.locked_groups],
        "apart": [idx(gr) for gr in s.apart],
        "fixed_sites": idx(s.fixed_sites),
        "candidate_sites": idx(s.candidate_sites),
        "hubs_min": s.hub_range[0],
        "hubs_max": s.hub_range[1],
        "within": s.within,
        "zone": zone,
        "cross_allowed": idx(s.cross_allowed),
        "optional": idx(s.optional),
    }
    return EditData(
        {
            "codes": codes,
            "names": practices["name"].astype(str).tolist(),
            "sizes": [int(v) for v in practices["list_size"].fillna(0)],
            "lat": [round(float(v), 6) for v in practices["lat"]],
            "lon": [round(float(v), 6) for v in practices["lon"]],
            "siteOnly": idx(site_only_codes(practices)),
            "minutes": packed,
            "capFlips": flips.ravel().tolist(),
            "neighbours": edges,
            "rules": rules,
            "proposal": {"hubs": hub_list, "hubOf": plan},
            "today": today,
            "estimate": words.estimate,
            "unit": words.unit,
            "palette": list(PALETTE),
            "breach": BREACH,
            "columns": list(DOWNLOAD_COLUMNS),
        }
    )
