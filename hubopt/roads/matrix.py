"""Practice x practice travel minutes: the seam between network and model.

Direction: ``matrix.loc[i, j]`` is the time **from practice i to practice j**, i.e.
rows are origins and columns destinations. The model reads it that way:
``matrix.loc[practice, hub_site]`` is the drive from a practice to its hub site (the
way its patients and staff travel). One-way streets make the two directions differ;
both are kept.

A road time is ``access_i + route(node_i -> node_j) + access_j`` where ``access`` is
the snap distance covered slowly to reach the network
(:data:`hubopt.roads.speeds.ACCESS_KPH`). Practices within ``same_site_m`` of each other
(the same health centre) are 0 apart. Unreachable pairs are ``inf``, never 0.

Every matrix carries metadata in ``matrix.attrs["hubopt"]``: how it was made (road
network or the straight-line fallback), the network's source and OSM date, the
speeds, the snapping. :func:`save_matrix` writes it beside the numbers (CSV plus
``<name>.meta.json``, or inside a Parquet file) and :func:`load_matrix` reads it
back, so a what-if re-solves from a saved matrix without touching the network.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from hubopt.errors import InputError, NetworkError
from hubopt.inputs import BNG
from hubopt.roads import _routing
from hubopt.roads.network import (
    OUTSIDE_M,
    RoadNetwork,
    check_covers,
    from_networkx,
    snap_practices,
)
from hubopt.roads.osm import great_circle_m
from hubopt.roads.speeds import ACCESS_KPH
from hubopt.roads.store import Cut, RoadStore
from hubopt.scenario import STRAIGHT_LINE_CIRCUITY, STRAIGHT_LINE_KPH
from hubopt.text import plural

log = logging.getLogger(__name__)

#: Environment variable capping routing processes (the batch sets it to 1 in its area
#: workers): :data:`hubopt.roads._routing.WORKERS_ENV`.
ROUTING_WORKERS_ENV = _routing.WORKERS_ENV

#: Key of the metadata in ``DataFrame.attrs`` and in Parquet schema metadata.
META_KEY = "hubopt"
ROAD = "road network"
STRAIGHT_LINE = "straight line (estimate, no road network)"
DIRECTION = "row = from (origin), column = to (destination); the model reads practice -> hub site"


def travel_time_matrix(
    net: RoadNetwork | nx.Graph,
    snapped: pd.DataFrame,
    *,
    same_site_m: float = 25.0,
    limit_minutes: float | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    contract: bool = True,
) -> pd.DataFrame:
    """Road minutes between every ordered pair of practices.

    Parameters
    ----------
    net
        Prepared :class:`~hubopt.roads.network.RoadNetwork` (edges carry ``travel_time`` in
        seconds), or a networkx graph whose edges carry ``travel_time``.
    snapped
        Output of :func:`hubopt.roads.network.snap_practices` (``node``, ``access_s``,
        ``x``, ``y``; optional ``snap_m``, ``far``), indexed by practice code.
    same_site_m
        Practices closer than this (straight line) are in one building: 0 minutes.
    limit_minutes
        Optional bound: routes longer than this are not explored and come back as
        ``inf`` (faster on large networks when only pairs within a cap matter; the
        metadata records it).
    workers
        Processes for routing; default: the cores available. Small jobs always run
        in this process.
    progress
        Progress bar on stderr: None shows one only on a terminal.
    contract
        Contract degree-2 chains and dead ends first (same answers, much faster on
        unsimplified OSM networks).

    Returns
    -------
    DataFrame indexed and columned by practice code, minutes, origin x destination,
    with ``attrs["hubopt"]`` metadata.
    """
    if isinstance(net, nx.Graph):
        raw = from_networkx(net)
        if "travel_time" not in raw.edges:
            raise NetworkError(
                "The graph's edges carry no travel_time.", ["call network.prepare_graph first"]
            )
        net = RoadNetwork(raw.nodes, raw.edges, crs=raw.crs, meta=raw.meta, prepared=True)
    pos = net.positions(snapped["node"].to_numpy())
    unique_pos, inverse = np.unique(pos, return_inverse=True)
    A = net.csr("travel_time")
    n_routed = A.shape[0]
    if contract and len(unique_pos) < A.shape[0]:
        keep = np.zeros(A.shape[0], dtype=bool)
        keep[unique_pos] = True
        A, new_index = _routing.contract(A, keep)
        unique_pos = new_index[unique_pos]
        n_routed = A.shape[0]
        log.info("matrix: routing on %d of %d nodes after contraction", n_routed, net.n_nodes)
    limit = np.inf if limit_minutes is None else limit_minutes * 60.0
    stats: dict[str, Any] = {"nodes_routed": int(n_routed), "contracted": bool(contract)}
    dist = _routing.many_to_many(
        A, unique_pos, unique_pos, limit=limit, workers=workers, progress=progress, stats=stats
    )
    out = _practice_minutes(dist[inverse][:, inverse], snapped, same_site_m, limit_minutes)
    out.attrs[META_KEY] = _road_meta(net, snapped, same_site_m, limit_minutes, stats)
    return out


def _practice_minutes(seconds, snapped, same_site_m, limit_minutes) -> pd.DataFrame:
    """Node-to-node seconds (one row and column per practice) as practice minutes:
    plus each end's access time, 0 within one building and on the diagonal."""
    access = snapped["access_s"].to_numpy(dtype=float)
    seconds = seconds + access[:, None] + access[None, :]
    for i, j in _same_site_pairs(snapped[["x", "y"]].to_numpy(dtype=float), same_site_m):
        seconds[i, j] = seconds[j, i] = 0.0
    np.fill_diagonal(seconds, 0.0)
    minutes = seconds / 60.0
    if limit_minutes is not None:
        minutes[minutes > limit_minutes] = np.inf
    return pd.DataFrame(minutes, index=snapped.index.copy(), columns=snapped.index.copy())


