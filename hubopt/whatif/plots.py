"""Plotting a sweep (:func:`hubopt.whatif.solving.sweep`) with matplotlib, imported
only when a plot is drawn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: What :func:`plot_sweep` can draw: column -> axis label.
SWEEP_MEASURES = {
    "mean_minutes": "mean minutes to hub site\n(patient-weighted)",
    "worst_minutes": "worst minutes to hub site",
    "hubs": "hubs",
    "share_in_band": "share of hubs in band",
    "moved": "practices moved vs today",
}


def plot_sweep(
    df: pd.DataFrame, *, measures: Sequence[str] = ("mean_minutes", "hubs", "moved")
) -> Figure:
    """One panel per measure against the travel cap, one line per band.

    Filled markers: proven optimal; hollow: stopped at the time limit or requested
    gap (the best plan found); ``x`` on the axis: no plan (infeasible or none found).
    Returns a :class:`matplotlib.figure.Figure` (shown by Jupyter; ``savefig`` to keep).
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:
        raise ImportError(
            'plot_sweep needs matplotlib: pip install matplotlib (or pip install -e ".[dev]")'
        ) from exc

    measures = [m for m in measures if m != "moved" or df["moved"].notna().any()]
    fig = Figure(figsize=(4.2 * len(measures), 3.8), layout="constrained")
    axes = fig.subplots(1, len(measures), squeeze=False)[0]
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    for ax, m in zip(axes, measures, strict=True):
        for i, (band, g) in enumerate(df.groupby("band", sort=False)):
            c = colours[i % len(colours)]
            g = g.sort_values("cap")
            ok = g[g[m].notna()]
            ax.plot(ok["cap"], ok[m], "-", color=c, label=f"band {band}")
            proven = ok["status"] == "optimal"
            ax.plot(ok.loc[proven, "cap"], ok.loc[proven, m], "o", color=c)
            ax.plot(ok.loc[~proven, "cap"], ok.loc[~proven, m], "o", mfc="white", color=c)
            none = g[g[m].isna()]
            if len(none):  # at the foot of the panel, one row per band
                ax.plot(
                    none["cap"], [0.04 + 0.07 * i] * len(none), "x", color=c, ms=9, mew=2,
                    transform=ax.get_xaxis_transform(),
                )  # fmt: skip
        ax.set_xlabel("travel cap (minutes)")
        ax.set_ylabel(SWEEP_MEASURES.get(m, m))
        if m == "share_in_band":
            ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0%}")
        if m in ("hubs", "moved"):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xticks(sorted(df["cap"].unique()))
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    handles += [
        Line2D([], [], ls="", marker="o", color="grey", label="proven optimal"),
        Line2D([], [], ls="", marker="o", mfc="white", color="grey", label="time/gap limit"),
        Line2D([], [], ls="", marker="x", mew=2, color="grey", label="no plan (infeasible)"),
    ]
    fig.legend(handles=handles, loc="outside right center", frameon=False)
    fig.suptitle("Sensitivity to the travel cap and population band")
    return fig
