"""A gradient over data larger than memory: Dask arrays on a LocalCluster.

The gradient of an L2-regularised logistic-regression loss, written in plain
NumPy, over N x 100 float64 data that is generated lazily in chunks (never
all in one process: 2 x 10^7 rows are 16 GB), on a LocalCluster of two
worker processes. Reported: the time of the gradient, the peak resident
memory of each worker (sampled while it runs), and, for scale, the same
gradient on an in-memory NumPy slice (chainrule and hand-written), scaled up
to N rows. The target: peak memory per worker bounded by a few chunks,
whatever N.

    python bench/bench_dask.py            # N = 2e7 (16 GB), writes bench/results_dask.md
    python bench/bench_dask.py --quick    # N = 2e6, prints only
"""

import argparse
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_dask.md"
FEATURES, CHUNK_ROWS, SLICE_ROWS = 100, 250_000, 500_000


def loss(w, X, y):
    """L2-regularised logistic regression, plain NumPy."""
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5e-4 * np.sum(w * w)


def handwritten_grad(w, X, y):
    z = X @ w
    return X.T @ ((1 / (1 + np.exp(-z)) - y) / len(y)) + 1e-4 * w


def lazy_data(n, seed=0):
    """X (n x FEATURES) and labels y as lazy Dask arrays, generated chunk by chunk."""
    import dask.array as da
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, FEATURES), chunks=(CHUNK_ROWS, FEATURES))
    y = (rng.random(n, chunks=CHUNK_ROWS) < 0.5).astype(np.float64)
    return X, y


class PeakMemory:
    """Samples each worker's resident set while the block runs; keeps the maxima."""

    def __init__(self, client, every_s=0.2):
        self.client, self.every_s = client, every_s
        self.peak = {}
        self._stop = threading.Event()

    def _sample(self):
        import psutil
        while not self._stop.is_set():
            rss = self.client.run(lambda: psutil.Process().memory_info().rss)
            for worker, r in rss.items():
                self.peak[worker] = max(self.peak.get(worker, 0), r)
            self._stop.wait(self.every_s)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2e6 rows, print only")
    parser.add_argument("--rows", type=float, default=None, help="number of rows (default 2e7)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--write", action="store_true", help="write results even with --quick")
    args = parser.parse_args(argv)
    try:
        import dask
        import distributed
        import psutil  # noqa: F401
    except ImportError as e:
        print(f"bench_dask: needs dask, distributed and psutil ({e}); skipped.")
        return 0
    import chainrule as cr

    n = int(args.rows or (2e6 if args.quick else 2e7))
    w = np.linspace(-0.1, 0.1, FEATURES)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=args.threads,
                                       processes=True, host="127.0.0.1", dashboard_address=None,
                                       memory_limit="8GiB")
    client = distributed.Client(cluster)
    try:
        X, y = lazy_data(n)
        start = time.perf_counter()
        g_lazy = cr.grad(loss)(w, X, y)
        build_s = time.perf_counter() - start
        with PeakMemory(client) as memory:
            start = time.perf_counter()
            g = client.compute(g_lazy).result()
            dask_s = time.perf_counter() - start
        # the same gradient by hand over the same lazy data, for a like-for-like time
        start = time.perf_counter()
        g_hand = client.compute(handwritten_grad(w, X, y)).result()
        hand_dask_s = time.perf_counter() - start
        np.testing.assert_allclose(g, g_hand, rtol=1e-10, atol=1e-14)
    finally:
        client.close()
        cluster.close()
    # an in-memory slice, for scale
    Xs, ys = (np.asarray(a) for a in dask.compute(*lazy_data(SLICE_ROWS)))
    vg = cr.grad(loss)
    times = {"chainrule": [], "hand-written": []}
    for _ in range(3 if args.quick else 7):
        for name, f in (("chainrule", vg), ("hand-written", handwritten_grad)):
            start = time.perf_counter()
            f(w, Xs, ys)
            times[name].append(time.perf_counter() - start)
    scale = n / SLICE_ROWS
    chunk_mb = CHUNK_ROWS * FEATURES * 8 / 2**20
    peaks = sorted(memory.peak.values())
    rows = [
        ("data", f"{n:.2e} x {FEATURES} float64 = {n * FEATURES * 8 / 2**30:.1f} GiB, "
                 f"chunks of {CHUNK_ROWS} rows ({chunk_mb:.0f} MiB)"),
        ("building the lazy gradient (chainrule, no computation)", f"{build_s:.3f} s"),
        ("computing it on the cluster (2 workers)", f"{dask_s:.1f} s"),
        ("hand-written gradient on the same lazy data", f"{hand_dask_s:.1f} s"),
        ("peak resident memory per worker", ", ".join(f"{p / 2**20:.0f} MiB" for p in peaks)
         + f" ({max(peaks) / 2**20 / chunk_mb:.1f} chunks)"),
    ]
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append((f"in-memory NumPy slice ({SLICE_ROWS} rows), {name}, scaled to {n:.1e} rows",
                     f"{med * scale:.1f} s (median of {len(ts)}, {min(ts) * scale:.1f}..{max(ts) * scale:.1f})"))
    table = "| what | figure |\n| --- | --- |\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    print(table)
    if args.quick and not args.write:
        return 0
    bounded = max(peaks) < 8 * chunk_mb * 2**20 + 400 * 2**20
    summary = ("| benchmark | chainrule | peers | target | met |\n| --- | --- | --- | --- | --- |\n"
               f"| logistic-regression gradient over {n * FEATURES * 8 / 2**30:.0f} GiB of lazy Dask data, "
               f"2 workers | {dask_s:.0f} s, peak {max(peaks) / 2**20:.0f} MiB per worker | "
               f"hand-written on Dask {hand_dask_s:.0f} s | peak memory per worker a few chunks | "
               f"{'yes' if bounded else 'no'} |")
    RESULTS.write_text(
        "# Dask: a gradient over data larger than memory\n\n## Summary\n\n" + summary
        + f"\n\n## Full table\n\nPython {platform.python_version()}, NumPy {np.__version__}, "
        f"Dask {dask.__version__}, {args.threads} thread(s) per worker.\n\n"
        f"Command: `python bench/bench_dask.py`\n\n" + table + "\n")
    print(f"wrote {RESULTS.relative_to(RESULTS.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
