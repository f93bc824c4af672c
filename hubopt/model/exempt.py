"""Which hubs may lie outside the population band, and why: the one place that says so.

A practice is a hub on its own (a *singleton*) when the scenario names it in
``exempt``, or when its own list is above the band and ``oversize = "own_hub"``. The
model (:func:`~hubopt.model.program.build`), the pre-solve diagnosis, the explanation
of infeasible rules and the hub table all ask here; the independent checks
(:mod:`hubopt.model.check`) keep their own reading of the rule on purpose.
"""

from __future__ import annotations

import pandas as pd

from hubopt.scenario import Scenario

#: Reasons a hub of one practice is outside the band, as the report words them.
NAMED = "named exemption, own hub"
OVERSIZE = "oversize practice, own hub"


def own_hub_reason(code: str, list_size: float, scenario: Scenario) -> str:
    """Why practice ``code`` is a hub on its own ("" when it is not)."""
    if code in scenario.exempt:
        return NAMED
    if scenario.oversize == "own_hub" and list_size > scenario.population_max:
        return OVERSIZE
    return ""


def oversize_practices(practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Codes of practices whose own list is above the band's upper limit."""
    return list(practices.index[practices["list_size"] > scenario.population_max])


def singleton_practices(practices: pd.DataFrame, scenario: Scenario) -> frozenset[str]:
    """Practices that form a hub on their own (:func:`own_hub_reason` is not empty)."""
    sizes = practices["list_size"]
    own = (
        c for c in oversize_practices(practices, scenario) if own_hub_reason(c, sizes[c], scenario)
    )
    return frozenset(own) | frozenset(scenario.exempt)


def hub_exemption(site: str, n_practices: int, total: int, scenario: Scenario) -> str:
    """Why a hub may be outside the band, in words ("" when it may not)."""
    s = scenario
    if n_practices == 1 and (own := own_hub_reason(site, total, s)):
        return own
    if total < s.population_min and s.band in ("rural_exception", "elastic"):
        return f"{s.band.replace('_', ' ')}: {s.population_min - total:,} below the band"
    if total > s.population_max and s.band == "elastic":
        return f"elastic: {total - s.population_max:,} above the band"
    return ""
