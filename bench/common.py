"""Shared helpers for the benchmark scripts: timing, peak memory, machine
description and Markdown tables.

Timing is round-robin: every sample of every contender is taken in turn, so
drift on a shared machine (another process waking up, frequency changes)
spreads over all of them instead of biasing whichever ran during it.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# glibc malloc tuning applied to the whole benchmark process (and its
# children) before any allocation: keep freed memory mapped instead of
# handing it back to the kernel, so a fresh 2 MB temporary costs no page
# faults in any library. Same settings for every contender.
MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(64 * 2**20),
    "MALLOC_TRIM_THRESHOLD_": str(2**30),
    "MALLOC_TOP_PAD_": str(64 * 2**20),
}


def thread_env(threads):
    """Environment limiting NumPy's BLAS, OpenMP (PyTorch) and XLA (JAX) to
    `threads` threads each."""
    env = {k: str(threads) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if threads == 1:
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return env


def reexec_with_env(malloc=True, threads=None):
    """Restart this script with MALLOC_ENV (and thread limits) set, once.

    glibc and the BLAS read these variables at start-up, so they cannot be
    set from inside the running process.
    """
    if os.environ.get("BENCH_ENV_SET") == "1" or not (malloc or threads):
        return
    env = dict(os.environ, BENCH_ENV_SET="1")
    if malloc:
        env.update(MALLOC_ENV)
    if threads:
        env.update(thread_env(threads))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def median(xs):
    """The median of a list of numbers.

    Example:
        >>> median([3, 1, 2])
        2
    """
    return statistics.median(xs)


# --------------------------------------------------------------------------
# disturbance: CPU time used by other processes during a measurement

# a sample is disturbed when other processes used more than this share of
# one core during it (beyond the counters' resolution)
DISTURBED_SHARE = float(os.environ.get("BENCH_DISTURBED_SHARE", 0.1))
_TICK = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


def _busy_seconds():
    """CPU seconds all processors have spent busy since boot (Linux
    /proc/stat; None elsewhere)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) * _TICK


class CpuWatch:
    """Measures this process's CPU time while it ran (all its threads, so a
    library's worker pool counts as ours) and the CPU time other processes
    used: every processor's busy time (/proc/stat) minus ours.

    Example:
        >>> with CpuWatch() as watch:
        ...     pass
        >>> watch.others_s >= 0 or watch.others_s is None
        True
    """

    def __enter__(self):
        self.busy0, self.own0, self.wall0 = _busy_seconds(), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        busy1, own1 = _busy_seconds(), time.process_time()
        self.wall_s = time.perf_counter() - self.wall0
        self.own_s = own1 - self.own0
        if self.busy0 is None or busy1 is None:
            self.others_s = None
        else:
            self.others_s = max(0.0, (busy1 - self.busy0) - (own1 - self.own0))
        return False

    @property
    def disturbed(self):
        """Whether this process was off the CPU for more than DISTURBED_SHARE
        of the time (its CPU time, precise to the nanosecond, fell short of
        the wall time: a benchmark computes all along, so another process ran
        instead), or other processes used more than DISTURBED_SHARE of a core
        beyond /proc/stat's resolution (one tick per processor at each end)."""
        if self.own_s < (1 - DISTURBED_SHARE) * self.wall_s:
            return True
        if self.others_s is None:
            return False
        slack = 2 * _TICK * (os.cpu_count() or 1)
        return self.others_s > DISTURBED_SHARE * self.wall_s + slack


class Samples(list):
    """Per-call seconds of one contender, one entry per sample (a list, so
    median(), min() work on it), with `disturbed`: one flag per sample, true
    when other processes used the CPU during it even after the retries, and
    `retries`: how many samples were taken again because of that.

    Example:
        >>> s = Samples([1.0, 2.0, 3.0], disturbed=[False, True, False], retries=2)
        >>> s.n_disturbed, median(s), s.clean()
        (1, 2.0, [1.0, 3.0])
    """

    def __init__(self, values=(), disturbed=None, retries=0):
        super().__init__(values)
        self.disturbed = list(disturbed) if disturbed is not None else [False] * len(self)
        self.retries = retries

    @property
    def n_disturbed(self):
        return sum(self.disturbed)

    def clean(self):
        """The samples no other process disturbed (all of them if none is clean)."""
        kept = [t for t, d in zip(self, self.disturbed) if not d]
        return kept or list(self)


