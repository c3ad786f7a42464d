"""A gradient over data larger than memory: Dask arrays on a LocalCluster.

The gradient of an L2-regularised logistic-regression loss, written in plain
NumPy, over N x 100 float64 data generated lazily in chunks (never all in
one process: 2 x 10^7 rows are 16 GB), on a LocalCluster of two worker
processes, at three data sizes. Reported per size: the time of chainrule's
lazy gradient (cr.grad, and cr.compile of it), of the hand-written gradient
on the same lazy data, and the peak resident memory of each worker (psutil,
sampled from the workers every 0.1 s while the gradient computes), in
chunks above the idle worker; and, for scale, the gradient on an in-memory
NumPy slice (chainrule and hand-written), scaled up to N rows. The target:
peak memory per worker bounded by a few chunks, whatever N. The peers
(autograd, JAX, PyTorch) cannot take Dask arrays, so there are none here.

    python bench/bench_dask.py --threads 1      # N = 2e6, 6e6, 2e7: writes bench/results_dask.md
    python bench/bench_dask.py --quick          # N = 1e5, 3e5 (small chunks): prints only
    python bench/bench_dask.py --quick --sizes 2e6 4e6 --chunk 250000   # real chunks, prints only

Memory: each worker holds a few 200 MB chunks (8 GiB limit each, 16 GiB in
all, within a 24 GiB machine); the in-memory slice is 400 MB. Duration: the
three sizes are 2.8 x 10^7 rows, each generated and passed over by three
gradients; about 10 minutes on a busy 2-core machine (2 x 10^6 rows took
40 s there for the three gradients at a load of 5), a few minutes on a
quiet one. The script prints the estimate for the remaining sizes after
the first.
"""

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_dask.md"
FEATURES = 100
FULL = {"sizes": (2_000_000, 6_000_000, 20_000_000), "chunk": 250_000, "slice": 500_000}
QUICK = {"sizes": (100_000, 300_000), "chunk": 25_000, "slice": 50_000}
CHUNKS_TARGET = 6  # peak above the idle worker, in chunks of X


def loss(w, X, y):
    """L2-regularised logistic regression, plain NumPy."""
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5e-4 * np.sum(w * w)


def handwritten_grad(w, X, y):
    z = X @ w
    return X.T @ ((1 / (1 + np.exp(-z)) - y) / len(y)) + 1e-4 * w


def lazy_data(n, chunk, seed=0):
    """X (n x FEATURES) and labels y as lazy Dask arrays, generated chunk by chunk."""
    import dask.array as da
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, FEATURES), chunks=(chunk, FEATURES))
    y = (rng.random(n, chunks=chunk) < 0.5).astype(np.float64)
    return X, y


def worker_rss(client):
    """{worker address: resident set in bytes}, asked of every worker."""
    import psutil
    return client.run(lambda: psutil.Process().memory_info().rss)


class PeakMemory:
    """Samples each worker's resident set while the block runs; keeps the maxima."""

    def __init__(self, client, every_s=0.1):
        self.client, self.every_s = client, every_s
        self.peak = {}
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.is_set():
            for worker, r in worker_rss(self.client).items():
                self.peak[worker] = max(self.peak.get(worker, 0), r)
            self._stop.wait(self.every_s)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_size(client, n, chunk, w):
    """Times and worker peaks of each contender's gradient over n rows."""
    import chainrule as cr

    X, y = lazy_data(n, chunk)
    compiled = cr.compile(cr.grad(loss))
    contenders = {
        "chainrule": lambda: cr.grad(loss)(w, X, y),
        "chainrule compiled": lambda: compiled(w, X, y),
        "hand-written": lambda: handwritten_grad(w, X, y),
    }
    client.compute(cr.grad(loss)(w, *lazy_data(2 * chunk, chunk, seed=1))).result()  # warm-up
    client.run(_collect_garbage)
    idle = worker_rss(client)  # conservative: RSS kept by malloc counts for later contenders
    out = {}
    for name, build in contenders.items():
        client.run(_collect_garbage)
        start = time.perf_counter()
        lazy = build()
        build_s = time.perf_counter() - start
        with PeakMemory(client) as memory:
            start = time.perf_counter()
            g = client.compute(lazy).result()
            seconds = time.perf_counter() - start
        rise = max(memory.peak[a] - idle[a] for a in idle)
        out[name] = {"g": g, "build_s": build_s, "s": seconds, "peak": max(memory.peak.values()),
                     "rise": rise}
    for name in ("chainrule", "chainrule compiled"):
        np.testing.assert_allclose(out[name]["g"], out["hand-written"]["g"], rtol=1e-9, atol=1e-13)
    return out


def _collect_garbage():
    import gc
    gc.collect()


def slice_times(args, rows):
    """Round-robin times of the gradient on an in-memory NumPy slice."""
    import dask

    import chainrule as cr

    Xs, ys = (np.asarray(a) for a in dask.compute(*lazy_data(rows, rows)))
    w = np.linspace(-0.1, 0.1, FEATURES)
    np.testing.assert_allclose(cr.grad(loss)(w, Xs, ys), handwritten_grad(w, Xs, ys), rtol=1e-9, atol=1e-13)
    samples, min_s, warmup_s = common.quick_timing(args)
    return common.time_round_robin({"chainrule": lambda: cr.grad(loss)(w, Xs, ys),
                                    "hand-written": lambda: handwritten_grad(w, Xs, ys)},
                                   samples=min(samples, 7), min_sample_s=min_s, warmup_s=warmup_s)


