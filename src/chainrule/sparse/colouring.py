"""Graph colouring of sparsity patterns, so that one JVP (or VJP, or
Hessian-vector product) per colour gives every nonzero.

* `column_colouring(P)`: columns of one colour share no row (structurally
  orthogonal), so `J @ seed` holds each nonzero once: greedy distance-2
  colouring of the column intersection graph: DSATUR, and unless that met
  the lower bound (the densest row), greedy in smallest-last order
  improved by iterated greedy passes.
* `row_colouring(P)`: the same for rows (for VJPs).
* `star_colouring(P)`: for a symmetric pattern (Hessians), a distance-1
  colouring in which every path on four vertices uses three colours; each
  nonzero H[i, j] is then read directly from row i or, by symmetry, row j.

`recoverable(P, colours)` checks, per nonzero (i, j), that colour(j) occurs
once in row i: the condition for reading it from the compressed matrix.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> tri = sp.diags([1, 1, 1], [-1, 0, 1], shape=(6, 6), dtype=bool).tocsr()
    >>> column_colouring(tri)
    array([1, 2, 0, 1, 2, 0])
"""

import numpy as np


def _adjacency(graph):
    """CSR adjacency lists (indptr, indices) without self loops."""
    g = graph.tocsr().astype(bool)
    g.setdiag(False)
    g.eliminate_zeros()
    g.sort_indices()
    return g.indptr, g.indices


def _greedy(indptr, indices, order, n):
    colours = np.full(n, -1, np.int64)
    mark = []  # mark[c] == v when colour c is forbidden for v
    ip, ix = indptr.tolist(), indices.tolist()
    col = colours.tolist()
    for v in order.tolist():
        for w in ix[ip[v]:ip[v + 1]]:
            c = col[w]
            if c >= 0:
                mark[c] = v
        c = 0
        while c < len(mark) and mark[c] == v:
            c += 1
        if c == len(mark):
            mark.append(-1)
        col[v] = c
    return np.asarray(col, np.int64)


def _smallest_last_order(indptr, indices, n):
    import heapq
    deg = np.diff(indptr).tolist()
    ip, ix = indptr.tolist(), indices.tolist()
    heap = [(d, v) for v, d in enumerate(deg)]
    heapq.heapify(heap)
    removed = [False] * n
    order = []
    while heap:
        d, v = heapq.heappop(heap)
        if removed[v] or d != deg[v]:
            continue
        removed[v] = True
        order.append(v)
        for w in ix[ip[v]:ip[v + 1]]:
            if not removed[w]:
                deg[w] -= 1
                heapq.heappush(heap, (deg[w], w))
    return np.asarray(order[::-1], np.int64)


def _iterated(indptr, indices, colours, n, rounds):
    """Culberson's iterated greedy: recolour class by class (largest colour
    first); never uses more colours, often fewer."""
    for _ in range(rounds):
        k = colours.max() + 1
        order = np.argsort(-colours, kind="stable")
        new = _greedy(indptr, indices, order, n)
        if new.max() + 1 >= k:
            return new if new.max() + 1 == k else colours
        colours = new
    return colours


def _dsatur(indptr, indices, n):
    """Brélaz's DSATUR: colour next the vertex seeing the most distinct
    colours (ties: the larger degree, then the first), with the smallest
    free colour. The colours a vertex sees are the bits of an int; heap keys
    are single ints (saturation, degree, vertex), which compare fast."""
    import heapq
    ip, ix = indptr.tolist(), indices.tolist()
    deg = np.diff(indptr).tolist()
    span = max(deg, default=0) + 1
    rank = [(span - 1 - d) * n + v for v, d in enumerate(deg)]  # ties: larger degree first
    step = span * n  # one more colour seen outranks any degree
    col = [-1] * n
    seen = [0] * n
    heap = list(rank)
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        key = pop(heap)
        sat, r = divmod(key, step)
        v = r % n
        if col[v] >= 0 or -sat != seen[v].bit_count():
            continue  # coloured already, or a stale entry
        free = ~seen[v] & (seen[v] + 1)  # the lowest clear bit
        col[v] = free.bit_length() - 1
        for w in ix[ip[v]:ip[v + 1]]:
            if col[w] < 0 and not seen[w] & free:
                seen[w] |= free
                push(heap, rank[w] - seen[w].bit_count() * step)
    return np.asarray(col, np.int64)


