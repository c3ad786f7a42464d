"""Shared helpers for the benchmark scripts: timing, peak memory, machine
description and Markdown tables.

Timing is round-robin: every sample of every contender is taken in turn, so
drift on a shared machine (another process waking up, frequency changes)
spreads over all of them instead of biasing whichever ran during it.
"""

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
    return statistics.median(xs)


def time_round_robin(fns, samples=15, min_sample_s=0.05, warmup_s=0.3, pause_s=0.005):
    """Seconds per call of each callable in `fns` (name -> no-argument callable).

    Each is first warmed up for about warmup_s (caches, allocator pools, JIT
    compilation); then it is called in batches long enough to last
    min_sample_s, one batch per contender per round, `samples` rounds; each
    batch follows a pause of pause_s and one untimed call.
    Returns name -> list of per-call times, one per sample.

    Example:
        >>> times = time_round_robin({"noop": lambda: None}, samples=3, min_sample_s=0.001)
        >>> len(times["noop"])
        3
    """
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
    times = {name: [] for name in fns}
    for _ in range(samples):
        for name, fn in fns.items():
            n = batch[name]
            # let the previous contender's worker threads stop spinning
            # (OpenMP and XLA pools busy-wait after work), then re-warm
            time.sleep(pause_s)
            fn()
            start = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - start) / n)
    return times


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
# output

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
