"""Score any grouping with the same measures as a proposal, and compare groupings.

A grouping (e.g. today's PCNs) has no hub sites, so each group's *best site* is the
member practice that minimises patient-weighted travel within the group. From there
the same :mod:`hubopt.outputs.tables` tables apply, so proposals and the current
configuration are measured identically.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.inputs import site_only_codes
from hubopt.outputs.tables import assignment_table, hub_table
from hubopt.scenario import Scenario


def best_sites(groups: pd.Series, practices: pd.DataFrame, matrix: pd.DataFrame) -> pd.Series:
    """Map each grouped practice to its group's best hub site.

    Parameters
    ----------
    groups
        Practice code -> group id (practices missing or NaN are ungrouped).
    practices
        Needs ``list_size``.
    matrix
        Minutes, origin practice x destination practice.

    Returns
    -------
    Series practice code -> site code, for every practice in ``practices``
    (NaN where ungrouped).
    """
    out = pd.Series(np.nan, index=practices.index, dtype=object, name="hub_site")
    g = groups.reindex(practices.index).dropna()
    w = practices["list_size"].astype(float)
    for _, members in g.groupby(g).groups.items():
        members = list(members)
        cost = w[members].to_numpy() @ matrix.loc[members, members].to_numpy()
        out[members] = members[int(np.argmin(cost))]
    return out


def plan_sites(
    groups: pd.Series,
    practices: pd.DataFrame,
    matrix: pd.DataFrame,
    given: pd.Series | None = None,
) -> pd.Series:
    """Practice -> hub site for a grouping: the site ``given`` for a group's practices
    (practice -> site code, e.g. a plan's ``hub_site_code``; empty or missing: none),
    else the group's :func:`best_sites`. A candidate site that is not a practice and is
    a hub's site belongs to that hub (as in a solver's plan, for the checks)."""
    sites = best_sites(groups, practices, matrix)
    if given is not None:
        g = groups.reindex(practices.index)
        named = given.reindex(practices.index).fillna("").astype(str)
        for _, members in g.dropna().groupby(g.dropna()).groups.items():
            site = next((s for s in named[list(members)] if s), None)
            if site is not None:
                sites[list(members)] = site
    used = set(sites.dropna())
    for code in site_only_codes(practices):
        if code in used:
            sites[code] = code
    return sites


def score(
    groups: pd.Series,
    practices: pd.DataFrame,
    matrix: pd.DataFrame,
    scenario: Scenario,
    *,
    sites: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assignment and per-hub tables for a grouping, with best sites chosen (or the
    ``sites`` given for some groups, practice -> site code: :func:`plan_sites`)."""
    sites = plan_sites(groups, practices, matrix, sites)
    grouped = sites.dropna()
    labels = groups.reindex(grouped.index).groupby(grouped).first()
    a = assignment_table(sites, practices, matrix, hub_labels=labels)
    return a, hub_table(a, practices, scenario)


def overall(assignment: pd.DataFrame, hubs: pd.DataFrame) -> dict[str, object]:
    """Headline figures of one grouping (one column of a comparison)."""
    grouped = assignment[assignment["hub_id"] != ""]
    w = grouped["list_size"]
    return {
        "hubs": len(hubs),
        "hubs in band": int((hubs["in_band"] == "yes").sum()),
        "share in band": f"{(hubs['in_band'] == 'yes').mean():.0%}" if len(hubs) else "-",
        "smallest hub": int(hubs["list_size"].min()) if len(hubs) else 0,
        "largest hub": int(hubs["list_size"].max()) if len(hubs) else 0,
        "worst minutes to site": round(float(grouped["minutes_to_hub"].max()), 1),
        "mean minutes to site (patient-weighted)": round(
            float(np.average(grouped["minutes_to_hub"], weights=w)), 2
        ),
        "practices ungrouped": int((assignment["hub_id"] == "").sum()),
    }


def compare(results: dict[str, tuple[pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    """Side-by-side table: one column per named grouping (assignment, hubs)."""
    return pd.DataFrame({name: overall(a, h) for name, (a, h) in results.items()})


def practices_moved(proposal: pd.Series, current: pd.Series, sizes: pd.Series) -> pd.Series:
    """Which practices change group, after matching proposed hubs to current groups.

    Proposed hubs and current groups are paired one-to-one to keep the most patients
    together (Hungarian matching on the patients they share,
    :func:`scipy.optimize.linear_sum_assignment`). A practice has *moved* when its
    proposed hub is not paired with its current group (or it had no group).

    Returns a boolean Series by practice code.
    """
    from scipy.optimize import linear_sum_assignment

    prop = proposal.dropna()
    cur = current.reindex(prop.index)
    overlap = (
        pd.DataFrame({"p": prop, "c": cur, "w": sizes.reindex(prop.index)})
        .dropna()
        .pivot_table(index="p", columns="c", values="w", aggfunc="sum", fill_value=0)
    )
    rows, cols = linear_sum_assignment(-overlap.to_numpy())
    pair = dict(zip(overlap.index[rows], overlap.columns[cols], strict=True))
    return pd.Series(
        [pd.isna(cur[c]) or pair.get(prop[c]) != cur[c] for c in prop.index], index=prop.index
    )


def population_summary(
    groups: pd.Series, sizes: pd.Series, *, band: tuple[float, float]
) -> dict[str, float]:
    """Group totals against a band, needing no travel times (e.g. all England's PCNs).

    Returns the number of groups, median and quartiles of group totals, the share
    within ``band`` and the number of single practices above the band's top.
    """
    g = groups.reindex(sizes.index)
    g = g[g.fillna("").astype(str) != ""]
    totals = sizes.reindex(g.index).groupby(g).sum()
    lo, hi = band
    return {
        "groups": int(len(totals)),
        "median": float(totals.median()),
        "q1": float(totals.quantile(0.25)),
        "q3": float(totals.quantile(0.75)),
        "share_in_band": float(totals.between(lo, hi).mean()),
        "practices_above_band": int((sizes > hi).sum()),
        "practices_ungrouped": int(len(sizes) - len(g)),
    }
