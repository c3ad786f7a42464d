"""Reverse mode against hand-written backprop and other AD libraries.

Three benchmarks, one run:

1. mlp: loss and gradient of the tutorial's MNIST MLP (x in R^100, 1000 tanh
   hidden units, 10-way softmax cross-entropy, batch 256, float64).
2. loop: gradient of 1000 steps of `x = sin(x) * 1.0001 + 0.1` on a scalar,
   reported per primitive operation (3000 of them): the per-op overhead.
3. memory: peak resident-set increase while computing the gradient of a
   50-layer 1000 x 1000 tanh network (batch 64), each library in a fresh
   process.

Ratios are to the hand-written NumPy version. Libraries that are not
installed are skipped. The chainrule measured is this checkout's (src/).

    python bench/bench_reverse.py            # full run, writes bench/results_reverse.md
    python bench/bench_reverse.py --quick    # fewer samples, prints only
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_reverse.md"
TARGETS = {"mlp": 1.1, "loop_us": 1.0, "memory": 1.05}
LOOP_STEPS, LOOP_OPS = 1000, 3000
DEEP_LAYERS, DEEP_WIDTH, DEEP_BATCH = 50, 1000, 64


# --------------------------------------------------------------------------
# the functions, written once over a NumPy-like module `xp`

def mlp_loss(xp):
    def loss(params, x, onehot):
        W1, b1, W2, b2 = params
        h = xp.tanh(x @ W1 + b1)
        z = h @ W2 + b2
        z = z - xp.max(z, axis=1, keepdims=True)
        log_p = z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))
        return -xp.sum(onehot * log_p) / x.shape[0]
    return loss


def mlp_handwritten(params, x, onehot):
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    s = np.sum(e, axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.sum(onehot * (z - np.log(s))) / n
    dz = (e / s - onehot) / n  # rows of onehot sum to 1
    da = (dz @ W2.T) * (1 - h * h)
    return loss, (x.T @ da, np.sum(da, axis=0), h.T @ dz, np.sum(dz, axis=0))


def mlp_torch(params, x, onehot):
    import torch
    W1, b1, W2, b2 = params
    h = torch.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - torch.amax(z, dim=1, keepdim=True)
    log_p = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    loss = -torch.sum(onehot * log_p) / x.shape[0]
    return loss, torch.autograd.grad(loss, params)


def loop(xp):
    def f(x):
        for _ in range(LOOP_STEPS):
            x = xp.sin(x) * 1.0001 + 0.1
        return x
    return f


def loop_handwritten(x):
    partials = []
    for _ in range(LOOP_STEPS):
        partials.append(np.cos(x) * 1.0001)
        x = np.sin(x) * 1.0001 + 0.1
    g = 1.0
    for p in reversed(partials):
        g = g * p
    return x, g


def loop_torch(x):
    import torch
    y = x
    for _ in range(LOOP_STEPS):
        y = torch.sin(y) * 1.0001 + 0.1
    return y, torch.autograd.grad(y, x)[0]


def deep_loss(xp):
    def loss(params, x):
        h = x
        for W, b in params:
            h = xp.tanh(h @ W + b)
        return xp.sum(h * h) / 2
    return loss


def deep_handwritten(params, x):
    hs = [x]
    for W, b in params:
        hs.append(np.tanh(hs[-1] @ W + b))
    h = hs.pop()
    loss, g, grads = np.sum(h * h) / 2, h, []
    for W, _ in reversed(params):
        da = g * (1 - h * h)
        h = hs.pop()
        grads.append((h.T @ da, np.sum(da, axis=0)))
        g = da @ W.T
    return loss, grads[::-1]


def deep_torch(params, x):
    import torch
    h = x
    for W, b in params:
        h = torch.tanh(h @ W + b)
    loss = torch.sum(h * h) / 2
    return loss, torch.autograd.grad(loss, [p for pair in params for p in pair])


# --------------------------------------------------------------------------
# one callable per library and benchmark; None when the library is missing

def setup_torch():
    import torch
    torch.set_num_threads(common.blas_threads())  # match NumPy's BLAS
    return torch


def setup_jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


def contenders(kind, data):
    """name -> (callable, gradient-check function or None) for benchmark kind."""
    import chainrule as cr
    out = {}
    if kind == "mlp":
        params, x, onehot = data
        out["hand-written NumPy"] = lambda: mlp_handwritten(params, x, onehot)
        out["chainrule"] = lambda f=cr.value_and_grad(mlp_loss(np)): f(params, x, onehot)
    else:
        x0 = data
        out["hand-written NumPy"] = lambda: loop_handwritten(x0)
        out["chainrule"] = lambda f=cr.value_and_grad(loop(np)): f(x0)
    try:
        import autograd
        import autograd.numpy as anp
        if kind == "mlp":
            out["autograd"] = lambda f=autograd.value_and_grad(mlp_loss(anp)): f(params, x, onehot)
        else:
            out["autograd"] = lambda f=autograd.value_and_grad(loop(anp)): f(x0)
    except ImportError:
        pass
    try:
        torch = setup_torch()
        if kind == "mlp":
            tparams = tuple(torch.tensor(p, requires_grad=True) for p in params)
            tx, tonehot = torch.tensor(x), torch.tensor(onehot)
            out["PyTorch"] = lambda: mlp_torch(tparams, tx, tonehot)
        else:
            tx0 = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            out["PyTorch"] = lambda: loop_torch(tx0)
    except ImportError:
        pass
    try:
        jax = setup_jax()
        import jax.numpy as jnp
        f = jax.value_and_grad(mlp_loss(jnp) if kind == "mlp" else loop(jnp))
        args = ((tuple(jnp.asarray(p) for p in params), jnp.asarray(x), jnp.asarray(onehot))
                if kind == "mlp" else (jnp.asarray(x0),))
        out["JAX (no jit)"] = lambda: jax.block_until_ready(f(*args))
        jitted = jax.jit(f)
        out["JAX (jit)"] = lambda: jax.block_until_ready(jitted(*args))
    except ImportError:
        pass
    return out


def gradient_of(result):
    """The gradient leaves of a (value, gradient) result, as NumPy arrays."""
    _, g = result
    leaves = g if isinstance(g, (tuple, list)) else [g]
    return [np.asarray(leaf.detach() if hasattr(leaf, "detach") else leaf, dtype=float) for leaf in leaves]


def check_agreement(fns):
    """Every contender's gradient must equal the hand-written one."""
    reference = gradient_of(fns["hand-written NumPy"]())
    for name, fn in fns.items():
        for a, b in zip(gradient_of(fn()), reference):
            if not np.allclose(a, b, rtol=1e-9, atol=1e-12):
                raise AssertionError(f"{name}'s gradient differs from the hand-written one")


