"""Cheap feasibility checks before solving, in a planner's words, with numbers.

Each check returns a list of problems (empty when fine). :func:`diagnose` runs them
all; the pipeline raises :class:`~hubopt.errors.InfeasibleError` with the lot before
spending any solver time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hubopt.scenario import Scenario


def _label(practices: pd.DataFrame, code: str) -> str:
    name = practices.at[code, "name"] if "name" in practices.columns else ""
    return f"{code} {name}".strip()


def oversize_practices(practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Practices above the upper band cannot join any hub unless exempted."""
    if scenario.oversize == "own_hub":
        return []
    big = practices[practices["list_size"] > scenario.population_max]
    return [
        f"practice {_label(practices, code)} has {row.list_size:,} patients, above the "
        f"upper band of {scenario.population_max:,}: it cannot fit in any hub. Set "
        f'oversize = "own_hub" to let it be a hub on its own, or raise population_max.'
        for code, row in big.iterrows()
    ]


def _reachable_population(t: np.ndarray, w: np.ndarray, cap: float) -> np.ndarray:
    """For each site j, the patients of practices within ``cap`` of j."""
    return ((t <= cap) * w[:, None]).sum(axis=0)


def unreachable_band(
    practices: pd.DataFrame, matrix: pd.DataFrame, scenario: Scenario
) -> list[str]:
    """Practices that cannot reach any site able to gather ``population_min`` patients.

    For practice i, a hub site j is usable only if ``t_ij <= cap`` and the practices
    within the cap of j add up to at least the lower band. If no such j exists the
    rules cannot all hold; the message gives the smallest cap that would do.
    """
    s = scenario
    codes = practices.index
    singles = practices["list_size"] > s.population_max if s.oversize == "own_hub" else None
    keep = codes if singles is None else codes[~singles.to_numpy()]
    if len(keep) == 0:
        return []
    t = matrix.loc[keep, keep].to_numpy()
    w = practices.loc[keep, "list_size"].to_numpy(dtype=float)

    def stuck(cap: float) -> np.ndarray:
        good_site = _reachable_population(t, w, cap) >= s.population_min
        return ~((t <= cap) & good_site[None, :]).any(axis=1)

    bad = stuck(s.travel_cap_minutes)
    if not bad.any():
        return []
    finite = np.unique(t[np.isfinite(t)])
    out = []
    for k in np.nonzero(bad)[0]:
        # smallest cap at which this practice can reach a big-enough site
        lo, hi = 0, len(finite) - 1
        if stuck(finite[hi])[k]:
            need = None
        else:
            while lo < hi:
                mid = (lo + hi) // 2
                if stuck(finite[mid])[k]:
                    lo = mid + 1
                else:
                    hi = mid
            need = finite[lo]
        code = keep[k]
        within = _reachable_population(t, w, s.travel_cap_minutes)[t[k] <= s.travel_cap_minutes]
        best = int(within.max()) if len(within) else int(w[k])
        fix = (
            f"a cap of {math.ceil(need)} minutes would let it reach one"
            if need is not None
            else "no cap is enough: it is cut off from the others by road"
        )
        out.append(
            f"practice {_label(practices, code)} ({int(w[k]):,} patients) cannot be in a hub "
            f"of at least {s.population_min:,} patients within {s.travel_cap_minutes:g} "
            f"minutes: the most any reachable hub site could gather is {best:,}; {fix}, "
            "or lower population_min."
        )
    return out


def population_total(practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """The total (less oversize own hubs) must split into some number of in-band hubs."""
    s = scenario
    sizes = practices["list_size"]
    if s.oversize == "own_hub":
        sizes = sizes[sizes <= s.population_max]
    total = int(sizes.sum())
    if total == 0:
        return []
    lo_k = math.ceil(total / s.population_max)
    hi_k = math.floor(total / s.population_min) if s.population_min > 0 else lo_k
    if lo_k <= hi_k:
        return []
    return [
        f"the practices total {total:,} patients: {lo_k - 1} hubs could hold at most "
        f"{(lo_k - 1) * s.population_max:,} and {lo_k} hubs need at least "
        f"{lo_k * s.population_min:,}, so no number of hubs fits the band "
        f"{s.population_min:,}-{s.population_max:,}. Widen the band."
    ]


def diagnose(practices: pd.DataFrame, matrix: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Run every pre-solve check; an empty list means none found a problem."""
    return (
        oversize_practices(practices, scenario)
        + population_total(practices, scenario)
        + unreachable_band(practices, matrix, scenario)
    )