#: The first margin (metres) around an area's practices of the part of a road store it
#: routes on; doubled for the sources whose routes it cannot prove.
FIRST_MARGIN_M = 20_000.0
#: How much the margin grows for the sources a part cannot prove.
GROWTH = 2.0
#: Times up to this are proven those of the whole network (more when the cap is
#: longer); longer ones are upper bounds when the area's part cannot prove them.
EXACT_MINUTES = 60.0


def road_matrix(
    store: RoadStore,
    practices: gpd.GeoDataFrame,
    *,
    same_site_m: float = 25.0,
    exact_minutes: float = EXACT_MINUTES,
    limit_minutes: float | None = None,
    snap_warn_m: float = 1000.0,
    source: str = "the road network",
    first_margin_m: float = FIRST_MARGIN_M,
    workers: int | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Road minutes between the practices, routed on the part of ``store`` around
    them, with every time up to ``exact_minutes`` proven equal to the whole network's.

    The part is the rectangle around the practices plus a margin (first
    ``first_margin_m``). A time ``t`` from practice ``u`` to ``v`` found on it is the
    whole network's when ``t <= r(u) + s(v)``, where ``r(u)`` is the time from ``u``
    out of the rectangle by the cheapest way (any route that leaves costs at least
    that to the edge) and ``s(v)`` is the time to come back to ``v`` from outside at
    the network's top speed (the straight line from the rectangle's edge). The rows
    that fail (for times up to ``exact_minutes``) are routed again, only that far,
    on a rectangle with twice the margin, until all pass or the rectangle holds the
    whole network; a longer time keeps the first rectangle's, an upper bound.

    Returns the matrix (minutes, row = from, ``attrs["hubopt"]`` says how it was
    made, with the margins used and how many nodes were read) and the snapping table
    of :func:`hubopt.roads.network.snap_practices`.

    Raises
    ------
    NetworkError
        No road of the store lies near the practices (the extract does not cover
        them), or some are further than :data:`~hubopt.roads.network.OUTSIDE_M` from
        every road.
    """
    pts = practices.geometry.to_crs(BNG)
    px, py = pts.x.to_numpy(), pts.y.to_numpy()
    bbox = (px.min(), py.min(), px.max(), py.max())
    horizon = exact_minutes * 60.0
    metres_a_second = store.max_kph / 3.6
    snapped, cut, margin = _snap_in_store(store, practices, px, py, first_margin_m,
                                          snap_warn_m=snap_warn_m, source=source)  # fmt: skip
    unique_ids, inverse = np.unique(snapped["node"].to_numpy(), return_inverse=True)
    dist = np.full((len(unique_ids), len(unique_ids)), np.inf)
    pending = np.arange(len(unique_ids))
    passes: list[dict[str, Any]] = []
    routing: dict[str, Any] = {}
    while True:
        box = (bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin)
        if passes:  # (the first pass routes on the part the snapping read)
            cut = store.cut(box)
        net = cut.net
        pos = net.positions(unique_ids)
        exits = np.nonzero(np.isfinite(cut.exits))[0]
        keep = np.zeros(net.n_nodes, dtype=bool)
        keep[pos] = keep[exits] = True
        A, new_index = _routing.contract(net.csr("travel_time"), keep)
        targets = np.concatenate([new_index[pos], new_index[exits]])
        limit = np.inf if limit_minutes is None else limit_minutes * 60.0
        if passes:  # the first pass gave every pair an upper bound: prove up to the horizon
            limit = min(limit, horizon * (1 + 1e-9))
        routing = {"nodes_routed": int(A.shape[0]), "contracted": True}
        rows = _routing.many_to_many(
            A, new_index[pos[pending]], targets, limit=limit, workers=workers,
            progress=progress, stats=routing,
        )  # fmt: skip
        k = len(unique_ids)
        found = rows[:, :k]
        out_s = (rows[:, k:] + cut.exits[exits][None, :]).min(axis=1, initial=np.inf)
        xs, ys = net.nodes["x"].to_numpy()[pos], net.nodes["y"].to_numpy()[pos]
        edge_m = np.minimum.reduce([xs - box[0], box[2] - xs, ys - box[1], box[3] - ys])
        back_s = edge_m / metres_a_second
        proven = np.minimum(found, horizon) <= out_s[:, None] + back_s[None, :] + 1e-6
        ok = proven.all(axis=1) | cut.whole
        # later passes route only up to the horizon: beyond it the first pass's upper
        # bound stays (the proof shows the true time is no shorter than the horizon)
        dist[pending] = np.where(np.isfinite(found) | (not passes), found, dist[pending])
        passes.append({"margin_m": margin, "sources": int(len(pending)),
                       "proven": int(ok.sum()), **cut.stats})  # fmt: skip
        if ok.all():  # always, once the rectangle holds every node (no way out of it)
            break
        pending = pending[~ok]
        margin *= GROWTH
    out = _practice_minutes(dist[inverse][:, inverse], snapped, same_site_m, limit_minutes)
    beyond = int(np.isfinite(out.to_numpy()).sum() - (out.to_numpy() <= exact_minutes).sum())
    routing.update(
        method="the area's part of a road store, times up to exact_minutes proven",
        exact_minutes=exact_minutes,
        pairs_beyond_exact=beyond,
        passes=passes,
        nodes_read=int(sum(p["nodes_read"] for p in passes)),
        store_nodes=store.n_nodes,
        max_kph=round(store.max_kph, 1),
    )
    out.attrs[META_KEY] = _road_meta(net, snapped, same_site_m, limit_minutes, routing)
    return out, snapped


def _snap_in_store(
    store: RoadStore,
    practices: gpd.GeoDataFrame,
    px: np.ndarray,
    py: np.ndarray,
    margin: float,
    *,
    snap_warn_m: float,
    source: str,
) -> tuple[pd.DataFrame, Cut, float]:
    """The practices snapped to their nearest roads of ``store`` (:func:`snap_practices`
    on the part around them), that part and its margin, widened until it holds some
    roads and every practice's nearest road lies inside it. A store with no road
    within :data:`~hubopt.roads.network.OUTSIDE_M` of some practice is a NetworkError
    naming them."""
    bbox = (px.min(), py.min(), px.max(), py.max())
    while True:
        cut = store.cut((bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin))
        net = cut.net
        if net.n_nodes == 0:  # none near: how far the practices are from its roads
            far = pd.DataFrame({"snap_m": store.nearest_m(px, py), "x": px, "y": py},
                               index=practices.index)  # fmt: skip
            x0, y0, x1, y1 = store.meta["extent"]
            check_covers((np.array([x0, x1]), np.array([y0, y1])), far, source=source,
                         limit_m=OUTSIDE_M)  # fmt: skip
        else:
            snapped = snap_practices(net, practices, warn_m=snap_warn_m, source=source)
            if not (snapped["snap_m"] > margin).any():  # else a nearer road may lie outside
                return snapped, cut, margin
        margin *= GROWTH


def straight_line_matrix(
    practices: gpd.GeoDataFrame,
    *,
    circuity: float = STRAIGHT_LINE_CIRCUITY,
    speed_kph: float = STRAIGHT_LINE_KPH,
    same_site_m: float = 25.0,
) -> pd.DataFrame:
    """The clearly labelled fallback: great-circle distance x ``circuity`` / ``speed``.

    For quick what-ifs where no road network is at hand. Symmetric, never inf (no
    one-way streets, rivers or islands), and only as good as the two factors: see
    :data:`hubopt.scenario.STRAIGHT_LINE_CIRCUITY` for how the defaults were set. The
    metadata's ``method`` says so, and the pipeline adds a note to every report.
    """
    pts = practices.geometry.to_crs("EPSG:4326")
    lat, lon = pts.y.to_numpy(), pts.x.to_numpy()
    metres = great_circle_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    minutes = metres * circuity / (speed_kph * 1000 / 60)
    minutes[metres <= same_site_m] = 0.0
    np.fill_diagonal(minutes, 0.0)
    out = pd.DataFrame(minutes, index=practices.index.copy(), columns=practices.index.copy())
    out.attrs[META_KEY] = {
        **_base_meta(STRAIGHT_LINE),
        "circuity": circuity,
        "speed_kph": speed_kph,
        "same_site_m": same_site_m,
        "formula": "great-circle metres x circuity / speed; same for both directions",
    }
    return out


def _same_site_pairs(xy: np.ndarray, same_site_m: float) -> np.ndarray:
    """Pairs (i < j) of practices within ``same_site_m`` metres: one building."""
    from scipy.spatial import cKDTree

    ok = np.isfinite(xy).all(axis=1)
    idx = np.nonzero(ok)[0]
    pairs = cKDTree(xy[ok]).query_pairs(same_site_m, output_type="ndarray")
    return idx[pairs] if len(pairs) else np.empty((0, 2), dtype=np.int64)


def _base_meta(method: str) -> dict[str, Any]:
    from hubopt import __version__

    return {
        "format": "hubopt travel-time matrix 1",
        "method": method,
        "units": "minutes",
        "direction": DIRECTION,
        "unreachable": "inf",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "hubopt_version": __version__,
    }


def _road_meta(net, snapped, same_site_m, limit_minutes, routing) -> dict[str, Any]:
    m = net.meta
    network = {
        k: m[k]
        for k in (
            "source",
            "source_kind",
            "reader",
            "osm_timestamp",
            "created_with",
            "source_bytes",
            "source_sha256",
            "source_modified",
            "store",
            "store_key",
            "read_filter",
            "download",
            "nodes_read",
            "nodes_drivable",
            "nodes",
            "edges",
        )
        if m.get(k) is not None
    }
    snap: dict[str, Any] = {"access_kph": ACCESS_KPH}
    if "snap_m" in snapped:
        s = snapped["snap_m"].astype(float)
        snap["max_snap_m"] = round(float(s.max()), 1) if len(s) else 0.0
        snap["median_snap_m"] = round(float(s.median()), 1) if len(s) else 0.0
        snap["snap_m"] = {str(k): round(float(v), 1) for k, v in s.items()}
    if "far" in snapped:
        snap["far"] = [str(k) for k in snapped.index[snapped["far"].astype(bool)]]
    return {
        **_base_meta(ROAD),
        "network": network,
        "speeds_kph": m.get("speeds_kph"),
        "fallback_kph": m.get("fallback_kph"),
        "maxspeed_tagged_share": m.get("maxspeed_tagged_share"),
        "same_site_m": same_site_m,
        "limit_minutes": limit_minutes,
        "snapping": snap,
        "routing": routing,
    }


def road_notes(matrix: pd.DataFrame) -> list[str]:
    """Plain sentences on how a :func:`road_matrix` was routed: on the area's part of
    a larger network, and the times that are upper bounds only."""
    meta = matrix_meta(matrix)
    routing = meta.get("routing") or {}
    passes = routing.get("passes")
    if not passes:
        return []
    last = passes[-1]
    net = meta.get("network", {})
    name = Path(str(net.get("source", "?"))).name
    notes = []
    if last["nodes"] < routing.get("store_nodes", 0):
        notes.append(
            f"road minutes on the area's part of {name}: the practices' extent plus "
            f"{last['margin_m'] / 1000:g} km ({last['nodes']:,} of "
            f"{routing['store_nodes']:,} road nodes); every time up to "
            f"{routing['exact_minutes']:g} min is proven the same as on the whole network"
        )
    beyond = routing.get("pairs_beyond_exact", 0)
    if beyond:
        notes.append(
            f"{plural(beyond, 'pair')} of practices are over {routing['exact_minutes']:g} "
            "min apart by road; those times are upper bounds (a faster route may leave "
            "the part of the network routed)"
        )
    return notes


def for_practices(matrix: pd.DataFrame, practices: pd.DataFrame) -> pd.DataFrame:
    """The rows and columns of a (saved) matrix for ``practices``, in their order.

    Practices the matrix has no times for are an :class:`~hubopt.errors.InputError`
    (the matrix was made for another set of practices); extra ones are left out.
    """
    codes = [str(c) for c in practices.index]
    missing = [c for c in codes if c not in matrix.index]
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise InputError(
            f"The saved matrix has no travel times for {len(missing)} of the "
            f"{plural(len(codes), 'practice')}.",
            [
                f"missing: {', '.join(missing[:10])}{more}",
                "the matrix was made for other practices: remove [network] matrix to "
                "compute travel times again from the road network",
            ],
        )
    out = matrix.loc[codes, codes].copy()
    out.index = practices.index.copy()
    out.columns = practices.index.copy()
    out.attrs = dict(matrix.attrs)
    return out


def matrix_meta(matrix: pd.DataFrame) -> dict[str, Any]:
    """The metadata of a matrix (empty dict if it has none)."""
    return dict(matrix.attrs.get(META_KEY) or {})


def describe_source(matrix: pd.DataFrame) -> str:
    """One line for reports: how the travel times were made."""
    meta = matrix_meta(matrix)
    method = meta.get("method")
    if method == STRAIGHT_LINE:
        return (
            f"STRAIGHT-LINE ESTIMATE, not road travel: great-circle distance x "
            f"{meta.get('circuity')} / {meta.get('speed_kph')} km/h"
        )
    if method == ROAD:
        net = meta.get("network", {})
        when = net.get("osm_timestamp")
        return (
            f"road network {Path(str(net.get('source', '?'))).name}"
            + (f" (OSM {when})" if when else "")
            + f", {net.get('nodes', 0):,} nodes"
        )
    return "travel times of unknown origin (no metadata)"


# ------------------------------------------------------------------ save / load


def meta_path(path: str | Path) -> Path:
    """Where :func:`save_matrix` puts a CSV matrix's metadata: ``<stem>.meta.json``."""
    path = Path(path)
    return path.with_name(path.name.removesuffix(".csv") + ".meta.json")