def mlp_data(seed=0):
    rng = np.random.default_rng(seed)
    params = (rng.standard_normal((100, 1000)) / 10, rng.standard_normal(1000) / 10,
              rng.standard_normal((1000, 10)) / np.sqrt(1000), rng.standard_normal(10) / 10)
    x = rng.standard_normal((256, 100))
    onehot = np.eye(10)[rng.integers(0, 10, 256)]
    return params, x, onehot


def timed(kind, data, samples, min_sample_s):
    """name -> (median, best) seconds per call, and name -> note (JIT compile
    time, or why a contender could not run: it is then left out)."""
    fns = contenders(kind, data)
    notes = {}
    for name, fn in list(fns.items()):
        start = time.perf_counter()
        try:
            fn()  # the first call: compiles JAX's jit, surfaces missing rules
        except Exception as e:  # noqa: BLE001  (reported, not hidden)
            if name == "hand-written NumPy":
                raise
            notes[name] = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:150]}"
            del fns[name]
            continue
        if name == "JAX (jit)":
            notes[name] = f"compile {time.perf_counter() - start:.2f} s"
    check_agreement(fns)
    times = common.time_round_robin(fns, samples=samples, min_sample_s=min_sample_s)
    return {name: (common.median(ts), min(ts)) for name, ts in times.items()}, notes


# --------------------------------------------------------------------------
# memory: one fresh process per library

MEMORY_LIBRARIES = ["hand-written NumPy", "chainrule", "autograd", "PyTorch"]


