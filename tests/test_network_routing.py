"""The many-to-many routine: chain contraction, chunking and worker processes give
exactly the answers of plain Dijkstra on the whole graph."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from hubopt.roads import _routing


def road_like(seed: int, J: int = 6):
    """A small junction grid whose roads carry 0-4 shape points, with dead-end spurs,
    some one-way roads, some zero-length edges and a detached ring."""
    rng = np.random.default_rng(seed)
    u, v, w = [], [], []
    n = J * J

    def add(a, b, t, two_way=True):
        u.append(a)
        v.append(b)
        w.append(t)
        if two_way:
            u.append(b)
            v.append(a)
            w.append(t * rng.uniform(0.8, 1.2))

    for i in range(J):
        for j in range(J):
            for di, dj in ((0, 1), (1, 0)):
                if i + di >= J or j + dj >= J or rng.random() < 0.2:
                    continue
                a, b = i * J + j, (i + di) * J + j + dj
                one_way = rng.random() < 0.15
                chain = [a]
                for _ in range(rng.integers(0, 5)):
                    chain.append(n)
                    n += 1
                chain.append(b)
                for x, y in zip(chain[:-1], chain[1:], strict=True):
                    add(x, y, rng.choice([0.0, rng.uniform(1, 30)], p=[0.05, 0.95]), not one_way)
                if rng.random() < 0.3:  # a spur of 1-3 nodes off the road
                    tip = chain[len(chain) // 2]
                    for _ in range(rng.integers(1, 4)):
                        add(tip, n, rng.uniform(1, 20))
                        tip = n
                        n += 1
    ring = list(range(n, n + 4))  # a ring with no way in or out
    n += 4
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        add(a, b, 5.0, two_way=False)
    return _routing.csr_from_edges(np.array(u), np.array(v), np.array(w), n), rng


@pytest.mark.parametrize("seed", range(12))
def test_contraction_keeps_every_distance(seed):
    A, rng = road_like(seed)
    n = A.shape[0]
    terminals = rng.choice(n, size=8, replace=False)  # some on chains, spurs or the ring
    keep = np.zeros(n, dtype=bool)
    keep[terminals] = True
    B, new_index = _routing.contract(A, keep)
    assert B.shape[0] < n and (new_index[terminals] >= 0).all()
    ref = dijkstra(A, indices=terminals)[:, terminals]
    got = dijkstra(B, indices=new_index[terminals])[:, new_index[terminals]]
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert (np.isinf(got) == np.isinf(ref)).all()


def test_contraction_of_a_plain_path():
    """0 - 1 - 2 - 3 - 4 two-way, 1 s a hop; keep 0 and 4: one edge each way, 4 s."""
    u = np.array([0, 1, 2, 3, 1, 2, 3, 4])
    v = np.array([1, 2, 3, 4, 0, 1, 2, 3])
    A = _routing.csr_from_edges(u, v, np.ones(8), 5)
    keep = np.array([True, False, False, False, True])
    B, idx = _routing.contract(A, keep)
    assert B.shape == (2, 2) and B.nnz == 2
    assert B[idx[0], idx[4]] == 4 and B[idx[4], idx[0]] == 4


def test_parallel_edges_keep_the_cheapest():
    A = _routing.csr_from_edges(np.array([0, 0, 1]), np.array([1, 1, 0]), [5.0, 3.0, 0.0], 2)
    assert A[0, 1] == 3 and A.nnz == 2
    d = dijkstra(A, indices=[1])
    assert d[0, 0] == 0  # a zero-time edge is an edge


def test_chunks_workers_and_limit_agree(monkeypatch):
    """Tiny chunks, two worker processes and a limit give plain Dijkstra's answers."""
    A, rng = road_like(3, J=8)
    src = rng.choice(A.shape[0], size=10, replace=False)
    ref = dijkstra(A, indices=src)[:, src]
    monkeypatch.setattr(_routing, "CHUNK_MEMORY_BYTES", 8 * A.shape[0] * 3)  # 3 rows a chunk
    stats: dict = {}
    serial = _routing.many_to_many(A, src, src, workers=1, stats=stats)
    np.testing.assert_array_equal(serial, ref)
    assert stats == {"workers": 1, "chunks": 4}
    stats = {}
    par = _routing.many_to_many(A, src, src, workers=2, parallel_min_work=0, stats=stats)
    np.testing.assert_array_equal(par, ref)
    assert stats["workers"] == 2 and stats["worker_peak_rss_mb"] > 0
    lim = _routing.many_to_many(A, src, src, limit=20.0)
    np.testing.assert_array_equal(lim, np.where(ref <= 20.0, ref, np.inf))


def test_progress_bar_reaches_the_total(capsys):
    A, rng = road_like(1)
    src = rng.choice(A.shape[0], size=5, replace=False)
    _routing.many_to_many(A, src, src, progress=True)
    err = capsys.readouterr().err
    assert "routing" in err and "5/5" in err
