"""How minute figures are labelled wherever they are shown: road minutes, or a
straight-line estimate when no road network was used (``[network] kind =
"straight_line"``). The map, the report, the CSV tables and the command line all ask
here, so no minute figure from a straight-line matrix is shown as road travel.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hubopt.roads.matrix import STRAIGHT_LINE, matrix_meta

#: Added after a minute figure or a column header when travel is the estimate.
ESTIMATE = "straight-line est."


@dataclass(frozen=True)
class Minutes:
    """The words for minute figures of one travel-time matrix."""

    #: the times are a straight-line estimate, not road travel
    estimate: bool = False

    @property
    def unit(self) -> str:
        """After a figure and in column headers: ``min`` or ``min (straight-line est.)``."""
        return f"min ({ESTIMATE})" if self.estimate else "min"

    @property
    def travel(self) -> str:
        """In a sentence: ``road minutes`` or ``minutes (straight-line estimate)``."""
        return "minutes (straight-line estimate)" if self.estimate else "road minutes"

    @property
    def kind(self) -> str:
        """One word for a table column: ``road`` or ``straight-line estimate``."""
        return "straight-line estimate" if self.estimate else "road"

    def header(self, label: str) -> str:
        """An HTML column header for minutes, e.g. ``worst min`` with ``(straight-line
        est.)`` on a second, smaller line so a narrow column stays narrow."""
        return f"{label} min" + (f"<br><small>({ESTIMATE})</small>" if self.estimate else "")

    def __call__(self, value: float | None, digits: int = 1) -> str:
        """A figure with its unit, e.g. ``12.3 min (straight-line est.)``; ``-`` if missing."""
        if value is None or pd.isna(value):
            return "-"
        return f"{float(value):.{digits}f} {self.unit}"

    def measure(self, name: str) -> str:
        """A measure's name (e.g. ``worst minutes to site``) with the estimate said."""
        return f"{name} ({ESTIMATE})" if self.estimate and "minutes" in name else name


#: Road travel times (the words when nothing says otherwise).
ROAD = Minutes(False)


def minutes_of(matrix: pd.DataFrame) -> Minutes:
    """The words for ``matrix``'s minutes, from its metadata (road unless it says it is
    the straight-line estimate)."""
    return Minutes(matrix_meta(matrix).get("method") == STRAIGHT_LINE)