def memory_child(name):
    """Peak RSS increase (bytes) of one gradient of the deep network; printed as JSON."""
    import json
    rng = np.random.default_rng(0)
    params = [(rng.standard_normal((DEEP_WIDTH, DEEP_WIDTH)) / np.sqrt(DEEP_WIDTH),
               rng.standard_normal(DEEP_WIDTH) / 10) for _ in range(DEEP_LAYERS)]
    x = rng.standard_normal((DEEP_BATCH, DEEP_WIDTH))
    if name == "hand-written NumPy":
        fn = lambda: deep_handwritten(params, x)
    elif name == "chainrule":
        import chainrule as cr
        f = cr.value_and_grad(deep_loss(np))
        fn = lambda: f(params, x)
    elif name == "autograd":
        import autograd
        import autograd.numpy as anp
        f = autograd.value_and_grad(deep_loss(anp))
        fn = lambda: f(params, x)
    elif name == "PyTorch":
        torch = setup_torch()
        tparams = [(torch.from_numpy(W).requires_grad_(), torch.from_numpy(b).requires_grad_())
                   for W, b in params]
        tx = torch.from_numpy(x)
        fn = lambda: deep_torch(tparams, tx)
    else:
        raise ValueError(f"unknown library {name!r}")
    weights = sum(W.nbytes + b.nbytes for W, b in params)
    print(json.dumps({"peak": common.peak_rss_increase(fn), "weights": weights}))


def memory(libraries):
    results = {}
    for name in libraries:
        found = common.in_fresh_process(__file__, ["--memory-child", name])
        if found is not None:
            results[name] = found
    return results


def library_available(name):
    module = {"autograd": "autograd", "PyTorch": "torch"}.get(name)
    return module is None or common.module_available(module)


# --------------------------------------------------------------------------
# report

def time_rows(times, notes, per_op=None):
    """Rows: name, median, best, (median and best per op), ratios to
    hand-written, note; then the contenders that failed."""
    ref_median, ref_best = times["hand-written NumPy"]
    rows = []
    for name, (t_median, t_best) in times.items():
        row = [name, common.format_seconds(t_median), common.format_seconds(t_best)]
        if per_op:
            row += [f"{t_median / per_op * 1e6:.2f} us", f"{t_best / per_op * 1e6:.2f} us"]
        rows.append(row + [common.ratio(t_median, ref_median), common.ratio(t_best, ref_best), notes.get(name, "")])
    width = 7 if per_op else 5
    rows += [[name] + ["-"] * (width - 1) + [note] for name, note in notes.items() if name not in times]
    return rows


def mlp_table(times, notes):
    return common.markdown_table(
        ["library", "median per call", "best sample", "ratio (median)", "ratio (best)", "note"],
        time_rows(times, notes))


def loop_table(times, notes):
    return common.markdown_table(
        ["library", "median per gradient", "best sample", "median per op", "best per op",
         "ratio (median)", "ratio (best)", "note"],
        time_rows(times, notes, per_op=LOOP_OPS))


def memory_table(results):
    ref = results.get("hand-written NumPy", {}).get("peak")
    rows = [[name, f"{r['peak'] / 2**20:.0f} MiB", common.ratio(r["peak"], ref) if ref else "-"]
            for name, r in results.items()]
    return common.markdown_table(["library", "peak RSS increase", "vs hand-written"], rows)


def verdicts(mlp, loop_medians, mem):
    lines = []
    if mlp and "chainrule" in mlp:
        r = mlp["chainrule"][0] / mlp["hand-written NumPy"][0]
        best = mlp["chainrule"][1] / mlp["hand-written NumPy"][1]
        lines.append(f"- MLP value and gradient: {r:.2f}x hand-written by medians, {best:.2f}x by "
                     f"best samples (target at most {TARGETS['mlp']}x): "
                     f"{'met' if r <= TARGETS['mlp'] else 'NOT met'}")
    if loop_medians and "chainrule" in loop_medians:
        us = loop_medians["chainrule"][0] / LOOP_OPS * 1e6
        best = loop_medians["chainrule"][1] / LOOP_OPS * 1e6
        lines.append(f"- scalar loop: {us:.2f} us per primitive op by median, {best:.2f} us best "
                     f"(target at most {TARGETS['loop_us']} us): "
                     f"{'met' if us <= TARGETS['loop_us'] else 'NOT met'}")
    if mem and "chainrule" in mem and "hand-written NumPy" in mem:
        r = mem["chainrule"]["peak"] / mem["hand-written NumPy"]["peak"]
        lines.append(f"- 50-layer peak memory: {r:.2f}x hand-written (target at most "
                     f"{TARGETS['memory']}x): {'met' if r <= TARGETS['memory'] else 'NOT met'}")
    return "\n".join(lines)


