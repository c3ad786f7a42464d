"""Reverse mode against hand-written backprop and other AD libraries.

Three benchmarks, one run:

1. mlp: loss and gradient of the tutorial's MNIST MLP (x in R^100, 1000 tanh
   hidden units, 10-way softmax cross-entropy, batch 256, float64).
2. loop: gradient of 1000 steps of `x = sin(x) * 1.0001 + 0.1` on a scalar,
   reported per primitive operation (3000 of them): the per-op overhead.
3. memory: live peak (tracemalloc; judged) and peak resident-set increase
   while computing the gradient of a 50-layer 1000 x 1000 tanh network
   (batch 64), each library in a fresh process.

Ratios are to the hand-written NumPy version. Libraries that are not
installed are skipped. The chainrule measured is this checkout's (src/).

    python bench/bench_reverse.py            # full run, writes bench/results_reverse.md
    python bench/bench_reverse.py --quick    # fewer samples, a 100-step loop, prints only
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_reverse.md"
TARGETS = {"mlp": 1.1, "loop_us": 1.0, "memory": 1.05}
STRETCH_LOOP_US = 0.8
LOOP_STEPS, LOOP_OPS = 1000, 3000
QUICK_LOOP_STEPS = 100  # --quick: JAX compiles (jit) or dispatches (no jit) 1000 steps for seconds


def set_loop_steps(steps):
    """Make the scalar loop (loop, loop_handwritten, loop_torch) `steps`
    steps long (3 operations each)."""
    global LOOP_STEPS, LOOP_OPS
    LOOP_STEPS, LOOP_OPS = steps, 3 * steps
DEEP_LAYERS, DEEP_WIDTH, DEEP_BATCH = 50, 1000, 64


# --------------------------------------------------------------------------
# the functions, written once over a NumPy-like module `xp`

def mlp_log_p(xp, params, x):
    """The MLP's log-probabilities: log softmax(tanh(x W1 + b1) W2 + b2)."""
    W1, b1, W2, b2 = params
    h = xp.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - xp.max(z, axis=1, keepdims=True)
    return z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))


def mlp_loss(xp):
    def loss(params, x, onehot):
        return -xp.sum(onehot * mlp_log_p(xp, params, x)) / x.shape[0]
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


def mlp_loss_torch(params, x, onehot):
    """mlp_loss in PyTorch's spelling (amax, dim)."""
    import torch
    W1, b1, W2, b2 = params
    h = torch.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - torch.amax(z, dim=1, keepdim=True)
    log_p = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    return -torch.sum(onehot * log_p) / x.shape[0]


def mlp_torch(params, x, onehot):
    import torch
    loss = mlp_loss_torch(params, x, onehot)
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

def jax_args(jnp, kind, data):
    """The arguments of benchmark kind ("mlp" or "loop") as JAX arrays."""
    if kind == "mlp":
        params, x, onehot = data
        return tuple(jnp.asarray(p) for p in params), jnp.asarray(x), jnp.asarray(onehot)
    return (jnp.asarray(data),)


def peer_contenders(kind, data, jax_eager=True):
    """name -> callable returning (value, gradient) for the installed peers
    (autograd, PyTorch, JAX without jit when jax_eager, JAX with jit) on
    benchmark kind: "mlp" (data: params, x, onehot) or "loop" (data: x0)."""
    out = {}
    try:
        import autograd
        import autograd.numpy as anp
        grad_ag = autograd.value_and_grad(mlp_loss(anp) if kind == "mlp" else loop(anp))
        out["autograd"] = (lambda: grad_ag(*data)) if kind == "mlp" else (lambda: grad_ag(data))
    except ImportError:
        pass
    try:
        torch = common.setup_torch()
        if kind == "mlp":
            params, x, onehot = data
            tparams = tuple(torch.tensor(p, requires_grad=True) for p in params)
            tx, tonehot = torch.tensor(x), torch.tensor(onehot)
            out["PyTorch"] = lambda: mlp_torch(tparams, tx, tonehot)
        else:
            tx0 = torch.tensor(data, dtype=torch.float64, requires_grad=True)
            out["PyTorch"] = lambda: loop_torch(tx0)
    except ImportError:
        pass
    try:
        jax = common.setup_jax()
        import jax.numpy as jnp
        grad_jax = jax.value_and_grad(mlp_loss(jnp) if kind == "mlp" else loop(jnp))
        args = jax_args(jnp, kind, data)
        if jax_eager:
            out["JAX (no jit)"] = lambda: jax.block_until_ready(grad_jax(*args))
        jitted = jax.jit(grad_jax)
        out["JAX (jit)"] = lambda: jax.block_until_ready(jitted(*args))
    except ImportError:
        pass
    return out


