"""Many-to-many shortest paths on a sparse road graph (private helpers of
:mod:`hubopt.roads.matrix`).

Three things make a practice x practice matrix fast on county-sized networks:

1. **Chain contraction.** An unsimplified OSM network is mostly shape points: nodes
   with exactly two neighbours along one road (about 85% of Rutland's drive nodes).
   Every such node that no practice is snapped to is replaced, with its whole chain,
   by one edge per direction whose weight is the chain's sum; dead-end spurs are
   dropped (no shortest path between two other nodes enters them). Distances
   between the remaining nodes are unchanged. All of it is vectorised numpy
   (pointer jumping along chains), no Python loop over nodes.
2. **Chunked sources.** :func:`scipy.sparse.csgraph.dijkstra` returns a dense
   ``sources x nodes`` array; sources go through in chunks sized to a memory budget
   and only the practice columns are kept.
3. **Processes.** scipy's Dijkstra holds the GIL, so large jobs are split over
   worker processes (threads would not help).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from tqdm import tqdm

log = logging.getLogger(__name__)

#: Sources x nodes below which routing stays in this process. A worker process costs
#: 1-2 s to start (it imports the calling program) and scipy routes ~1e7 source-nodes
#: a second, so workers pay only for jobs of ~20 s and more.
PARALLEL_MIN_WORK = 2e8
#: Dense distance rows held at once, per process.
CHUNK_MEMORY_BYTES = 256 * 2**20


def dedupe_edges(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int):
    """Drop self-loops and keep the cheapest of parallel edges; sorted by (u, v)."""
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    w = np.asarray(w, dtype=float)
    ok = (u != v) & np.isfinite(w)
    if not ok.all():
        u, v, w = u[ok], v[ok], w[ok]
    key = u * n + v
    if len(key) > 1 and not (key[1:] > key[:-1]).all():  # not already sorted and unique
        order = np.lexsort((w, key))
        u, v, w, key = u[order], v[order], w[order], key[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        u, v, w = u[first], v[first], w[first]
    return u, v, w


def csr_from_edges(u, v, w, n: int) -> csr_matrix:
    """Sparse adjacency (row = from, column = to) with the cheapest parallel edge.

    Zero-weight edges (two OSM nodes at one point) stay edges: scipy's csgraph
    reads explicit entries of a sparse matrix as edges whatever their value.
    """
    u, v, w = dedupe_edges(u, v, w, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    return csr_matrix((w, v.astype(np.int32), indptr), shape=(n, n))


def contract(A: csr_matrix, keep: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    """Contract degree-2 chains and prune dead ends, never touching ``keep`` nodes.

    Returns the smaller graph and ``new_index``: for each old node its index in the
    new graph, or -1 when it was contracted away. Shortest distances between kept
    nodes are those of ``A``.
    """
    n = A.shape[0]
    coo = A.tocoo()
    u, v, w = dedupe_edges(coo.row, coo.col, coo.data, n)
    alive = np.ones(n, dtype=bool)
    keep = np.asarray(keep, dtype=bool)
    while True:
        u, v, w, removed = _contract_chains(u, v, w, n, keep | ~alive)
        alive[removed] = False
        # Dead ends: a node with at most one neighbour (and not kept) is on no
        # shortest path between two other nodes.
        deg, _ = _neighbours(u, v, n)
        leaf = alive & ~keep & (deg <= 1)
        if not leaf.any():
            break
        alive[leaf] = False
        ok = ~(leaf[u] | leaf[v])
        u, v, w = u[ok], v[ok], w[ok]
    new_index = np.full(n, -1, dtype=np.int64)
    new_index[alive] = np.arange(int(alive.sum()))
    m = int(alive.sum())
    return csr_from_edges(new_index[u], new_index[v], w, m), new_index


def _neighbours(u, v, n):
    """Distinct neighbours (in or out) of every node, and their sum, for edges sorted
    and unique by (u, v): out + in - reciprocal pairs, without building the pairs."""
    key = u * n + v
    rkey = v * n + u
    pos = np.searchsorted(key, rkey)
    recip = (pos < len(key)) & (key[np.minimum(pos, len(key) - 1)] == rkey)
    deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    deg -= np.bincount(u[recip], minlength=n)
    total = np.bincount(u, weights=v, minlength=n) + np.bincount(v, weights=u, minlength=n)
    total -= np.bincount(u[recip], weights=v[recip], minlength=n)
    return deg, total.astype(np.int64)


def _contract_chains(u, v, w, n, fixed):
    """One pass of chain contraction; ``fixed`` nodes are never contracted.

    Edges are (u, v, w), sorted and unique by (u, v), no self-loops. Returns the new
    edges (same form) and the indices of the nodes removed.
    """
    deg, nb_sum = _neighbours(u, v, n)
    chain = (deg == 2) & ~fixed
    cidx = np.nonzero(chain)[0]
    if len(cidx) == 0:
        return u, v, w, cidx
    key = u * n + v
    m = len(u)
    # nxt[e] >= 0: the edge that continues e through its chain head;
    # -2: e ends at a node that is not contracted; -1: e runs into a dead end.
    nxt = np.full(m, -2, dtype=np.int64)
    into = np.nonzero(chain[v])[0]
    x = v[into]
    want = x * n + (nb_sum[x] - u[into])  # x -> its other neighbour
    pos = np.minimum(np.searchsorted(key, want), m - 1)
    nxt[into] = np.where(key[pos] == want, pos, -1)
    acc = w.astype(float)
    last = np.arange(m, dtype=np.int64)
    for _ in range(int(math.log2(max(m, 2))) + 2):
        go = np.nonzero(nxt >= 0)[0]
        if len(go) == 0:
            break
        j = nxt[go]
        acc_new, nxt_new, last_new = acc[go] + acc[j], nxt[j], last[j]
        acc[go], nxt[go], last[go] = acc_new, nxt_new, last_new
    else:  # a ring of chain nodes with no way out: nothing can use it
        nxt[nxt >= 0] = -1
    out = np.nonzero(~chain[u] & (nxt == -2))[0]
    nu, nv, nw = dedupe_edges(u[out], v[last[out]], acc[out], n)
    return nu, nv, nw, cidx


#: Environment variable capping routing processes (a batch's area workers set it to 1:
#: the areas are the parallel work there).
WORKERS_ENV = "HUBOPT_ROUTING_WORKERS"


def default_workers() -> int:
    """Cores this process may use (``os.sched_getaffinity`` where available), or
    the number :data:`WORKERS_ENV` gives."""
    if os.environ.get(WORKERS_ENV, "").isdigit():
        return max(1, int(os.environ[WORKERS_ENV]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def many_to_many(
    A: csr_matrix,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    limit: float = np.inf,
    workers: int | None = None,
    progress: bool | None = None,
    parallel_min_work: float | None = None,
    stats: dict | None = None,
) -> np.ndarray:
    """Shortest distances ``sources x targets`` on ``A`` (inf where unreachable or
    beyond ``limit``), in chunks of sources, over worker processes for large jobs.

    ``stats``, if given, receives ``workers`` (processes used), ``chunks`` and
    ``worker_peak_rss_mb``.
    """
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    n = A.shape[0]
    out = np.full((len(sources), len(targets)), np.inf)
    stats = {} if stats is None else stats
    stats.update(workers=1, chunks=0)
    if len(sources) == 0 or len(targets) == 0:
        return out
    workers = default_workers() if workers is None else max(1, int(workers))
    if parallel_min_work is None:
        parallel_min_work = PARALLEL_MIN_WORK
    chunk = max(1, min(len(sources), CHUNK_MEMORY_BYTES // (8 * max(n, 1))))
    parallel = workers > 1 and len(sources) > 1 and len(sources) * n >= parallel_min_work
    if parallel:
        chunk = max(1, min(chunk, math.ceil(len(sources) / (4 * workers))))
    starts = list(range(0, len(sources), chunk))
    stats["chunks"] = len(starts)
    done = np.zeros(len(starts), dtype=bool)
    bar = tqdm(
        total=len(sources),
        desc="routing",
        unit=" origins",
        disable=None if progress is None else not progress,
    )
    with bar:
        if parallel:
            try:
                _route_in_pool(A, sources, targets, limit, workers, chunk, starts, out, done,
                               bar, stats)  # fmt: skip
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                log.warning(
                    "routing: worker processes failed (%s: %s); continuing in this process. "
                    'A script that calls hubopt must run it under `if __name__ == "__main__":`',
                    type(exc).__name__,
                    exc,
                )
                stats["workers"] = 1
        for k, s in enumerate(starts):
            if done[k]:
                continue
            rows = sources[s : s + chunk]
            out[s : s + len(rows)] = dijkstra(A, directed=True, indices=rows, limit=limit)[
                :, targets
            ]
            bar.update(len(rows))
    return out


def _route_in_pool(A, sources, targets, limit, workers, chunk, starts, out, done, bar, stats):
    methods = multiprocessing.get_all_start_methods()
    # forkserver: no fork of a process that may hold threads (numpy, pyarrow);
    # the default on Python 3.14.
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    n_proc = min(workers, len(starts))
    stats["workers"] = n_proc
    peak = 0.0
    with ProcessPoolExecutor(
        max_workers=n_proc,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(A, targets, limit),
    ) as pool:
        chunks = [sources[s : s + chunk] for s in starts]
        for k, (block, rss) in enumerate(pool.map(_route_chunk, chunks)):
            s = starts[k]
            out[s : s + len(block)] = block
            done[k] = True
            peak = max(peak, rss)
            bar.update(len(block))
    stats["worker_peak_rss_mb"] = round(peak, 1)


_WORKER: dict = {}


def _init_worker(A: csr_matrix, targets: np.ndarray, limit: float) -> None:
    _WORKER.update(A=A, targets=targets, limit=limit)


def _route_chunk(rows: np.ndarray) -> tuple[np.ndarray, float]:
    w = _WORKER
    block = dijkstra(w["A"], directed=True, indices=rows, limit=w["limit"])[:, w["targets"]]
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except ImportError:  # pragma: no cover - not POSIX
        rss = float("nan")
    return block, rss