def quartiles(xs):
    """(first quartile, median, third quartile) of a list of numbers.

    Example:
        >>> quartiles([1, 2, 3, 4, 5])
        (2.0, 3, 4.0)
    """
    xs = sorted(xs)
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, statistics.median(xs), q3


def spread(samples, unit=None, scale=1.0):
    """Median and interquartile range of `samples` as text, with the number
    of disturbed samples when there are any: '2.84 ms (IQR 2.80-2.90 ms,
    min 2.77 ms; 2/21 disturbed)'. `scale` multiplies every figure (say
    1e6 / ops for microseconds per op, with unit=lambda v: f"{v:.2f} us").

    Example:
        >>> spread(Samples([1e-3, 2e-3, 3e-3, 4e-3, 5e-3], disturbed=[True] + [False] * 4))
        '3 ms (IQR 2-4 ms, min 1 ms; 1/5 disturbed)'
    """
    fmt = unit or format_seconds
    q1, med, q3 = quartiles([t * scale for t in samples])
    low = min(samples) * scale
    text = f"{fmt(med)} (IQR {_strip_unit(fmt(q1), fmt(q3))}-{fmt(q3)}, min {fmt(low)}"
    n_bad = getattr(samples, "n_disturbed", 0)
    return text + (f"; {n_bad}/{len(samples)} disturbed)" if n_bad else ")")


def _strip_unit(text, other):
    """text without its unit when `other` has the same one ('2 ms', '4 ms' -> '2')."""
    value, _, unit = text.partition(" ")
    return value if unit and other.endswith(" " + unit) else text


def ratio_spread(samples, reference):
    """The per-round ratios samples[i] / reference[i] (round-robin samples
    taken side by side are paired): median with IQR, as text '1.05x (IQR
    1.03-1.08)'. Pairing cancels drift that hits both contenders.

    Example:
        >>> ratio_spread([2.0, 2.2, 1.8], [1.0, 1.0, 1.0])
        '2.00x (IQR 1.90-2.10)'
    """
    ratios = [a / b for a, b in zip(samples, reference)]
    q1, med, q3 = quartiles(ratios)
    return f"{med:.2f}x (IQR {q1:.2f}-{q3:.2f})"


def paired_ratio(samples, reference):
    """The median of the per-round ratios samples[i] / reference[i].

    Example:
        >>> paired_ratio([2.0, 2.2, 1.8], [1.0, 1.0, 1.0])
        2.0
    """
    return statistics.median(a / b for a, b in zip(samples, reference))


def aa_band(control, reference):
    """The noise band of a paired median ratio, from an A/A control (two
    contenders known to be equal, timed in the same rounds): the larger of
    two standard errors of the control's median per-round ratio (its
    standard deviation estimated as IQR / 1.349, the standard error of a
    median as 1.2533 sd / sqrt(rounds)) and the control's own distance from
    1 (a bias that no spread shows, such as the place in the round). A
    paired median within target + band cannot be told from the target at
    this run's resolution; one beyond it can. It shrinks with quieter
    samples and more rounds, so a genuinely slower contender fails.

    Example:
        >>> round(aa_band([1.0, 1.02, 0.98, 1.01, 0.99], [1.0] * 5), 4)
        0.0166
    """
    ratios = [a / b for a, b in zip(control, reference)]
    q1, med, q3 = quartiles(ratios)
    standard_error = 1.2533 * (q3 - q1) / 1.349 / len(ratios) ** 0.5
    return max(2 * standard_error, abs(med - 1.0))


# set by the parser of `argument_parser` from --quick: a quick run takes no
# sample again (it is a smoke test, its figures are rough anyway)
QUICK = False


