"""Planners' choices in words and tables: the alternatives, what stays together, the
price of each rule (:mod:`hubopt.solver.choices` finds them; this module writes them
for the CLI, ``summary.json``, the report and the what-ifs)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from hubopt.solver.choices import APART, CONTESTED, FIRM, Alternatives, Choices, Price
from hubopt.text import plural


def alternatives_text(a: Alternatives) -> str:
    """The alternatives found, and why the search stopped, in one line for people."""
    text = _alternatives_ended(a)
    best = a.plans[0].result.objective or 0.0
    cheaper = [p.label for p in a.plans[1:] if (p.result.objective or 0.0) < best - 0.5]
    if cheaper:  # possible only when the best plan was not proven optimal
        text += (
            f"; {' and '.join(cheaper)} {'is' if len(cheaper) == 1 else 'are'} cheaper "
            "than the best plan found, which was not proven optimal: give more time"
        )
    return text


def _alternatives_ended(a: Alternatives) -> str:
    n, k, pct = a.found, a.requested, f"{a.within:.0%}"
    what = (
        f"{plural(n, 'alternative plan')} within {pct} of the best, each grouping at "
        f"least {plural(a.differ, 'practice')} differently from every plan before it"
    )
    if a.ended == "unique":
        return (
            f"{what}; no {'other' if n == 0 else 'further'} plan exists within {pct} "
            f"(proven): the best plan is {'unique' if n == 0 else 'nearly unique'} "
            f"({n} of {k} asked for)"
        )
    if a.ended == "time":
        return f"{what}; the time ran out before finding more ({n} of {k} asked for)"
    return what


def price_sentence(p: Price) -> str:
    """The price in a planner's words, with its status."""
    if p.patient_minutes is None:
        why = {"infeasible": "no plan meets the rules then (proven)"}.get(
            p.status, f"no plan found in the time ({p.status})"
        )
        return f"{p.words}: {why}"
    save = p.saving or 0.0
    pct = abs(save) / p.base_patient_minutes if p.base_patient_minutes else 0.0
    share = "<0.1%" if 0 < pct < 0.0005 else f"{pct:.1%}"
    amount = f"{abs(save):,.0f} patient-minutes ({share})"
    if p.kind == "rule":
        nothing = (
            f"{p.words} costs nothing: the best plan without it is no better"
            if p.status == "optimal"
            else f"without {p.words} no better plan was found in the time"
        )
        text = (
            f"{p.words} costs {amount}"
            if save > 0.5
            else nothing
            if save >= -0.5
            else f"without {p.words} the plan found is {amount} worse"
        )
    else:
        nothing = (
            f"{p.words} would change nothing"
            if p.status == "optimal"
            else f"with {p.words} no better plan was found in the time"
        )
        text = (
            f"{p.words} would save {amount}"
            if save > 0.5
            else nothing
            if save >= -0.5
            else f"{p.words} would cost {amount}"
        )
    return f"{text}{_effects(p)}{_proof(p)}"


def _effects(p: Price) -> str:
    out = []
    worst, base = p.worst_minutes, p.base_worst_minutes
    if worst is not None and abs(worst - base) > 0.05:
        out.append(f"worst trip {base:.1f} -> {worst:.1f} min")
    if p.hubs_in_band is not None and (
        p.hubs_in_band != p.base_hubs_in_band or p.hubs != p.base_hubs
    ):
        out.append(
            f"hubs in band {p.base_hubs_in_band} of {p.base_hubs} -> {p.hubs_in_band} of {p.hubs}"
        )
    return f" ({'; '.join(out)})" if out else ""


def _proof(p: Price) -> str:
    if p.proven:
        return ""
    which = [
        f"{name} plan {st}"
        for name, st in (("the best", p.base_status), ("the re-solved", p.status))
        if st != "optimal"
    ]
    known = p.gap is not None and p.status != "optimal"
    gap = f", within {p.gap:.1%}" if known else ""
    return f" [not proven: {', '.join(which)}{gap}]"


