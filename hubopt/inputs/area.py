"""Choose the area: which practices take part, and which are left out and why.

An area is given by commissioner codes (CCG / sub-ICB location, ICB), by a list of
practice codes, or by boundary polygons (optionally buffered for cross-border
practices). Rules then leave out non-standard practices, closed or dormant ones and
small lists; every practice a rule leaves out is a row of the selection's ``left_out``
table with its patients and reason (the run names them in its notes from there:
:func:`hubopt.outputs.tables.left_out_notes`).

No practice is lost to a later register: a practice with patients in the list sizes
is left out as closed or dormant only when the register shows it so on or before
``as_at`` (its close date, or for a dormant practice with no close date the date of
the register itself). A practice closed or dormant only in a later register is kept
and named in a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from hubopt.errors import InputError
from hubopt.inputs import Problem
from hubopt.inputs.practices import BNG, left_out_frame
from hubopt.scenario import Scenario
from hubopt.text import plural

#: A practice selected by code but this far outside the boundary is flagged (metres).
FAR_OUTSIDE_M = 5_000.0


@dataclass
class Selection:
    """The practices chosen, notes on them (the area's size; practices kept though
    closed or dormant in a later register), and the practices the rules left out."""

    practices: gpd.GeoDataFrame
    report: list[str] = field(default_factory=list)
    left_out: pd.DataFrame = field(default_factory=left_out_frame)


def _codes_match(column: pd.Series, wanted: tuple[str, ...]) -> pd.Series:
    return column.fillna("").astype(str).str.upper().isin([w.upper() for w in wanted])


def boundary_area(boundary: gpd.GeoDataFrame, scenario: Scenario):
    """The union of the chosen boundary features in BNG, buffered as asked (or None)."""
    if boundary is None:
        return None
    feats = boundary
    if scenario.boundary_field:
        if scenario.boundary_field not in boundary.columns:
            raise InputError(
                f"The boundary file has no column '{scenario.boundary_field}'.",
                [f"columns found: {', '.join(c for c in boundary.columns if c != 'geometry')}"],
            )
        feats = boundary[_codes_match(boundary[scenario.boundary_field], scenario.boundary_value)]
        if feats.empty:
            raise InputError(
                "No boundary feature matches the area.",
                [
                    f"[area] boundary_value {list(scenario.boundary_value)} not found in column "
                    f"'{scenario.boundary_field}'; e.g. "
                    f"{', '.join(map(str, boundary[scenario.boundary_field].head(5)))}"
                ],
            )
    shape = feats.to_crs(BNG).union_all()
    return shape.buffer(scenario.boundary_buffer_m) if scenario.boundary_buffer_m else shape


def far_outside(points: gpd.GeoSeries, shape) -> pd.Series:
    """Kilometres outside ``shape`` of the ``points`` (both BNG) more than
    :data:`FAR_OUTSIDE_M` outside it."""
    dist = points.distance(shape)
    return dist[dist > FAR_OUTSIDE_M] / 1000.0


def select_area(
    practices: gpd.GeoDataFrame,
    scenario: Scenario,
    *,
    boundary: gpd.GeoDataFrame | None = None,
) -> tuple[Selection, list[Problem]]:
    """Apply the scenario's ``[area]`` choice and exclusion rules.

    Returns the selection and problems: practices selected by code that lie far
    outside the chosen boundary (:data:`FAR_OUTSIDE_M`), codes asked for but absent.
    """
    s = scenario
    report: list[str] = []
    problems: list[Problem] = []
    keep = pd.Series(True, index=practices.index)
    by_code = bool(s.ccg or s.icb or s.practice_codes)
    if s.ccg:
        keep &= _codes_match(practices.get("ccg_code", pd.Series(index=practices.index)), s.ccg)
    if s.icb:
        keep &= _codes_match(practices.get("icb_code", pd.Series(index=practices.index)), s.icb)
    if s.practice_codes:
        keep &= practices.index.isin(s.practice_codes)
        absent = sorted(set(s.practice_codes) - set(practices.index))
        problems += [
            Problem(f"[area] practices: {c} is not in the practices data; check the code")
            for c in absent
        ]
    use_boundary = boundary is not None and (s.boundary_field or not by_code)
    shape = boundary_area(boundary, s) if use_boundary else None
    if shape is not None:
        pts = practices.geometry.to_crs(BNG)
        inside = pts.within(shape)
        if by_code:
            problems += [
                Problem(
                    f"practice {c} ({practices.at[c, 'name']}) is in the chosen area's codes "
                    f"but {km:.1f} km outside its boundary; check its postcode or "
                    "coordinates",
                    c,
                )
                for c, km in far_outside(pts[keep], shape).items()
            ]
        else:
            keep &= inside
    chosen = practices[keep]
    if chosen.empty:
        raise InputError(
            "No practices are in the chosen area.",
            [
                f"[area] ccg={list(s.ccg)} icb={list(s.icb)} practices={list(s.practice_codes)} "
                f"boundary_value={list(s.boundary_value)}; check the codes against the data"
            ],
        )
    report.append(
        f"area: {plural(len(chosen), 'practice')}, {int(chosen['list_size'].sum()):,} patients"
    )
    rules = []
    if s.exclude_non_gp and "prescribing_setting" in chosen.columns:
        setting = chosen["prescribing_setting"].fillna("").astype(str)
        rules.append(
            ("prescribing setting other than GP practice", setting.ne("") & setting.ne("4"))
        )
    details: dict[str, pd.Series] = {}
    if s.exclude_closed and "status" in chosen.columns:
        closed, details[CLOSED], kept = closed_at(chosen, s.as_at)
        rules.append((CLOSED, closed))
        for why, codes in kept.groupby(kept).groups.items():
            report.append(
                f"kept {plural(len(codes), 'practice')} "
                f"({int(chosen.loc[codes, 'list_size'].sum()):,} "
                f"patients) that had patients on {s.as_at}, though {why}: "
                + "; ".join(_named(chosen, c) for c in codes)
            )
    if s.min_list_size:
        rules.append(
            (f"fewer than {s.min_list_size:,} patients", chosen["list_size"] < s.min_list_size)
        )
    out_rows = []
    for why, mask in rules:
        mask = mask.reindex(chosen.index, fill_value=False)
        dropped = chosen[mask]
        reasons = details.get(why, pd.Series(why, index=dropped.index))
        rows = left_out_frame(
            [{"practice_code": c, "name": _name(chosen, c),
              "patients": int(chosen.at[c, "list_size"]), "category": why, "reason": reasons[c]}
             for c in dropped.index]
        )  # fmt: skip
        out_rows += rows.to_dict("records")
        chosen = chosen[~mask]
    left_out = left_out_frame(out_rows)
    return Selection(chosen, report, left_out), problems


#: The closed-or-dormant rule's name in the notes and in ``Selection.left_out``.
CLOSED = "closed or dormant in the register"


def _name(practices: pd.DataFrame, code: str) -> str:
    name = practices.at[code, "name"] if "name" in practices.columns else ""
    return "" if pd.isna(name) or name == code else str(name)


def left_out_lines(left_out: pd.DataFrame) -> list[str]:
    """``A82620 GLENRIDDING HEALTH CENTRE, 855 patients: fewer than 1,000 patients``:
    each practice of a :attr:`Selection.left_out` table with its patients and reason."""
    return [
        f"{r.practice_code}{' ' + r.name if isinstance(r.name, str) and r.name else ''}, "
        + (f"{int(r.patients):,} patients" if pd.notna(r.patients) else "patients unknown")
        + f": {r.reason}"
        for r in left_out.itertuples()
    ]


def _named(practices: pd.DataFrame, code: str) -> str:
    """``A82048 NAME, 6,348 patients``: a practice as the notes name it."""
    name = _name(practices, code)
    return f"{code}{' ' + name if name else ''}, {int(practices.at[code, 'list_size']):,} patients"


def _dates(practices: pd.DataFrame, column: str) -> pd.Series:
    if column not in practices.columns:
        return pd.Series(pd.NaT, index=practices.index, dtype="datetime64[ns]")
    return pd.to_datetime(practices[column], errors="coerce")


def closed_at(practices: pd.DataFrame, as_at: str | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Which practices the register shows closed or dormant on ``as_at``.

    A closed or dormant practice is shown so from its close date or, with none (ODS
    gives dormant practices no date), from the date of the register
    (``register_date``: :func:`hubopt.inputs.nhs.read_epraccur`). It counts as closed
    on ``as_at`` when that date is on or before ``as_at``, or when no date is known
    at all; without ``as_at`` every closed or dormant practice counts.

    Returns the mask of practices closed on ``as_at``, the reason for each of them,
    and the reason each closed-or-dormant practice that was still open then is kept.
    """
    status = practices["status"].fillna("").astype(str)
    marked = status.isin(["closed", "dormant"])
    close = _dates(practices, "close_date")
    shown = close.fillna(_dates(practices, "register_date"))
    when = pd.Timestamp(as_at) if as_at is not None else None
    dated = practices["register_dated"] if "register_dated" in practices.columns else {}
    later = marked & shown.notna() & (shown > when) if when is not None else marked & False
    closed = marked & ~later

    def why(code: str, *, kept: bool) -> str:
        state = status[code]
        if pd.notna(close[code]):
            text = f"closed on {close[code].date()}"
        elif pd.notna(shown[code]):
            text = f"{state} in the register dated {dated.get(code) or shown[code].date()}"
        else:
            text = f"{state} in the register (no date known)"
        if when is None:
            return text + " (no as_at date given)"
        order = "after" if kept else "on or before"
        return f"{text}, {order} as_at {when.date()}" if pd.notna(shown[code]) else text

    reasons = pd.Series({c: why(c, kept=False) for c in practices.index[closed]}, dtype=object)
    kept = pd.Series({c: why(c, kept=True) for c in practices.index[later]}, dtype=object)
    return closed, reasons, kept