def time_round_robin(fns, samples=15, min_sample_s=0.05, warmup_s=0.3, pause_s=0.005, retries=None):
    """Seconds per call of each callable in `fns` (name -> no-argument callable).

    Each is first warmed up for about warmup_s (caches, allocator pools, JIT
    compilation); then it is called in batches long enough to last
    min_sample_s, one batch per contender per round, `samples` rounds; each
    batch follows a pause of pause_s and one untimed call. A batch during
    which other processes used the CPU (CpuWatch) is taken again, up to
    `retries` times (default 2, none in a --quick run); if it is still
    disturbed it is kept and flagged.
    Returns name -> Samples (a list of per-call times, one per sample, with
    the disturbed flags).

    Example:
        >>> times = time_round_robin({"noop": lambda: None}, samples=3, min_sample_s=0.001)
        >>> len(times["noop"]), len(times["noop"].disturbed)
        (3, 3)
    """
    if retries is None:
        retries = 0 if QUICK else 2
    batch = {}
    for name, fn in fns.items():
        start, calls = time.perf_counter(), 0
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed > warmup_s and calls >= 2:
                break
        batch[name] = max(1, int(min_sample_s / (elapsed / calls)))
    times = {name: Samples() for name in fns}
    for _ in range(samples):
        for name, fn in fns.items():
            n, record = batch[name], times[name]
            for attempt in range(retries + 1):
                # let the previous contender's worker threads stop spinning
                # (OpenMP and XLA pools busy-wait after work), then re-warm
                time.sleep(pause_s)
                fn()
                with CpuWatch() as watch:
                    start = time.perf_counter()
                    for _ in range(n):
                        fn()
                    elapsed = time.perf_counter() - start
                if not watch.disturbed:
                    break
                if attempt < retries:
                    record.retries += 1
            record.append(elapsed / n)
            record.disturbed.append(watch.disturbed)
    return times


def disturbance_note(times):
    """One line saying how many samples were retried or stayed disturbed.

    Example:
        >>> disturbance_note({"a": Samples([1.0], [False])})
        'no sample was disturbed by other processes'
    """
    retried = sum(getattr(t, "retries", 0) for t in times.values())
    bad = sum(getattr(t, "n_disturbed", 0) for t in times.values())
    total = sum(len(t) for t in times.values())
    if not retried and not bad:
        return "no sample was disturbed by other processes"
    return (f"{retried} samples taken again because other processes used the CPU during them; "
            f"{bad} of {total} still disturbed (flagged in the tables)")


def first_calls(fns, reference):
    """Call every contender in `fns` (name -> callable) once, untimed: JAX's
    jit compiles there and missing rules surface. A contender that raises is
    removed from `fns` and gets a 'failed: ...' note, except the references
    (names starting with `reference`, a string or a tuple of strings: the
    hand-written ones), whose errors propagate.

    Returns (name -> result, name -> seconds of the first call, name -> note).

    Example:
        >>> fns = {"ok": lambda: 1, "bad": lambda: 1 / 0}
        >>> results, seconds, notes = first_calls(fns, "ok")
        >>> results, list(fns), notes["bad"]
        ({'ok': 1}, ['ok'], 'failed: ZeroDivisionError: division by zero')
    """
    results, seconds, notes = {}, {}, {}
    for name, fn in list(fns.items()):
        start = time.perf_counter()
        try:
            results[name] = fn()
        except Exception as e:  # noqa: BLE001  (reported, not hidden)
            if name.startswith(reference):
                raise
            notes[name] = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:150]}"
            del fns[name]
            continue
        seconds[name] = time.perf_counter() - start
    return results, seconds, notes


def as_float_array(x):
    """x (a NumPy, PyTorch or JAX value) as a float64 NumPy array.

    Example:
        >>> as_float_array([1, 2]).dtype
        dtype('float64')
    """
    import numpy as np
    return np.asarray(x.detach() if hasattr(x, "detach") else x, dtype=float)


# --------------------------------------------------------------------------
# the peer libraries, set up alike in every script

def setup_torch():
    """PyTorch, with its thread count matched to NumPy's BLAS (ImportError
    when it is not installed, and in a --quick run: a smoke run of two
    minutes cannot afford its import in every script).

    Example:
        >>> torch = setup_torch()  # doctest: +SKIP
    """
    if QUICK:  # importing PyTorch alone costs about 3 s of CPU in each script
        raise ImportError("PyTorch is left out of --quick runs")
    import torch
    torch.set_num_threads(blas_threads())
    return torch


def setup_jax():
    """JAX on the CPU in float64 (ImportError when it is not installed).

    Example:
        >>> jax = setup_jax()  # doctest: +SKIP
    """
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


def optional(builder, *args):
    """builder(*args), or {} when it raises ImportError (a peer library that
    is not installed): the contenders a peer's builder returns are left out.

    Example:
        >>> def peer():
        ...     import no_such_library_here
        >>> optional(peer), optional(lambda: {"hand": 1})
        ({}, {'hand': 1})
    """
    try:
        return builder(*args)
    except ImportError:
        return {}