def price_record(p: Price) -> dict[str, Any]:
    """A price as a row of :func:`prices_frame` (and of ``summary.json``)."""
    return {
        "rule": p.rule,
        "kind": p.kind,
        "change": {k: list(v) if isinstance(v, tuple) else v for k, v in p.change.items()},
        "status": p.status,
        "proven": p.proven,
        "patient_minutes": p.patient_minutes,
        "saving_patient_minutes": p.saving,
        "saving_share": (
            None if p.saving is None or not p.base_patient_minutes
            else p.saving / p.base_patient_minutes
        ),
        "worst_minutes": p.worst_minutes,
        "hubs_in_band": p.hubs_in_band,
        "hubs": p.hubs,
        "gap": p.gap,
        "seconds": round(p.seconds, 2),
        "sentence": price_sentence(p),
    }  # fmt: skip


def prices_frame(prices: list[Price]) -> pd.DataFrame:
    """One row per price (:func:`price_record`)."""
    return pd.DataFrame([price_record(p) for p in prices])


def plans_frame(ch: Choices) -> pd.DataFrame:
    """One row per plan: rank, status, gap, patient-minutes and the excess over the
    best, practices grouped differently from the best and from the nearest earlier
    plan, checks passed, seconds."""
    if ch.alternatives is None:
        return pd.DataFrame()
    best = ch.alternatives.plans[0].result.objective or 0.0
    return pd.DataFrame(
        [
            {
                "plan": p.label,
                "status": p.result.status,
                "gap": p.result.gap,
                "patient_minutes": p.result.objective,
                "extra_share": ((p.result.objective or 0.0) - best) / best if best else 0.0,
                "hubs": int(p.assignment.dropna().nunique()),
                "differs_from_best": p.differs_from_best,
                "differs_least": p.differs_least,
                "checks_passed": p.checks.passed,
                "seconds": round(p.result.seconds, 2),
            }
            for p in ch.alternatives.plans
        ]
    )


def choices_lines(ch: Choices) -> list[str]:
    """A few lines for the CLI summary."""
    out = []
    a = ch.alternatives
    if a is not None:
        out.append(f"Alternatives: {alternatives_text(a)} ({a.seconds:.1f} s)")
        for p in a.plans[1:]:
            extra = (p.result.objective or 0.0) / (a.plans[0].result.objective or 1.0) - 1
            out.append(
                f"  {p.label}: {p.result.describe()}, +{extra:.1%} patient-minutes, "
                f"{plural(p.differs_from_best, 'practice')} grouped differently from the best"
            )
        if ch.pairs is not None and len(ch.pairs):
            counts = ch.pairs["verdict"].value_counts()
            out.append(
                f"Together: of {len(ch.pairs)} neighbouring pairs, {counts.get(FIRM, 0)} "
                f"share a hub in every plan, {counts.get(CONTESTED, 0)} in some, "
                f"{counts.get(APART, 0)} in none; {plural(len(ch.contested), 'practice')} "
                f"contested{': ' + ', '.join(ch.contested) if ch.contested else ''}"
            )
    if ch.prices:
        out.append(f"Price of each rule ({ch.seconds.get('prices', 0.0):.1f} s):")
        out += [f"  {price_sentence(p)}" for p in ch.prices]
    return out


def choices_summary(ch: Choices) -> dict[str, Any]:
    """What ``summary.json`` holds under ``choices``."""
    out: dict[str, Any] = {"seconds": {k: round(v, 2) for k, v in ch.seconds.items()}}
    a = ch.alternatives
    if a is not None:
        out["alternatives"] = {
            "requested": a.requested,
            "found": a.found,
            "within": a.within,
            "differ": a.differ,
            "ended": a.ended,
            "text": alternatives_text(a),
            "plans": _records(plans_frame(ch)),
            "assignments": [
                {k: v for k, v in p.assignment.items() if pd.notna(v)} for p in a.plans
            ],
        }
        pairs = ch.pairs if ch.pairs is not None else pd.DataFrame(columns=["verdict"])
        out["together"] = {
            "pairs": _records(pairs),
            "contested_practices": ch.contested,
            "moves": [] if ch.moves is None else _records(ch.moves),
        }
    if ch.prices:
        out["rule_prices"] = [price_record(p) for p in ch.prices]
    return out


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts for JSON (missing values as None, not NaN)."""
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")
