r"""Rows of an alternative plan (:mod:`hubopt.solver.choices`): near the best plan's
value, and grouped differently from every earlier plan.

* :func:`add_near_best`: every objective stage before the last no worse than the best
  plan's value, and the last stage (patient-weighted travel) at most
  :math:`(1 + \varepsilon)` times the best plan's (``NEAR_BEST``);
* :func:`add_differ`: for an earlier plan :math:`x^r`, at least :math:`d` practices
  grouped differently (``DIFFER``).

*A practice's hub is its group of practices, not the hub's site*: the difference
between two plans is the number of practices that would have to move to turn one
grouping into the other, with the earlier plan's groups :math:`g` matched one-to-one
with the new plan's hubs to keep the most practices in place
(:func:`hubopt.model.check.moved_practices` counts it after the solve). The same
grouping with a hub sited at another member is therefore *not* a different plan.
With :math:`o_{gj} = \sum_{i \in g} x_{ij}` the practices of group :math:`g` in
the hub sited at :math:`j`, the largest matching :math:`\max_\mu \sum_g o_{g\mu(g)}`
must be at most :math:`N_r - d` (:math:`N_r` practices in a hub in plan
:math:`r`). The bipartite matching polytope is integral, so by LP duality this holds
exactly when there are :math:`a_g, b_j \ge 0` with

.. math::

    a_g + b_j \ge o_{gj}\ \forall g, j, \qquad \sum_g a_g + \sum_j b_j \le N_r - d,

which are linear rows: the difference is guaranteed, not hoped for.
"""

from __future__ import annotations

import pandas as pd
import pulp

from hubopt.model.program import DIFFER, NEAR_BEST, HubModel


def add_near_best(m: HubModel, values: dict[str, float], within: float) -> None:
    """Every stage before the last no worse than ``values``; the last at most
    ``1 + within`` times its value there."""
    *earlier, (last_name, last) = m.stages
    for name, expr in earlier:
        v = values[name]
        m.add_rule(NEAR_BEST, expr <= v + 1e-6 * max(1.0, abs(v)), f"near_{name}")
    v = values[last_name]
    m.add_rule(NEAR_BEST, last <= (1 + within) * v + 1e-6 * max(1.0, abs(v)), "near_last")


def add_differ(m: HubModel, plan: pd.Series, differ: int, counted: set[str], tag: str) -> None:
    """At least ``differ`` of the practices in a hub of ``plan`` (among ``counted``)
    grouped differently: the largest one-to-one matching of ``plan``'s groups with the
    new hubs keeps at most ``N - differ`` practices in place (LP dual rows, see the
    module docstring)."""
    groups = plan.reindex(sorted(counted)).dropna()
    a: dict[str, pulp.LpVariable] = {}
    b: dict[str, pulp.LpVariable] = {}
    overlap: dict[tuple[str, str], list[pulp.LpVariable]] = {}
    for i, g in groups.items():
        for j in m.eligible_sites(i):
            overlap.setdefault((g, j), []).append(m.x[i, j])
    for n, ((g, j), xs) in enumerate(sorted(overlap.items())):
        if g not in a:
            a[g] = m.problem.add_variable(f"differ_{tag}_a{len(a)}", lowBound=0)
        if j not in b:
            b[j] = m.problem.add_variable(f"differ_{tag}_b{len(b)}", lowBound=0)
        m.add_rule(DIFFER, a[g] + b[j] >= pulp.lpSum(xs), f"differ_{tag}_{n}")
    total = pulp.lpSum([*a.values(), *b.values()])
    m.add_rule(DIFFER, total <= len(groups) - differ, f"differ_{tag}_total")
