"""What a what-if re-solves from: an area loaded once, and the area changed.

:func:`prepare` loads a scenario's inputs and travel-time matrix (the slow part) into
an :class:`AreaData`; :func:`close_practice` and :func:`grow_lists` return a new one
(an :class:`AreaData` is never changed in place), with what changed in ``changes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt import inputs, pipeline
from hubopt.errors import InputError
from hubopt.inputs import load
from hubopt.outputs import tables, units
from hubopt.scenario import Scenario, load_scenario
from hubopt.text import plural


@dataclass(frozen=True)
class AreaData:
    """Everything a what-if re-solves from: loaded once, never changed in place.

    Attributes
    ----------
    scenario
        The base scenario; what-ifs change it with :meth:`Scenario.replace`.
    practices
        Practices by code (``name``, ``lat``, ``lon``, ``list_size``, ...).
    minutes
        Travel-time matrix, practice x practice minutes (row = from).
    current
        Today's grouping (``group_id``, ``group_name`` by practice code), or None.
    boundary
        Area outline for the maps, or None.
    notes
        What loading said (practices left out, how travel times were made).
    changes
        What was changed from the loaded data, in order (closures, list growth).
    """

    scenario: Scenario
    practices: gpd.GeoDataFrame
    minutes: pd.DataFrame
    current: pd.DataFrame | None = None
    boundary: gpd.GeoDataFrame | None = None
    notes: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()

    @property
    def patients(self) -> int:
        return int(self.practices["list_size"].sum())

    @property
    def words(self) -> units.Minutes:
        """How its minute figures are labelled: road minutes, or the straight-line
        estimate (:func:`hubopt.outputs.units.minutes_of`)."""
        return units.minutes_of(self.minutes)

    def __repr__(self) -> str:
        extra = f"; {'; '.join(self.changes)}" if self.changes else ""
        return (
            f"<AreaData {self.scenario.name}: {plural(len(self.practices), 'practice')}, "
            f"{self.patients:,} patients{extra}>"
        )


def prepare(
    scenario: Scenario | str | Path, *, matrix: str | Path | None = None, **changes: Any
) -> AreaData:
    """Load a scenario's inputs and travel-time matrix once, for many what-ifs.

    Parameters
    ----------
    scenario
        A :class:`Scenario` or the path of a scenario TOML file.
    matrix
        A matrix saved earlier (``matrix.csv`` of a run, or
        :func:`hubopt.roads.matrix.save_matrix`): re-used instead of the road network.
    **changes
        Scenario fields to change first (e.g. ``time_limit_seconds=20``); every
        what-if starts from them.
    """
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if matrix is not None:
        changes["matrix"] = Path(matrix).resolve()
    if changes:
        s = s.replace(**changes)
    loaded = load.load_inputs(s)
    notes = list(loaded.notes) + tables.left_out_notes(loaded.rejects, listed_in=None)
    minutes = pipeline.travel_matrix(s, loaded.practices, notes=notes)
    return AreaData(s, loaded.practices, minutes, loaded.current, loaded.boundary, tuple(notes))


def close_practice(
    area: AreaData,
    code: str,
    *,
    to: str | Sequence[str] | Mapping[str, float] | None = None,
    k: int = 3,
) -> AreaData:
    """The area after practice ``code`` closes and its patients register elsewhere.

    The rule: the closing practice's patients are shared among *receivers* in
    proportion to the receivers' own list sizes (a bigger practice takes more).

    - ``to=None``: the receivers are the ``k`` practices nearest to it by the
      matrix's minutes (ties by practice code; unreachable ones never);
    - ``to="B"`` or ``to=["B", "C"]``: the named practices (``"B"`` takes them all);
    - ``to={"B": 0.7, "C": 0.3}``: explicit shares (scaled to add up to 1).

    Patients are whole: each receiver gets the whole part of its share, and the
    patients left over go one each to the largest remainders, so the area's total is
    unchanged. The practice leaves the practices table, the matrix (row and column),
    today's grouping and every rule that names it (a locked or apart group left with
    one practice is dropped). The returned area's ``changes`` says who took how many.
    """
    p = area.practices
    sites = inputs.site_only_codes(p)
    registering = p.drop(index=sites)  # practices: they have patients
    if code in sites:
        raise InputError(
            f"{code} ({p.at[code, 'name']}) is a candidate hub site, not a practice: it has "
            "no patients to move.",
            ["to plan without it, leave it out of the sites file", _known(registering.index)],
        )
    if code not in registering.index:
        raise InputError(f"Practice {code} is not in the area.", [_known(registering.index)])
    shares = _receivers(area.minutes, registering, code, to, k)
    n = int(p.at[code, "list_size"])
    gain = _apportion(n, shares)
    sizes = p["list_size"].drop(index=code).copy()
    sizes[gain.index] += gain
    practices = p.drop(index=code).assign(list_size=sizes.astype(int))
    moved = ", ".join(f"{c} (+{g:,})" for c, g in gain.items() if g)
    return replace(
        area,
        scenario=_without(area.scenario, code),
        practices=practices,
        minutes=area.minutes.drop(index=code, columns=code),
        current=None if area.current is None else area.current.drop(index=code, errors="ignore"),
        changes=(*area.changes, f"{code} closed: its {n:,} patients to {moved}"),
    )


def grow_lists(area: AreaData, factor: float, codes: Iterable[str] | None = None) -> AreaData:
    """The area with list sizes multiplied by ``factor`` (e.g. 1.10 for 10% growth),
    rounded to whole patients; only the practices in ``codes`` when given."""
    if not factor > 0:
        raise InputError(f"factor {factor} must be above 0.", ["e.g. 1.10 for lists 10% larger"])
    p = area.practices
    chosen = p.index if codes is None else pd.Index(list(codes))
    unknown = chosen.difference(p.index)
    if len(unknown):
        raise InputError(
            f"{plural(len(unknown), 'practice')} to grow {'is' if len(unknown) == 1 else 'are'} "
            f"not in the area: {', '.join(unknown)}.",
            [_known(p.index)],
        )
    sizes = p["list_size"].astype(int).copy()
    sizes[chosen] = np.rint(sizes[chosen] * factor).astype(int)
    which = "all practices" if codes is None else plural(len(chosen), "practice")
    return replace(
        area,
        practices=p.assign(list_size=sizes),
        changes=(
            *area.changes,
            f"lists x{factor:g} ({which}): {area.patients:,} -> {int(sizes.sum()):,} patients",
        ),
    )


def _known(index: pd.Index) -> str:
    more = f" ... ({len(index)} in all)" if len(index) > 8 else ""
    return f"practices in the area: {', '.join(map(str, index[:8]))}{more}"


def _receivers(
    minutes: pd.DataFrame,
    p: pd.DataFrame,
    code: str,
    to: str | Sequence[str] | Mapping[str, float] | None,
    k: int,
) -> pd.Series:
    """Receiver code -> share of the closing practice's patients (adds up to 1), among
    the practices ``p`` (candidate hub sites that are not practices never receive)."""
    if to is None:
        if k < 1:
            raise InputError(f"k {k} must be at least 1.", ["the number of nearest practices"])
        row = minutes.loc[code, p.index].drop(index=code)
        row = row[np.isfinite(row)]
        if row.empty:
            raise InputError(f"Practice {code} reaches no other practice.", ["give to=..."])
        order = sorted(row.index, key=lambda c: (row[c], c))[:k]
        weights = p.loc[order, "list_size"].astype(float)
    else:
        if isinstance(to, str):
            to = [to]
        weights = (
            pd.Series(dict(to), dtype=float)
            if isinstance(to, Mapping)
            else p["list_size"].reindex(list(to)).astype(float)
        )
        bad = [c for c in weights.index if c not in p.index or c == code]
        if bad or weights.empty or (weights < 0).any() or not weights.sum() > 0:
            raise InputError(
                f"Cannot move practice {code}'s patients to {list(weights.index)}.",
                [
                    f"not open practices of the area: {', '.join(bad)}"
                    if bad
                    else "shares must be non-negative and not all zero",
                    _known(p.index.drop(code)),
                ],
            )
    return weights / weights.sum()


def _apportion(n: int, shares: pd.Series) -> pd.Series:
    """``n`` whole patients split by ``shares`` (largest remainders; ties in order)."""
    exact = shares * n
    whole = np.floor(exact).astype(int)
    left = n - int(whole.sum())
    rest = (exact - whole).to_numpy()
    for i in sorted(range(len(rest)), key=lambda i: (-rest[i], i))[:left]:
        whole.iloc[i] += 1
    return whole


def _without(s: Scenario, code: str) -> Scenario:
    """The scenario with practice ``code`` removed from every rule that names it."""
    drop = lambda codes: tuple(c for c in codes if c != code)  # noqa: E731
    groups = lambda gs: tuple(g for g in (drop(g) for g in gs) if len(g) >= 2)  # noqa: E731
    if s.candidate_sites == (code,):
        raise InputError(
            f"Practice {code} is the only candidate site.",
            ["change candidate_sites before closing it"],
        )
    return s.replace(
        exempt=drop(s.exempt),
        fixed_sites=drop(s.fixed_sites),
        candidate_sites=drop(s.candidate_sites),
        cross_allowed=drop(s.cross_allowed),
        optional=drop(s.optional),
        locked_groups=groups(s.locked_groups),
        apart=groups(s.apart),
    )