def tree_map(f, tree):
    """f applied to every leaf of nested tuples and lists (the structure kept).

    Example:
        >>> tree_map(lambda v: v * 2, (1, [2, 3]))
        (2, [4, 6])
    """
    if isinstance(tree, (tuple, list)):
        return type(tree)(tree_map(f, t) for t in tree)
    return f(tree)


def to_torch(torch, tree):
    """Every NumPy array in nested tuples and lists as a PyTorch tensor
    sharing its memory (made contiguous first where it is not).

    Example:
        >>> import numpy as np
        >>> torch = setup_torch()  # doctest: +SKIP
        >>> to_torch(torch, (np.ones(2), [np.zeros((2, 2)).T]))[1][0].shape  # doctest: +SKIP
        torch.Size([2, 2])
    """
    import numpy as np
    return tree_map(lambda t: torch.from_numpy(np.ascontiguousarray(t)), tree)


def available(name, modules):
    """Whether contender `name` can run: its module (from `modules`, name ->
    module; none needed when absent) imports.

    Example:
        >>> available("hand-written NumPy", {"PyTorch": "torch"})
        True
    """
    module = modules.get(name)
    return module is None or module_available(module)


# --------------------------------------------------------------------------
# memory

def _status():
    """VmRSS and VmHWM (peak resident set) of this process, in bytes."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def peak_rss_increase(fn):
    """Bytes by which the resident set's peak during fn() exceeds the
    resident set just before it (Linux: resets the peak via clear_refs).

    Keeps fn's result alive until the peak is read, so outputs count.
    """
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current VmRSS
    before = _status()["VmRSS"]
    result = fn()
    peak = _status()["VmHWM"]
    del result
    return peak - before


def malloc_trim():
    """Give freed heap pages back to the kernel (glibc), so that memory a
    warm-up call freed is not counted as already resident."""
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def live_peak(fn):
    """Peak bytes allocated and still live at once during fn() (tracemalloc:
    Python objects and NumPy's array data, which NumPy reports to
    tracemalloc in its own domain; not memory other libraries allocate
    themselves, such as PyTorch's or XLA's buffers). Blocks allocated before
    the call do not count; fn's result is kept until the peak is read.

    Example:
        >>> import numpy as np
        >>> live_peak(lambda: np.ones(2**20)) >= 8 * 2**20
        True
    """
    import gc
    import tracemalloc
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak


def memory_peaks(fn, traced=True):
    """{'peak': the resident set's peak increase (bytes) during one call of
    fn, 'live': the live peak (live_peak) during another, or None without
    `traced`}, after one untimed call (JIT compilers compile there) and a
    malloc_trim. The live peak is what the program holds; the resident
    peak also counts where glibc happened to place the blocks (a freed
    block reused or a fresh page touched), which moves by a block or two
    with unrelated changes."""
    fn()
    malloc_trim()
    peak = peak_rss_increase(fn)
    return {"peak": peak, "live": live_peak(fn) if traced else None}


def memory_row(label, mem, hand, ours, target, tolerance=0.0):
    """The summary row `label` of a peak-memory benchmark (`mem`: name ->
    memory_peaks' dict), `ours` over `hand`, judged on the live
    peak (bytes the program holds at once, common.live_peak), with the
    resident-set peak beside it: the resident peak also counts where glibc
    places blocks in freed pages, which moves by a 1000 x 1000 block with
    unrelated changes. Peers that allocate outside tracemalloc's sight
    (PyTorch, XLA) are compared on the resident peak only. `tolerance`:
    what rounds to the target in the figure shown.

    Example:
        >>> mem = {"h": {"peak": 100, "live": 90}, "c": {"peak": 108, "live": 89}}
        >>> memory_row("m", mem, "h", "c", 1.0)[1:]
        ['0.99x live peak (0 MiB); RSS peak 1.08x (0 MiB)', '(none installed)', 'at most 1.0x on the live peak (tracemalloc; RSS beside it)', 'yes']
    """
    def ratios(name):
        m, ref = mem[name], mem[hand]
        rss = f"RSS {m['peak'] / ref['peak']:.2f}x"
        return (f"{m['live'] / ref['live']:.2f}x live ({rss})" if m.get("live") and ref.get("live")
                else rss + " (not traced)")
    m, ref = mem[ours], mem[hand]
    rss = m["peak"] / ref["peak"]
    if m.get("live") and ref.get("live"):
        r = m["live"] / ref["live"]
        cell = (f"{r:.2f}x live peak ({m['live'] / 2**20:.0f} MiB); "
                f"RSS peak {rss:.2f}x ({m['peak'] / 2**20:.0f} MiB)")
    else:
        r, cell = rss, f"{rss:.2f}x RSS peak ({m['peak'] / 2**20:.0f} MiB; not traced)"
    peers = ", ".join(f"{n} {ratios(n)}" for n in mem if n not in (hand, ours))
    return [label, cell, peers or "(none installed)",
            f"at most {target}x on the live peak (tracemalloc; RSS beside it)", met(r, target + tolerance)]


def in_fresh_process(script, args, env=None, timeout=600):
    """Run `python script *args` in a new interpreter; its last stdout line
    is parsed as JSON and returned (None, with stderr shown, if it failed)."""
    proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        sys.stderr.write(f"child {args} failed:\n{proc.stderr[-2000:]}\n")
        return None
    return json.loads(lines[-1])


def in_fresh_processes(script, names):
    """name -> the JSON that `script --memory-child name` prints, each run in
    its own interpreter; contenders whose child failed are left out."""
    results = {}
    for name in names:
        found = in_fresh_process(script, ["--memory-child", name])
        if found is not None:
            results[name] = found
    return results


# --------------------------------------------------------------------------
# the machine

def _openblas_via_ctypes():
    """Core name, thread count and config of an OpenBLAS already loaded in
    this process (what threadpoolctl reports), found through /proc/self/maps."""
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line})
    for lib in libs:
        handle = ctypes.CDLL(lib)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "")):
            try:
                corename = getattr(handle, f"{prefix}get_corename{suffix}")
                config = getattr(handle, f"{prefix}get_config{suffix}")
                threads = getattr(handle, f"{prefix}get_num_threads{suffix}")
            except AttributeError:
                continue
            corename.restype = config.restype = ctypes.c_char_p
            return (f"OpenBLAS {config().decode()}, kernel {corename().decode()}, "
                    f"{threads()} threads ({Path(lib).name})")
    return None


def _load_blas():
    """Make sure NumPy's BLAS is loaded (and so listed in /proc/self/maps)."""
    import numpy as np
    np.ones((2, 2)) @ np.ones((2, 2))


def blas_description():
    """One line naming NumPy's BLAS, its kernel and its thread count."""
    _load_blas()
    try:
        from threadpoolctl import threadpool_info
        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            i = infos[0]
            return (f"{i['internal_api']} {i.get('version')}, kernel {i.get('architecture')}, "
                    f"{i['num_threads']} threads (threadpoolctl)")
    except ImportError:
        pass
    found = _openblas_via_ctypes()
    if found:
        return found
    import numpy as np
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()


def blas_threads():
    """NumPy's BLAS thread count (for matching other libraries to it), from
    threadpoolctl or else the loaded OpenBLAS; the core count if neither says.

    Example:
        >>> blas_threads() >= 1
        True
    """
    _load_blas()
    try:
        from threadpoolctl import threadpool_info
        return next(i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas")
    except (ImportError, StopIteration):
        pass
    # "..., kernel Haswell, 1 threads (libscipy_openblas64_.so)": the library
    # name follows the count, so look for the number before "threads"
    found = re.search(r"(\d+) threads", _openblas_via_ctypes() or "")
    return int(found.group(1)) if found else os.cpu_count()


def machine_description():
    """name -> value lines describing where the benchmark ran."""
    import numpy as np
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "MALLOC_", "XLA_"))}
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": f"{cpu}, nproc {os.cpu_count()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_description(),
        "environment": ", ".join(f"{k}={v}" for k, v in sorted(env.items())) or "(none)",
    }


