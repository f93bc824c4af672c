"""Cheap feasibility checks before solving, in a planner's words, with numbers.

Each check returns a list of problems (empty when fine). :func:`diagnose` runs them
all; the pipeline raises :class:`~hubopt.errors.InfeasibleError` with the lot before
spending any solver time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from hubopt.inputs import site_only_codes
from hubopt.model.exempt import singleton_practices
from hubopt.scenario import Scenario
from hubopt.text import plural


def practice_label(practices: pd.DataFrame, code: str) -> str:
    name = practices.at[code, "name"] if "name" in practices.columns else ""
    return f"{code} {name}".strip()


def oversize_cannot_fit(practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Practices above the upper band cannot join any hub unless exempted."""
    if scenario.oversize == "own_hub":
        return []
    big = practices[practices["list_size"] > scenario.population_max]
    return [
        f"practice {practice_label(practices, code)} has {row.list_size:,} patients, above the "
        f"upper band of {scenario.population_max:,}: it cannot fit in any hub. Set "
        f'oversize = "own_hub" to let it be a hub on its own, or raise population_max.'
        for code, row in big.iterrows()
    ]


def may_stay_out(practices: pd.DataFrame, scenario: Scenario) -> set[str]:
    """Rows that need no hub: optional practices and site-only locations."""
    return set(scenario.optional) | set(site_only_codes(practices))


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
    singles = singleton_practices(practices, s)
    keep = codes[~codes.isin(list(singles))]
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
    free = may_stay_out(practices, s)
    finite = np.unique(t[np.isfinite(t)])
    out = []
    for k in np.nonzero(bad)[0]:
        if keep[k] in free:
            continue  # may stay unassigned (or is a site-only location)
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
            f"practice {practice_label(practices, code)} ({int(w[k]):,} patients) cannot be in "
            f"a hub of at least {s.population_min:,} patients within {s.travel_cap_minutes:g} "
            f"minutes: the most any reachable hub site could gather is {best:,}; {fix}, "
            "or lower population_min."
        )
    return out


def population_total(practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """The total (less hubs of one exempt practice) must split into some number of in-band hubs."""
    s = scenario
    sizes = practices["list_size"]
    sizes = sizes.drop(index=list(singleton_practices(practices, s)))
    total = int(sizes.sum())
    if total == 0:
        return []
    lo_k = math.ceil(total / s.population_max)
    hi_k = math.floor(total / s.population_min) if s.population_min > 0 else lo_k
    if lo_k <= hi_k:
        return []
    return [
        f"the practices total {total:,} patients: {plural(lo_k - 1, 'hub')} could hold at "
        f"most {(lo_k - 1) * s.population_max:,} and {plural(lo_k, 'hub')} "
        f"{'needs' if lo_k == 1 else 'need'} at least "
        f"{lo_k * s.population_min:,}, so no number of hubs fits the band "
        f"{s.population_min:,}-{s.population_max:,}. Widen the band."
    ]


def isolated_clusters(
    practices: pd.DataFrame, matrix: pd.DataFrame, scenario: Scenario
) -> list[str]:
    """Groups of practices cut off from all others by the cap whose patients together
    cannot fill the lower band."""
    s = scenario
    singles = singleton_practices(practices, s)
    keep = [c for c in practices.index if c not in singles]
    if not keep or s.population_min <= 0:
        return []
    t = matrix.loc[keep, keep].to_numpy()
    near = (t <= s.travel_cap_minutes) | (t.T <= s.travel_cap_minutes)
    n_parts, label = connected_components(csr_matrix(near), directed=False)
    w = practices.loc[keep, "list_size"].to_numpy(dtype=float)
    free = may_stay_out(practices, s)
    out = []
    for k in range(n_parts):
        idx = np.nonzero(label == k)[0]
        total = int(w[idx].sum())
        if total < s.population_min and not all(keep[i] in free for i in idx):
            names = ", ".join(practice_label(practices, keep[i]) for i in idx)
            alone = "has no other practice" if len(idx) == 1 else "have no other practices"
            out.append(
                f"{names} {alone} within {s.travel_cap_minutes:g} minutes and "
                f"{'has' if len(idx) == 1 else 'have'} {total:,} patients in all, below "
                f"the lower band of {s.population_min:,}: raise travel_cap_minutes, lower "
                'population_min, or set band = "rural_exception"'
            )
    return out


def locked_groups(practices: pd.DataFrame, matrix: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Locked groups must fit the band and have a site within the cap of every member."""
    s = scenario
    out = []
    for named in s.locked_groups:
        group = [c for c in named if c in practices.index]
        total = int(practices.loc[group, "list_size"].sum())
        if total > s.population_max and s.band != "elastic":
            out.append(
                f"locked group {', '.join(group)} has {total:,} patients, above the upper "
                f"band of {s.population_max:,}: it cannot stay together in one hub"
            )
        reach = (matrix.loc[group].to_numpy() <= s.travel_cap_minutes).all(axis=0)
        if not reach.any():
            out.append(
                f"locked group {', '.join(group)}: no practice is within "
                f"{s.travel_cap_minutes:g} minutes of all its members, so they cannot share "
                "a hub site; raise travel_cap_minutes or split the group"
            )
    return out


def hub_count(practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """A fixed number (or range) of hubs must be able to hold the population."""
    s = scenario
    lo, hi = s.hub_range
    if lo is None and hi is None:
        return []
    sizes = practices["list_size"]
    singles = singleton_practices(practices, s)
    rest = int(sizes.drop(index=list(singles)).sum())
    n_single = len(singles)
    out = []
    if hi is not None and s.band != "elastic" and rest > (hi - n_single) * s.population_max:
        out.append(
            f"at most {plural(hi, 'hub')} ({n_single} of them single exempt practices) can "
            "hold at "
            f"most {max(0, hi - n_single) * s.population_max:,} patients in the band, but "
            f"the other practices have {rest:,}: raise hubs_max or population_max"
        )
    if lo is not None and s.band == "strict" and rest < (lo - n_single) * s.population_min:
        out.append(
            f"{plural(lo, 'hub')} {'needs' if lo == 1 else 'need'} at least "
            f"{(lo - n_single) * s.population_min:,} patients to "
            f"reach the lower band, but the practices have {rest:,}: lower hubs_min"
        )
    return out


def diagnose(practices: pd.DataFrame, matrix: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Run every pre-solve check; an empty list means none found a problem.

    With a soft band (``rural_exception``/``elastic``) the band checks do not block:
    :func:`band_notes` reports them instead.
    """
    out = oversize_cannot_fit(practices, scenario)
    if scenario.band == "strict":
        out += band_notes(practices, matrix, scenario)
    return out + locked_groups(practices, matrix, scenario) + hub_count(practices, scenario)


def band_notes(practices: pd.DataFrame, matrix: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Where the lower band cannot be met (blocking under a strict band, expected
    breaches under a soft one)."""
    return (
        population_total(practices, scenario)
        + isolated_clusters(practices, matrix, scenario)
        + unreachable_band(practices, matrix, scenario)
    )