def contenders(kind, data):
    """name -> callable returning (value, gradient) for benchmark kind."""
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
    out.update(peer_contenders(kind, data))
    return out


def gradient_of(result):
    """The gradient leaves of a (value, gradient) result, as NumPy arrays."""
    _, g = result
    leaves = g if isinstance(g, (tuple, list)) else [g]
    return [common.as_float_array(leaf) for leaf in leaves]


def check_agreement(fns):
    """Every contender's gradient must equal the hand-written one."""
    reference = gradient_of(fns[HAND]())
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


def timed(kind, data, args):
    """name -> Samples (seconds per call), and name -> note (JIT compile
    time, or why a contender could not run: it is then left out)."""
    fns = contenders(kind, data)
    _, seconds, notes = common.first_calls(fns, HAND)
    if "JAX (jit)" in seconds:
        notes["JAX (jit)"] = f"compile {seconds['JAX (jit)']:.2f} s"
    check_agreement(fns)
    samples, min_sample_s, warmup_s = common.quick_timing(args)
    times = common.time_round_robin(fns, samples=samples, min_sample_s=min_sample_s, warmup_s=warmup_s)
    return times, notes


# --------------------------------------------------------------------------
# memory: one fresh process per library

MEMORY_LIBRARIES = ["hand-written NumPy", "chainrule", "autograd", "PyTorch"]


def deep_data(seed=0):
    """Weights (W, b) of the deep network's layers, and its input batch."""
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((DEEP_WIDTH, DEEP_WIDTH)) / np.sqrt(DEEP_WIDTH),
               rng.standard_normal(DEEP_WIDTH) / 10) for _ in range(DEEP_LAYERS)]
    return params, rng.standard_normal((DEEP_BATCH, DEEP_WIDTH))


def memory_child(name):
    """Peak RSS increase and live peak (bytes) of one gradient of the deep
    network, after one untimed call and a malloc_trim (common.memory_peaks,
    as bench_graph.py measures); printed as JSON."""
    import json
    params, x = deep_data()
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
        torch = common.setup_torch()
        tparams = [(torch.from_numpy(W).requires_grad_(), torch.from_numpy(b).requires_grad_())
                   for W, b in params]
        tx = torch.from_numpy(x)
        fn = lambda: deep_torch(tparams, tx)
    else:
        raise ValueError(f"unknown library {name!r}")
    weights = sum(W.nbytes + b.nbytes for W, b in params)
    # PyTorch allocates its tensors itself, out of tracemalloc's sight
    print(json.dumps(dict(common.memory_peaks(fn, traced=name != "PyTorch"), weights=weights)))


# --------------------------------------------------------------------------
# report

HAND = "hand-written NumPy"
PEERS = ["autograd", "PyTorch", "JAX (no jit)", "JAX (jit)"]


def mlp_table(times, notes):
    return common.timing_table(times, notes, HAND)


def loop_table(times, notes):
    return common.timing_table(times, notes, HAND, per_op=LOOP_OPS)


def memory_table(results):
    ref = results.get(HAND, {}).get("peak")
    ref_live = results.get(HAND, {}).get("live")
    rows = [[name, f"{r['peak'] / 2**20:.1f} MiB", common.ratio(r["peak"], ref) if ref else "-",
             f"{r['live'] / 2**20:.1f} MiB" if r.get("live") else "-",
             common.ratio(r["live"], ref_live) if r.get("live") and ref_live else "-"]
            for name, r in results.items()]
    return common.markdown_table(["library", "peak RSS increase", "vs hand-written",
                                  "live peak (traced)", "vs hand-written"], rows)


