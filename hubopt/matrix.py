"""Practice x practice road travel minutes: the seam between network and model.

Direction: ``matrix.loc[i, j]`` is the time **from practice i to practice j** (the
hub site), i.e. rows are origins and columns destinations. The model reads it that
way: a practice's patients and staff travel *to* the hub site.

A time is ``access_i + route(node_i -> node_j) + access_j`` where ``access`` is the
snap distance walked/driven slowly to the network. Practices within
``same_site_m`` of each other (the same health centre) are 0 apart. Unreachable
pairs are ``inf``, never 0.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra


def graph_to_csr(G: nx.MultiDiGraph, *, weight: str = "travel_time") -> tuple[csr_matrix, dict]:
    """Sparse adjacency of ``G`` (cheapest parallel edge kept) and node -> row index."""
    index = {n: i for i, n in enumerate(G.nodes)}
    u, v, w = zip(*((index[a], index[b], d[weight]) for a, b, d in G.edges(data=True)), strict=True)
    edges = pd.DataFrame({"u": u, "v": v, "w": np.asarray(w, dtype=float)})
    edges = edges.groupby(["u", "v"], as_index=False)["w"].min()
    n = len(index)
    A = csr_matrix((edges["w"].to_numpy(), (edges["u"], edges["v"])), shape=(n, n))
    return A, index


def travel_time_matrix(
    G: nx.MultiDiGraph,
    snapped: pd.DataFrame,
    *,
    same_site_m: float = 25.0,
    limit_minutes: float | None = None,
) -> pd.DataFrame:
    """Road minutes between every ordered pair of practices.

    Parameters
    ----------
    G
        Prepared graph (edges carry ``travel_time`` in seconds).
    snapped
        Output of :func:`hubopt.network.snap_practices` (``node``, ``access_s``,
        ``x``, ``y``), indexed by practice code.
    same_site_m
        Practices closer than this (straight line) are in one building: 0 minutes.
    limit_minutes
        Optional bound: routes longer than this are not explored and come back as
        ``inf`` (faster on large networks when only pairs within a cap matter).

    Returns
    -------
    DataFrame indexed and columned by practice code, minutes, origin x destination.
    """
    A, index = graph_to_csr(G)
    nodes = snapped["node"].to_numpy()
    unique_nodes, inverse = np.unique(nodes, return_inverse=True)
    rows = np.array([index[n] for n in unique_nodes])
    limit = np.inf if limit_minutes is None else limit_minutes * 60.0
    # One single-source run per distinct practice node, all targets at once.
    dist = dijkstra(A, directed=True, indices=rows, limit=limit)[:, rows]
    seconds = dist[inverse][:, inverse]
    access = snapped["access_s"].to_numpy()
    seconds = seconds + access[:, None] + access[None, :]
    xy = snapped[["x", "y"]].to_numpy()
    straight = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    seconds[straight <= same_site_m] = 0.0
    np.fill_diagonal(seconds, 0.0)
    minutes = seconds / 60.0
    if limit_minutes is not None:
        minutes[minutes > limit_minutes] = np.inf
    return pd.DataFrame(minutes, index=snapped.index.copy(), columns=snapped.index.copy())


def save_matrix(matrix: pd.DataFrame, path: str | Path) -> None:
    """Write the matrix as a CSV keyed by practice code (``inf`` for unreachable)."""
    matrix.round(3).to_csv(path, index_label="from_to")


def load_matrix(path: str | Path) -> pd.DataFrame:
    """Read a matrix written by :func:`save_matrix`."""
    m = pd.read_csv(path, index_col=0, dtype={"from_to": str})
    m.index = m.index.astype(str)
    m.columns = m.columns.astype(str)
    m.index.name = m.columns.name = None
    return m.astype(float)