def report(args, command, mlp, loop_res, mem, load_start):
    machine = common.machine_description()
    parts = ["# Reverse-mode benchmark results", "",
             f"Command: `{command}`" + (" (quick run)" if args.quick else ""), ""]
    parts += [f"- {k}: {v}" for k, v in machine.items()]
    parts += ["- load average (1, 5, 15 min) at the start: {:.2f} {:.2f} {:.2f}; at the end: "
              "{:.2f} {:.2f} {:.2f} (other processes share the machine when it is above 0)"
              .format(*load_start, *os.getloadavg())]
    parts += ["- malloc: " + ("glibc tuned for every library: " + ", ".join(
        f"{k}={v}" for k, v in common.MALLOC_ENV.items()) if args.malloc else "glibc defaults"),
        "- timing: each contender called once untimed (JAX's jit compiles there: the "
        "'compile' note), warmed up for 0.3 s, then "
        f"{args.samples} round-robin samples of at least {args.min_sample * 1e3:.0f} ms each; "
        "medians and best samples (the best is the least disturbed by other processes). "
        "Every contender's gradient is first checked against the hand-written one.",
        "- threads: " + (f"{args.threads} for every library (BLAS, OpenMP and XLA limits)" if args.threads
                         else "NumPy's BLAS default; PyTorch set to the same count; JAX/XLA its own pool"),
        ""]
    parts += ["## Targets", "", verdicts(mlp and mlp[0], loop_res and loop_res[0], mem), ""]
    if mlp:
        parts += ["## MNIST MLP: loss and gradient",
                  "", "x (256 x 100) -> tanh(x W1 + b1), W1 100 x 1000 -> softmax cross-entropy "
                  "over 10 classes, float64; gradient with respect to W1, b1, W2, b2.", "",
                  mlp_table(*mlp), ""]
    if loop_res:
        parts += ["## Scalar loop: per-op overhead", "",
                  f"Gradient of {LOOP_STEPS} steps of `x = np.sin(x) * 1.0001 + 0.1` "
                  f"({LOOP_OPS} primitive operations) at x = 0.5.", "", loop_table(*loop_res), ""]
    if mem:
        parts += ["## Peak memory: 50-layer tanh network", "",
                  f"Gradient of sum(h**2)/2 for {DEEP_LAYERS} layers h = tanh(h W + b), "
                  f"W {DEEP_WIDTH} x {DEEP_WIDTH}, batch {DEEP_BATCH}, float64 (weights "
                  f"{next(iter(mem.values()))['weights'] / 2**20:.0f} MiB; the gradient itself "
                  "is as large). Peak resident-set increase over the resident set just before "
                  "the call, each library in a fresh process.", "", memory_table(mem), ""]
    return "\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples; print only")
    parser.add_argument("--only", choices=["mlp", "loop", "memory"], action="append",
                        help="run just these benchmarks (repeatable)")
    parser.add_argument("--no-malloc-tuning", dest="malloc", action="store_false",
                        help="leave glibc malloc at its defaults")
    parser.add_argument("--threads", type=int, help="limit every library to this many threads "
                        "(steadier on a shared machine; default: each library's own default)")
    parser.add_argument("--write", action="store_true", help="write results_reverse.md even with --quick")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child)
    common.reexec_with_env(args.malloc, args.threads)
    command = " ".join([sys.executable, "bench/bench_reverse.py", *sys.argv[1:]])
    args.samples, args.min_sample = (5, 0.02) if args.quick else (21, 0.1)
    which = args.only or ["mlp", "loop", "memory"]
    load_start = os.getloadavg()
    mlp = loop_res = mem = None
    if "mlp" in which:
        mlp = timed("mlp", mlp_data(), args.samples, args.min_sample)
        print("MNIST MLP, loss and gradient\n" + mlp_table(*mlp) + "\n", flush=True)
    if "loop" in which:
        loop_res = timed("loop", 0.5, args.samples, args.min_sample)
        print("Scalar loop, gradient\n" + loop_table(*loop_res) + "\n", flush=True)
    if "memory" in which:
        mem = memory([n for n in MEMORY_LIBRARIES if library_available(n)])
        print("50-layer network, peak memory\n" + memory_table(mem) + "\n", flush=True)
    text = report(args, command, mlp, loop_res, mem, load_start)
    print(verdicts(mlp and mlp[0], loop_res and loop_res[0], mem))
    if not args.quick or args.write:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