def summary_rows(mlp, loop_res, mem):
    """The rows of the `## Summary` table (benchmark, chainrule, peers, target, met)."""
    rows = []
    if mlp and "chainrule" in mlp[0]:
        times = mlp[0]
        r = common.paired_ratio(times["chainrule"], times[HAND])
        rows.append(["MLP value and gradient / hand-written",
                     common.ratio_spread(times["chainrule"], times[HAND]),
                     common.peers_text(times, HAND, PEERS), f"at most {TARGETS['mlp']}x",
                     common.met(r, TARGETS["mlp"], common.any_disturbed(times["chainrule"], times[HAND]))])
    if loop_res and "chainrule" in loop_res[0]:
        times = loop_res[0]
        ts = times["chainrule"]
        us = common.median(ts) / LOOP_OPS * 1e6
        rows.append(["scalar loop gradient, per primitive op",
                     common.spread(ts, unit=lambda v: f"{v:.3g} us", scale=1e6 / LOOP_OPS),
                     common.peers_text(times, HAND, [HAND] + PEERS, per_op=LOOP_OPS),
                     f"at most {TARGETS['loop_us']} us (stretch {STRETCH_LOOP_US} us)",
                     common.met(us, TARGETS["loop_us"], common.any_disturbed(ts))
                     + (" (stretch met)" if us <= STRETCH_LOOP_US else "")])
    if mem and "chainrule" in mem and HAND in mem:
        rows.append(common.memory_row(f"{DEEP_LAYERS}-layer gradient, peak memory / hand-written",
                                      mem, HAND, "chainrule", TARGETS["memory"]))
    return rows


def report(args, command, mlp, loop_res, mem, load_start):
    samples, min_sample_s, warmup_s = common.quick_timing(args)
    timings = [t for t in (mlp and mlp[0], loop_res and loop_res[0]) if t]
    parts = common.report_header(
        "# Reverse-mode benchmark results", command, args, load_start,
        " (other processes share the machine when it is above 0)",
        f"- timing: each contender called once untimed (JAX's jit compiles there: the "
        f"'compile' note), warmed up for {warmup_s} s, then "
        f"{samples} round-robin samples of at least {min_sample_s * 1e3:.0f} ms each; "
        "medians with interquartile range and best sample; ratios paired round by round. "
        "Every contender's gradient is first checked against the hand-written one. "
        + common.disturbance_note({f"{i}{k}": v for i, t in enumerate(timings) for k, v in t.items()}) + ".",
        summary=common.summary_section(summary_rows(mlp, loop_res, mem)))
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
                  "is as large). Each library in a fresh process: one untimed call, then "
                  "`malloc_trim(0)`, then the peak resident-set increase of one call over the "
                  "resident set just before it, then the live peak (tracemalloc's peak during a "
                  "further call: NumPy's array data and Python objects allocated during the call; "
                  "PyTorch's tensors are not traced). The target is judged on the live peak "
                  "(the resident peak also counts where glibc places blocks, which unrelated "
                  "changes shift by a block); as bench_graph.py measures.", "", memory_table(mem), ""]
    return "\n".join(parts)


def main(argv=None):
    args = common.argument_parser(__doc__, only=["mlp", "loop", "memory"], memory_child=True).parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child)
    common.reexec_with_env(args.malloc, args.threads)
    command = common.command_line(__file__)
    which = args.only or ["mlp", "loop", "memory"]
    if args.quick:
        set_loop_steps(QUICK_LOOP_STEPS)
    load_start = os.getloadavg()
    mlp = loop_res = mem = None
    if "mlp" in which:
        mlp = timed("mlp", mlp_data(), args)
        print("MNIST MLP, loss and gradient\n" + mlp_table(*mlp) + "\n", flush=True)
    if "loop" in which:
        loop_res = timed("loop", 0.5, args)
        print("Scalar loop, gradient\n" + loop_table(*loop_res) + "\n", flush=True)
    if "memory" in which:
        libraries = MEMORY_LIBRARIES[:2] if args.quick else MEMORY_LIBRARIES  # quick: a smoke test
        mem = common.in_fresh_processes(__file__, [
            n for n in libraries if common.available(n, {"autograd": "autograd", "PyTorch": "torch"})])
        print("50-layer network, peak memory\n" + memory_table(mem) + "\n", flush=True)
    text = report(args, command, mlp, loop_res, mem, load_start)
    print(common.summary_section(summary_rows(mlp, loop_res, mem)))
    common.write_results(args, RESULTS, text)


if __name__ == "__main__":
    main()