# --------------------------------------------------------------------------
# command line

def argument_parser(doc, only=None, memory_child=False):
    """The options every benchmark script takes: --quick, --only (when
    `only` lists the benchmarks), --no-malloc-tuning, --threads, --write;
    and the hidden --memory-child NAME (with memory_child) by which a script
    runs one contender of its memory benchmark in a fresh process.

    Example:
        >>> argument_parser("A benchmark.").parse_args(["--quick"]).quick
        True
    """
    parser = _Parser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples; print only")
    if only:
        parser.add_argument("--only", choices=list(only), action="append",
                            help="run just these benchmarks (repeatable)")
    parser.add_argument("--no-malloc-tuning", dest="malloc", action="store_false",
                        help="leave glibc malloc at its defaults")
    parser.add_argument("--threads", type=int, help="limit every library to this many threads "
                        "(steadier on a shared machine; default: each library's own default)")
    parser.add_argument("--write", action="store_true", help="write the results file even with --quick")
    if memory_child:
        parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    return parser


class _Parser(argparse.ArgumentParser):
    """Sets QUICK from --quick when the arguments are parsed."""

    def parse_args(self, *args, **kwargs):
        global QUICK
        parsed = super().parse_args(*args, **kwargs)
        QUICK = bool(getattr(parsed, "quick", False))
        return parsed