def main(argv=None):
    parser = common.argument_parser(__doc__)
    parser.add_argument("--sizes", type=float, nargs="+", help="numbers of rows (default: "
                        f"{', '.join(f'{s:.0e}' for s in FULL['sizes'])}; --quick: smaller)")
    parser.add_argument("--chunk", type=int, help=f"rows per chunk (default {FULL['chunk']}; "
                        f"--quick: {QUICK['chunk']})")
    args = parser.parse_args(argv)
    common.reexec_with_env(args.malloc, args.threads)
    try:
        import dask
        import distributed
        import psutil  # noqa: F401
    except ImportError as e:
        print(f"bench_dask: needs dask, distributed and psutil ({e}); skipped.")
        return 0
    plan = QUICK if args.quick else FULL
    sizes = [int(s) for s in args.sizes] if args.sizes else list(plan["sizes"])
    chunk = args.chunk or plan["chunk"]
    chunk_bytes = chunk * FEATURES * 8
    load_start = os.getloadavg()
    w = np.linspace(-0.1, 0.1, FEATURES)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=args.threads or 1,
                                       processes=True, host="127.0.0.1", dashboard_address=None,
                                       memory_limit="8GiB")
    client = distributed.Client(cluster)
    results = {}
    try:
        for k, n in enumerate(sizes):
            start = time.perf_counter()
            results[n] = run_size(client, n, chunk, w)
            took = time.perf_counter() - start
            print(f"{n:.1e} rows: {took:.1f} s for the three gradients", flush=True)
            if k == 0 and len(sizes) > 1:
                rest = took * sum(sizes[1:]) / n
                print(f"  (the remaining sizes will take about {rest:.0f} s more)", flush=True)
    finally:
        client.close()
        cluster.close()
    times = slice_times(args, plan["slice"])

    gib = lambda n: n * FEATURES * 8 / 2**30  # noqa: E731
    mib = lambda b: f"{b / 2**20:.0f} MiB"  # noqa: E731
    rows = []
    for n, res in results.items():
        for name, r in res.items():
            rows.append([f"{n:.1e} ({gib(n):.2g} GiB)", name, f"{r['s']:.2f} s",
                         f"{r['build_s'] * 1e3:.0f} ms", mib(r["peak"]),
                         f"{mib(r['rise'])} ({r['rise'] / chunk_bytes:.1f} chunks)"])
    table = common.markdown_table(
        ["rows", "gradient", "time on the cluster", "building it (lazy)", "peak RSS, busiest worker",
         "peak above idle"], rows)
    scale_rows = []
    for name, ts in times.items():
        med = common.median(ts)
        scale_rows.append([name, common.spread(ts)] + [f"{med * n / plan['slice']:.2f} s" for n in sizes])
    scaled = common.markdown_table(
        [f"in-memory slice of {plan['slice']:.0e} rows", "median (IQR, best)"]
        + [f"scaled to {n:.0e} rows" for n in sizes], scale_rows)
    print(table)
    print()
    print(scaled)

    rises = [res["chainrule"]["rise"] for res in results.values()]
    worst = max(rises) / chunk_bytes
    largest = results[sizes[-1]]
    summary = common.summary_section([[
        f"logistic-regression gradient over {gib(sizes[-1]):.2g} GiB of lazy Dask data, 2 workers "
        f"(chunks of {chunk} rows, {mib(chunk_bytes)})",
        f"{largest['chainrule']['s']:.1f} s, peak {mib(largest['chainrule']['peak'])} per worker "
        f"({', '.join(f'{r / chunk_bytes:.1f}' for r in rises)} chunks above idle at "
        f"{', '.join(f'{n:.0e}' for n in sizes)} rows); compiled {largest['chainrule compiled']['s']:.1f} s",
        f"hand-written NumPy on the same Dask data {largest['hand-written']['s']:.1f} s "
        f"(autograd, JAX, PyTorch cannot take Dask arrays)",
        f"peak memory per worker at most {CHUNKS_TARGET} chunks above idle, at every size",
        "yes" if worst <= CHUNKS_TARGET else f"no ({worst:.1f} chunks)"]])
    header = common.report_header(
        "# Dask: a gradient over data larger than memory", common.command_line(__file__), args,
        load_start, "", "- timing: one computation per contender and size on a LocalCluster of 2 "
        "worker processes (8 GiB limit each); worker memory sampled with psutil every 0.1 s; "
        "the in-memory slice timed round-robin", summary=summary)
    text = "\n".join(header) + "\n## Cluster\n\n" + table + "\n\n## In-memory slice, scaled\n\n" \
        + scaled + f"\n\nDask {dask.__version__}, distributed {distributed.__version__}.\n"
    common.write_results(args, RESULTS, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