def save_matrix(matrix: pd.DataFrame, path: str | Path, *, meta: dict | None = None) -> Path:
    """Write the matrix keyed by practice code, with its metadata.

    ``.parquet``: one file, minutes at full precision, metadata in the schema.
    Anything else: CSV (minutes to 3 decimals, ``inf`` for unreachable, first column
    ``from_to``) plus :func:`meta_path` JSON. Returns the path written.
    """
    path = Path(path)
    meta = matrix_meta(matrix) if meta is None else meta
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = matrix.copy()
        frame.attrs = {}
        frame.columns = [str(c) for c in frame.columns]
        frame.index = frame.index.astype(str)
        table = pa.Table.from_pandas(frame.rename_axis("from_to").reset_index(),
                                     preserve_index=False)  # fmt: skip
        md = dict(table.schema.metadata or {})
        md[META_KEY.encode()] = json.dumps(meta, default=str).encode()
        pq.write_table(table.replace_schema_metadata(md), path)
        return path
    matrix.round(3).to_csv(path, index_label="from_to")
    if meta:
        meta_path(path).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return path


def load_matrix(path: str | Path) -> pd.DataFrame:
    """Read a matrix written by :func:`save_matrix` (CSV or Parquet), checking it.

    Raises :class:`~hubopt.errors.InputError` when the file is missing, not square,
    has duplicate or mismatched practice codes, or holds non-numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Matrix file {path} not found.", ["check the path"])
    meta: dict[str, Any] = {}
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(META_KEY.encode())
            meta = json.loads(raw) if raw else {}
            m = table.to_pandas().set_index("from_to")
        else:
            m = pd.read_csv(path, index_col=0, dtype={0: str})
            mp = meta_path(path)
            if mp.is_file():
                meta = json.loads(mp.read_text(encoding="utf-8"))
    except (ValueError, KeyError, OSError) as exc:
        raise InputError(
            f"Could not read the matrix {path}.", [f"{type(exc).__name__}: {exc}"]
        ) from None
    m.index = m.index.astype(str)
    m.columns = m.columns.astype(str)
    m.index.name = m.columns.name = None
    problems = []
    if m.index.duplicated().any():
        problems.append(f"repeated row codes: {sorted(set(m.index[m.index.duplicated()]))}")
    if set(m.index) != set(m.columns) or len(m.index) != len(m.columns):
        problems.append(
            "rows and columns must list the same practice codes (row = from, column = to)"
        )
    if not problems:
        m = m[list(m.index)]
        try:
            m = m.astype(float)
        except (TypeError, ValueError):
            problems.append("every cell must be a number of minutes or inf")
    if problems:
        raise InputError(f"The matrix {path} has problems:", problems)
    if meta:
        m.attrs[META_KEY] = meta
    return m