def interpreter():
    """The running interpreter as a command: relative to the repository when
    it lives inside it (.venv/bin/python), else plain `python`, so recorded
    commands name no folder of one machine.

    Example:
        >>> interpreter() in ("python", ".venv/bin/python") or not interpreter().startswith("/")
        True
    """
    exe = Path(sys.executable)
    try:
        return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else "python"
    except (AttributeError, ValueError):
        return "python"


def command_line(script):
    """How this run was started, as written in the results file (relative
    to the repository root).

    Example:
        >>> command_line("/x/bench/bench_reverse.py").split()[1]
        'bench/bench_reverse.py'
    """
    return " ".join([interpreter(), f"bench/{Path(script).name}", *sys.argv[1:]])


def results_path(path):
    """Where a results file goes: `path`, or its name inside
    $BENCH_RESULTS_DIR when that is set (the quick runs of `make bench
    QUICK=1` write there, leaving the recorded results alone).

    Example:
        >>> results_path("bench/results_x.md").name
        'results_x.md'
    """
    folder = os.environ.get("BENCH_RESULTS_DIR")
    return Path(folder) / Path(path).name if folder else Path(path)


def shown_path(path):
    """`path` as printed in logs: relative to the repository when inside it,
    so a log names no folder of the machine that wrote it.

    Example:
        >>> shown_path(ROOT / "bench" / "results_x.md")
        'bench/results_x.md'
    """
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def write_results(args, path, text):
    """Write a results file unless this is a --quick run without --write
    (or $BENCH_WRITE_QUICK, which `make bench QUICK=1` sets)."""
    if not args.quick or getattr(args, "write", False) or os.environ.get("BENCH_WRITE_QUICK") == "1":
        target = results_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {shown_path(target)}")


SUMMARY_HEADERS = ["benchmark", "chainrule", "peers", "target", "met"]


def summary_section(rows, note=""):
    """The `## Summary` section every results file opens with (after its
    title and command): one row per benchmark, cells benchmark, chainrule's
    figure (median with spread), the peers' figures, the target, and
    whether it is met ('yes', 'no', or 'no (why)'). `make bench` copies
    this section into bench/RESULTS.md.

    Example:
        >>> print(summary_section([["loop", "1.0 us", "autograd 7 us", "at most 1.0 us", "yes"]]))
        ## Summary
        <BLANKLINE>
        | benchmark | chainrule | peers | target | met |
        | --- | --- | --- | --- | --- |
        | loop | 1.0 us | autograd 7 us | at most 1.0 us | yes |
        <BLANKLINE>
    """
    lines = ["## Summary", "", markdown_table(SUMMARY_HEADERS, rows), ""]
    if note:
        lines[-1:-1] = ["", note]
    return "\n".join(lines)


def met(value, target, disturbed=False):
    """'yes' or 'no' for value <= target; 'yes (disturbed)' etc. when the
    figure's samples were disturbed by other processes.

    Example:
        >>> met(1.2, 1.0), met(0.9, 1.0, disturbed=True)
        ('no', 'yes (disturbed samples: rerun on a quiet machine)')
    """
    word = "yes" if value <= target else "no"
    return word + (" (disturbed samples: rerun on a quiet machine)" if disturbed else "")


def any_disturbed(*samples):
    """Whether any of the given Samples has a disturbed sample."""
    return any(getattr(s, "n_disturbed", 0) for s in samples)


# --------------------------------------------------------------------------
# output

# the load-average note of the scripts run on the shared development machine
SHARED_MACHINE_NOTE = (" (other processes share this 2-core machine, so single samples are noisy; "
                       "medians of round-robin samples are the figures to read)")