def colour_graph(graph, lower=1, rounds=5):
    """A distance-1 colouring of a symmetric adjacency (sparse matrix): DSATUR,
    then (unless it met the lower bound) greedy in smallest-last order
    improved by iterated greedy passes; the one with fewer colours."""
    n = graph.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    indptr, indices = _adjacency(graph)
    best = _dsatur(indptr, indices, n)
    if best.max() + 1 <= lower:
        return best
    c = _greedy(indptr, indices, _smallest_last_order(indptr, indices, n), n)
    c = _iterated(indptr, indices, c, n, rounds)
    return c if c.max() < best.max() else best


def column_colouring(pattern):
    """Colours of the columns of `pattern` (sparse, m x n): no two columns of
    one colour have a nonzero in the same row. Returns an int array (n,)."""
    p = pattern.tocsr().astype(bool)
    if p.shape[1] == 0:
        return np.zeros(0, np.int64)
    lower = int(np.diff(p.indptr).max()) if p.shape[0] else 1
    pi = p.astype(np.int64)
    return colour_graph(pi.T @ pi, lower=max(lower, 1))


def row_colouring(pattern):
    """Colours of the rows of `pattern`: no two rows of one colour share a column."""
    return column_colouring(pattern.T.tocsr())


def star_colouring(pattern):
    """A star colouring of a symmetric pattern (n x n): adjacent vertices get
    different colours and every path on four vertices has three colours.

    Greedy (Gebremedhin, Manne and Pothen, SIAM Review 2005, Algorithm 4.1).

    Example:
        >>> import scipy.sparse as sp
        >>> arrow = sp.lil_matrix((5, 5), dtype=bool)
        >>> arrow[0, :] = arrow[:, 0] = True
        >>> arrow.setdiag(True)
        >>> int(star_colouring(arrow.tocsr()).max() + 1)
        2
    """
    p = pattern.tocsr().astype(bool)
    n = p.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    indptr, indices = _adjacency(p)
    ip, ix = indptr.tolist(), indices.tolist()
    deg = np.diff(indptr)
    order = np.argsort(-deg, kind="stable").tolist()
    col = [-1] * n
    for v in order:
        forbidden = set()
        for w in ix[ip[v]:ip[v + 1]]:
            cw = col[w]
            if cw >= 0:
                forbidden.add(cw)
            for x in ix[ip[w]:ip[w + 1]]:
                cx = col[x]
                if x == v or cx < 0:
                    continue
                if cw < 0:
                    forbidden.add(cx)
                else:
                    for y in ix[ip[x]:ip[x + 1]]:
                        if y != w and col[y] == cw:
                            forbidden.add(cx)
                            break
        c = 0
        while c in forbidden:
            c += 1
        col[v] = c
    return np.asarray(col, np.int64)


def recoverable(pattern, colours):
    """Per stored entry (i, j) of `pattern` (CSR order): whether colour(j)
    occurs only once among the columns of row i."""
    from . import require_scipy
    sp = require_scipy()
    p = pattern.tocsr().astype(bool)
    p.sort_indices()
    k = int(colours.max()) + 1 if colours.size else 0
    onehot = sp.csr_matrix((np.ones(colours.size, np.int64), (np.arange(colours.size), colours)),
                           shape=(colours.size, k))
    counts = (p.astype(np.int64) @ onehot).toarray() if p.shape[0] * k <= 50_000_000 else None
    rows = np.repeat(np.arange(p.shape[0]), np.diff(p.indptr))
    if counts is not None:
        return counts[rows, colours[p.indices]] == 1
    counts = (p.astype(np.int64) @ onehot).tocsr()
    return np.asarray(counts[rows, colours[p.indices]]).ravel() == 1