def report_header(title, command, args, load_start, load_note, timing, who="library", summary=None):
    """The opening lines of every results file: title, command, machine,
    load average at the start and end (then `load_note`), malloc settings,
    `timing` (how the samples were taken) and threads; `who` names the
    contenders ('library' or 'contender').

    Example:
        >>> import argparse, os
        >>> args = argparse.Namespace(quick=True, malloc=False, threads=1)
        >>> lines = report_header("# T", "cmd", args, os.getloadavg(), "", "- timing: x", "library")
        >>> lines[:3], lines[-2]
        (['# T', '', 'Command: `cmd` (quick run)'], '- threads: 1 for every library (BLAS, OpenMP and XLA limits)')
    """
    parts = [title, "", f"Command: `{command}`" + (" (quick run)" if args.quick else ""), ""]
    if summary:
        parts += [summary, "## Environment", ""]
    parts += [f"- {k}: {v}" for k, v in machine_description().items()]
    parts += ["- load average (1, 5, 15 min) at the start: {:.2f} {:.2f} {:.2f}; at the end: "
              "{:.2f} {:.2f} {:.2f}".format(*load_start, *os.getloadavg()) + load_note,
              "- malloc: " + (f"glibc tuned for every {who}: " + ", ".join(
                  f"{k}={v}" for k, v in MALLOC_ENV.items()) if args.malloc else "glibc defaults"),
              timing,
              "- threads: " + (f"{args.threads} for every library (BLAS, OpenMP and XLA limits)"
                               if args.threads else
                               "NumPy's BLAS default; PyTorch set to the same count; JAX/XLA its own pool"),
              ""]
    return parts



def markdown_table(headers, rows):
    """A Markdown table (a string) from a header list and rows of cells.

    Example:
        >>> print(markdown_table(["a", "b"], [[1, 2]]))
        | a | b |
        | --- | --- |
        | 1 | 2 |
    """
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def format_seconds(s):
    """A duration with a sensible unit: '1.23 ms'."""
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def module_available(module):
    """Whether `module` imports (peers are optional)."""
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def ratio(x, ref):
    """x / ref as text: '1.23x'."""
    return f"{x / ref:.2f}x"


def timing_table(times, notes, reference, per_op=None, who="library"):
    """A Markdown table of round-robin timings: per contender the median
    time with its spread (IQR, best sample, disturbed samples), per
    operation too when `per_op` (the number of operations in one call) is
    given, and the ratio to `reference` paired round by round; contenders
    that only have a note (failed, skipped) follow.

    Example:
        >>> t = {"ref": Samples([1e-3, 1e-3, 1e-3]), "x": Samples([2e-3, 2e-3, 2e-3])}
        >>> print(timing_table(t, {}, "ref").splitlines()[-1])
        | x | 2 ms (IQR 2-2 ms, min 2 ms) | 2.00x (IQR 2.00-2.00) |  |
    """
    headers = [who, "median per call (IQR, best)"]
    if per_op:
        headers.append("median per op (IQR, best)")
    headers += [f"vs {reference} (paired, IQR)", "note"]
    rows = []
    for name, ts in times.items():
        row = [name, spread(ts)]
        if per_op:
            row.append(spread(ts, unit=lambda v: f"{v:.3g} us", scale=1e6 / per_op))
        rows.append(row + [ratio_spread(ts, times[reference]) if reference in times else "-",
                           notes.get(name, "")])
    rows += [[name] + ["-"] * (len(headers) - 2) + [note] for name, note in notes.items() if name not in times]
    return markdown_table(headers, rows)


def peers_text(times, reference, names, per_op=None, skip=()):
    """The peers' figures for a summary row: 'autograd 1.19x, PyTorch 1.36x'
    (paired ratios to `reference`), or per-op medians when `per_op` is given.

    Example:
        >>> t = {"ref": [1.0, 1.0], "a": [2.0, 2.0], "b": [3.0, 3.0]}
        >>> peers_text(t, "ref", ["a", "b", "c"])
        'a 2.00x, b 3.00x'
    """
    parts = []
    for name in names:
        if name in times and name not in skip:
            if per_op:
                parts.append(f"{name} {median(times[name]) / per_op * 1e6:.3g} us")
            else:
                parts.append(f"{name} {paired_ratio(times[name], times[reference]):.2f}x")
    return ", ".join(parts) or "(none installed)"


def quick_timing(args):
    """(samples, min_sample_s, warmup_s) for a run: few short samples with --quick.

    Example:
        >>> import argparse
        >>> quick_timing(argparse.Namespace(quick=True))
        (3, 0.01, 0.02)
    """
    return (3, 0.01, 0.02) if args.quick else (21, 0.1, 0.3)
