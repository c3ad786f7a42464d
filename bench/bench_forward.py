"""Forward mode, Hessian-vector products and whole Jacobians against
hand-written NumPy and other AD libraries.

Four benchmarks, one run:

1. jvp: the derivative of the tutorial MLP's loss (x in R^100, batch 256,
   1000 tanh hidden units, softmax cross-entropy over 10 classes, float64)
   along a random direction in all four parameters, over the time of the
   loss itself (each library against its own loss evaluation).
2. hvp: H v of the same loss with respect to W1 (10^5 parameters), over the
   time of the gradient with respect to W1 (each library against its own
   gradient).
3. chain: the full 200 x 200 Jacobian of 8 layers h = tanh(W h + b) (W
   200 x 200) in x, by forward and by reverse mode, against the hand-written
   products of layer Jacobians in the same order.
4. funnel: the 10 x 2000 Jacobian of 2000 -> 200 -> 200 -> 10 tanh layers
   by reverse mode (and `jacobian`'s own choice) against the hand-written
   product in reverse order.

Every contender's result is checked against the hand-written one first.
Libraries that are not installed are skipped; a contender that raises is
listed as failed. The chainrule measured is this checkout's (src/).

    python bench/bench_forward.py --threads 1    # full run, writes bench/results_forward.md
    python bench/bench_forward.py --quick        # fewer samples, prints only
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402
from bench_reverse import mlp_data, mlp_loss, mlp_loss_torch  # noqa: E402  (the same MLP and data)

RESULTS = Path(__file__).resolve().parent / "results_forward.md"
TARGETS = {"jvp": 2.2, "hvp": 1.8, "chain": 1.6, "funnel": 1.6}
CHAIN_LAYERS, CHAIN_WIDTH = 8, 200
FUNNEL_SIZES = (2000, 200, 200, 10)
HAND = "hand-written NumPy"


# --------------------------------------------------------------------------
# the functions, written once over a NumPy-like module `xp` (the MLP loss,
# and PyTorch's spelling of it, come from bench_reverse)

def chain(xp):
    def f(params, x):
        h = x
        for W, b in params:
            h = xp.tanh(W @ h + b)
        return h
    return f


# --------------------------------------------------------------------------
# hand-written derivatives

def _softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return z, e, np.sum(e, axis=1, keepdims=True)


def mlp_jvp_handwritten(params, tangents, x, onehot):
    """Loss and its derivative along `tangents`. The max shift cancels in the
    log-softmax, so d loss = sum((p - onehot) * dz) / n (rows of onehot sum to 1)."""
    W1, b1, W2, b2 = params
    dW1, db1, dW2, db2 = tangents
    h = np.tanh(x @ W1 + b1)
    dh = (1 - h * h) * (x @ dW1 + db1)
    z, e, s = _softmax(h @ W2 + b2)
    dz = dh @ W2 + h @ dW2 + db2
    n = x.shape[0]
    return -np.sum(onehot * (z - np.log(s))) / n, np.sum((e / s - onehot) * dz) / n


def mlp_grad_w1_handwritten(W1, b1, W2, b2, x, onehot):
    h = np.tanh(x @ W1 + b1)
    _, e, s = _softmax(h @ W2 + b2)
    dz = (e / s - onehot) / x.shape[0]
    return x.T @ ((dz @ W2.T) * (1 - h * h))


def mlp_hvp_w1_handwritten(W1, V, b1, W2, b2, x, onehot):
    """H V for W1: the gradient x^T ((p - onehot)/n W2^T * (1 - h^2)) pushed
    forward along W1 + t V (dots are tangents):
    a' = x V, h' = (1 - h^2) a', z' = h' W2, p' = p (z' - sum(p z')),
    (grad a)' = (p'/n W2^T) (1 - h^2) - 2 h h' (dz W2^T)."""
    h = np.tanh(x @ W1 + b1)
    d = 1 - h * h
    _, e, s = _softmax(h @ W2 + b2)
    p, n = e / s, x.shape[0]
    dh = d * (x @ V)
    dz = dh @ W2
    dp = p * (dz - np.sum(p * dz, axis=1, keepdims=True))
    return x.T @ ((dp / n) @ W2.T * d - 2 * h * dh * (((p - onehot) / n) @ W2.T))


def chain_jacobian_forward(params, x):
    """J = D_L W_L ... D_1 W_1 (D_k = diag(1 - h_k^2)), multiplied from the input side."""
    h, J = x, None
    for W, b in params:
        h = np.tanh(W @ h + b)
        J = (1 - h * h)[:, None] * (W if J is None else W @ J)
    return J


def chain_jacobian_reverse(params, x):
    """The same product multiplied from the output side (after a forward pass)."""
    h, ds = x, []
    for W, b in params:
        h = np.tanh(W @ h + b)
        ds.append(1 - h * h)
    J = None
    for (W, _), d in zip(reversed(params), reversed(ds)):
        J = d[:, None] * W if J is None else (J * d) @ W
    return J


# --------------------------------------------------------------------------
# data

def chain_data(sizes, seed=1):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal(m) / 10)
              for n, m in zip(sizes[:-1], sizes[1:])]
    return params, rng.standard_normal(sizes[0])


def mlp_direction(params, seed=2):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(np.shape(p)) / 10 for p in params)


# --------------------------------------------------------------------------
# the benchmarks: each returns (contenders, rows). contenders: name ->
# callable whose result is checked against the hand-written one of the same
# kind; rows: (library, operation, baseline) names, the ratio being their
# quotient.

def jvp_bench():
    import chainrule as cr
    params, x, onehot = mlp_data()
    tangents = mlp_direction(params)
    loss = mlp_loss(np)
    fns = {
        "NumPy loss": lambda: loss(params, x, onehot),
        "hand-written jvp": lambda: mlp_jvp_handwritten(params, tangents, x, onehot),
        "chainrule jvp": lambda: cr.jvp(lambda p: loss(p, x, onehot), (params,), (tangents,)),
    }
    rows = [(HAND, "hand-written jvp", "NumPy loss"), ("chainrule", "chainrule jvp", "NumPy loss")]

    def torch_fns():
        torch = common.setup_torch()
        tp, tt, tx, to = common.to_torch(torch, (params, tangents, x, onehot))
        f = lambda *p: mlp_loss_torch(p, tx, to)  # noqa: E731
        rows.append(("PyTorch (torch.func.jvp)", "PyTorch jvp", "PyTorch loss"))
        return {"PyTorch loss": lambda: f(*tp),
                "PyTorch jvp": lambda: torch.func.jvp(f, tp, tt)}

    def autograd_fns():
        import autograd
        import autograd.numpy as anp
        f = lambda p: mlp_loss(anp)(p, x, onehot)  # noqa: E731
        rows.append(("autograd (make_jvp)", "autograd jvp", "autograd loss"))
        return {"autograd loss": lambda: f(params),
                "autograd jvp": lambda: autograd.make_jvp(f)(params)(tangents)}

    def jax_fns():
        jax = common.setup_jax()
        import jax.numpy as jnp
        jp, jt = common.tree_map(jnp.asarray, params), common.tree_map(jnp.asarray, tangents)
        jx, jo = jnp.asarray(x), jnp.asarray(onehot)
        f = lambda p: mlp_loss(jnp)(p, jx, jo)  # noqa: E731
        rows.append(("JAX (jax.jvp, no jit)", "JAX jvp", "JAX loss"))
        return {"JAX loss": lambda: jax.block_until_ready(f(jp)),
                "JAX jvp": lambda: jax.block_until_ready(jax.jvp(f, (jp,), (jt,)))}

    for builder in (torch_fns, autograd_fns, jax_fns):
        fns.update(common.optional(builder))
    return fns, rows


def hvp_bench():
    import chainrule as cr
    (W1, b1, W2, b2), x, onehot = mlp_data()
    V = mlp_direction((W1,))[0]
    loss = mlp_loss(np)

    def f(W):
        return loss((W, b1, W2, b2), x, onehot)

    fns = {
        "hand-written grad": lambda: mlp_grad_w1_handwritten(W1, b1, W2, b2, x, onehot),
        "hand-written hvp": lambda: mlp_hvp_w1_handwritten(W1, V, b1, W2, b2, x, onehot),
        "chainrule grad": lambda g=cr.grad(f): g(W1),
        "chainrule hvp": lambda: cr.hvp(f, (W1,), (V,)),
    }
    rows = [(HAND, "hand-written hvp", "hand-written grad"),
            ("chainrule (cr.hvp, reverse over forward)", "chainrule hvp", "chainrule grad")]

    def jax_fns():
        jax = common.setup_jax()
        import jax.numpy as jnp
        rest = common.tree_map(jnp.asarray, (b1, W2, b2, x, onehot))
        jW, jV = jnp.asarray(W1), jnp.asarray(V)
        jf = lambda W: mlp_loss(jnp)((W,) + rest[:3], *rest[3:])  # noqa: E731
        g = jax.grad(jf)
        rows.append(("JAX (jvp of grad, no jit)", "JAX hvp", "JAX grad"))
        return {"JAX grad": lambda: jax.block_until_ready(g(jW)),
                "JAX hvp": lambda: jax.block_until_ready(jax.jvp(g, (jW,), (jV,))[1])}

    def torch_fns():
        torch = common.setup_torch()
        tb1, tW2, tb2, tx, to = common.to_torch(torch, (b1, W2, b2, x, onehot))
        tW, tV = common.to_torch(torch, W1), common.to_torch(torch, V)
        tWg = tW.clone().requires_grad_()
        tf = lambda W: mlp_loss_torch((W, tb1, tW2, tb2), tx, to)  # noqa: E731

        def double_backward():
            g, = torch.autograd.grad(tf(tWg), tWg, create_graph=True)
            return torch.autograd.grad(g, tWg, grad_outputs=tV)[0]

        rows.append(("PyTorch (double backward)", "PyTorch hvp (double backward)", "PyTorch grad"))
        rows.append(("PyTorch (torch.func jvp of grad)", "PyTorch hvp (torch.func)",
                     "PyTorch grad (torch.func)"))
        tg = torch.func.grad(tf)
        return {"PyTorch grad": lambda: torch.autograd.grad(tf(tWg), tWg)[0],
                "PyTorch hvp (double backward)": double_backward,
                "PyTorch grad (torch.func)": lambda: tg(tW),
                "PyTorch hvp (torch.func)": lambda: torch.func.jvp(tg, (tW,), (tV,))[1]}

    def autograd_fns():
        import autograd
        import autograd.numpy as anp
        af = lambda W: mlp_loss(anp)((W, b1, W2, b2), x, onehot)  # noqa: E731
        rows.append(("autograd (hessian_tensor_product, reverse over reverse)",
                     "autograd hvp", "autograd grad"))
        rows.append(("autograd (make_jvp of grad, forward over reverse)",
                     "autograd hvp (forward over reverse)", "autograd grad"))
        return {"autograd grad": lambda g=autograd.grad(af): g(W1),
                "autograd hvp": lambda h=autograd.hessian_tensor_product(af): h(W1, V),
                "autograd hvp (forward over reverse)":
                    lambda g=autograd.grad(af): autograd.make_jvp(g)(W1)(V)[1]}

    for builder in (jax_fns, torch_fns, autograd_fns):
        fns.update(common.optional(builder))
    return fns, rows


def jacobian_peers(fns, rows, params, x, modes):
    """Peers' Jacobians of the chain at x; modes: ("fwd", "rev") or ("rev",)."""
    def torch_fns():
        torch = common.setup_torch()
        tp, tx = common.to_torch(torch, params), common.to_torch(torch, x)
        tf = lambda v: chain(torch)(tp, v)  # noqa: E731
        out = {}
        for mode in modes:
            name = f"PyTorch torch.func.jac{mode}"
            jac = getattr(torch.func, f"jac{mode}")(tf)
            out[name] = lambda jac=jac: jac(tx)
            rows.append((name, name, f"hand-written {mode}"))
        return out

    def jax_fns():
        jax = common.setup_jax()
        import jax.numpy as jnp
        jp, jx = common.tree_map(jnp.asarray, params), jnp.asarray(x)
        jf = lambda v: chain(jnp)(jp, v)  # noqa: E731
        out = {}
        for mode in modes:
            name = f"JAX jac{mode} (no jit)"
            jac = getattr(jax, f"jac{mode}")(jf)
            out[name] = lambda jac=jac: jax.block_until_ready(jac(jx))
            rows.append((name, name, f"hand-written {mode}"))
        return out

    def autograd_fns():
        import autograd
        import autograd.numpy as anp
        jac = autograd.jacobian(lambda v: chain(anp)(params, v))
        rows.append(("autograd jacobian (one backward pass per output)", "autograd jacobian",
                     "hand-written rev"))
        return {"autograd jacobian": lambda: jac(x)}

    for builder in (torch_fns, jax_fns, autograd_fns):
        fns.update(common.optional(builder))


def chain_bench():
    import chainrule as cr
    params, x = chain_data((CHAIN_WIDTH,) * (CHAIN_LAYERS + 1))
    f = lambda v: chain(np)(params, v)  # noqa: E731
    fns = {
        "hand-written fwd": lambda: chain_jacobian_forward(params, x),
        "hand-written rev": lambda: chain_jacobian_reverse(params, x),
        "chainrule jacfwd": lambda j=cr.jacfwd(f): j(x),
        "chainrule jacrev": lambda j=cr.jacrev(f): j(x),
        "chainrule jacobian": lambda j=cr.jacobian(f): j(x),
    }
    rows = [("hand-written, forward order", "hand-written fwd", "hand-written fwd"),
            ("hand-written, reverse order", "hand-written rev", "hand-written fwd"),
            ("chainrule jacfwd", "chainrule jacfwd", "hand-written fwd"),
            ("chainrule jacrev", "chainrule jacrev", "hand-written rev"),
            ("chainrule jacobian (its own choice)", "chainrule jacobian", "hand-written fwd")]
    jacobian_peers(fns, rows, params, x, ("fwd", "rev"))
    return fns, rows


def funnel_bench():
    import chainrule as cr
    params, x = chain_data(FUNNEL_SIZES)
    f = lambda v: chain(np)(params, v)  # noqa: E731
    fns = {
        "hand-written rev": lambda: chain_jacobian_reverse(params, x),
        "chainrule jacrev": lambda j=cr.jacrev(f): j(x),
        "chainrule jacobian": lambda j=cr.jacobian(f): j(x),
    }
    rows = [("hand-written, reverse order", "hand-written rev", "hand-written rev"),
            ("chainrule jacrev", "chainrule jacrev", "hand-written rev"),
            ("chainrule jacobian (its own choice)", "chainrule jacobian", "hand-written rev")]
    jacobian_peers(fns, rows, params, x, ("rev",))
    return fns, rows


BENCHES = {"jvp": jvp_bench, "hvp": hvp_bench, "chain": chain_bench, "funnel": funnel_bench}


# --------------------------------------------------------------------------
# checking and timing

def as_arrays(result):
    """The result's leaves as float64 NumPy arrays (torch and JAX alike)."""
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in as_arrays(r)]
    return [common.as_float_array(result)]


def reference_for(name, fns):
    """The hand-written contender whose result `name` must reproduce."""
    for kind in ("jvp", "hvp", "grad", "loss"):
        if kind in name.split():
            return "NumPy loss" if kind == "loss" else f"hand-written {kind}"
    return "hand-written rev" if "hand-written rev" in fns else "hand-written fwd"


def check(results):
    for name, value in results.items():
        ref = results[reference_for(name, results)]
        got, want = as_arrays(value), as_arrays(ref)
        if len(got) != len(want) or not all(
                a.shape == b.shape and np.allclose(a, b, rtol=1e-8, atol=1e-11)
                for a, b in zip(got, want)):
            raise AssertionError(f"{name}'s result differs from {reference_for(name, results)}'s")


def timed(kind, args):
    """(name -> Samples of seconds, name -> note, rows). A contender that
    fails its first call is dropped with a note, as are the rows using it."""
    fns, rows = BENCHES[kind]()
    results, _, notes = common.first_calls(fns, reference=("hand-written", "NumPy"))
    check(results)
    samples, min_sample_s, warmup_s = common.quick_timing(args)
    times = common.time_round_robin(fns, samples=samples, min_sample_s=min_sample_s, warmup_s=warmup_s)
    return times, notes, rows


# --------------------------------------------------------------------------
# report

BASELINE_WORD = {"jvp": "own loss", "hvp": "own gradient", "chain": "hand-written", "funnel": "hand-written"}


def table(kind, times, notes, rows):
    """Rows: library, median with spread, baseline median, ratio paired
    round by round (median and IQR), note (a failure note instead of figures)."""
    headers = ["library", "median (IQR, best)", f"baseline ({BASELINE_WORD[kind]}) median",
               "ratio (paired, IQR)", "note"]
    out = []
    for label, op, base in rows:
        missing = [n for n in (op, base) if n not in times]
        if missing:
            out.append([label, "-", "-", "-", "; ".join(
                f"{n}: {notes.get(n, 'not run')}" for n in missing)])
            continue
        out.append([label, common.spread(times[op]), common.format_seconds(common.median(times[base])),
                    common.ratio_spread(times[op], times[base]), "" if base != op else "baseline"])
    return common.markdown_table(headers, out)


SUMMARY_NAMES = {"jvp": "jvp of the MLP loss / loss", "hvp": "hvp in W1 / gradient in W1",
                 "chain": f"{CHAIN_LAYERS} tanh layers {CHAIN_WIDTH}x{CHAIN_WIDTH}",
                 "funnel": "2000-200-200-10 chain"}


def summary_rows(kind, times, rows):
    """`## Summary` rows of one benchmark: one per chainrule contender, the
    peers' ratios (to their own baselines) beside it."""
    def ratio(op, base):
        return common.paired_ratio(times[op], times[base])

    peers = [(label, op, base) for label, op, base in rows
             if not label.startswith("chainrule") and op != base and op in times and base in times]
    out = []
    for label, op, base in rows:
        if not (label.startswith("chainrule") and op in times and base in times and op != base):
            continue
        r = ratio(op, base)
        mode = label.split()[-1] if kind in ("chain", "funnel") else ""
        same_mode = [p for p in peers if kind not in ("chain", "funnel") or mode[-3:] in p[1]
                     or "own choice" in label or "autograd" in p[0]]
        peer_text = ", ".join(f"{p[0]} {ratio(p[1], p[2]):.2f}" for p in same_mode) or "(none installed)"
        out.append([f"{SUMMARY_NAMES[kind]}: {label}", common.ratio_spread(times[op], times[base])
                    + f", {common.format_seconds(common.median(times[op]))}", peer_text,
                    f"at most {TARGETS[kind]}",
                    common.met(r, TARGETS[kind], common.any_disturbed(times[op], times[base]))])
    return out


DESCRIPTIONS = {
    "jvp": ("MLP: jvp of the loss along all parameters",
            "x (256 x 100) -> tanh(x W1 + b1), W1 100 x 1000 -> softmax cross-entropy over 10 "
            "classes, float64; the derivative along a random direction in (W1, b1, W2, b2). "
            "Each library's jvp is divided by its own evaluation of the loss (chainrule's and the "
            "hand-written one's by the plain NumPy loss)."),
    "hvp": ("MLP: Hessian-vector product with respect to W1",
            "The same loss as a function of W1 alone (10^5 parameters); H v along a random V. "
            "Each library's hvp is divided by its own gradient with respect to W1."),
    "chain": (f"Jacobian of {CHAIN_LAYERS} tanh layers {CHAIN_WIDTH} x {CHAIN_WIDTH}",
              f"h = tanh(W h + b), {CHAIN_LAYERS} layers, x in R^{CHAIN_WIDTH}; the full "
              f"{CHAIN_WIDTH} x {CHAIN_WIDTH} Jacobian dh/dx. Forward-mode contenders are divided "
              "by the hand-written product taken from the input side, reverse-mode ones by the "
              "product taken from the output side (after a forward pass)."),
    "funnel": ("Jacobian of a 2000 -> 200 -> 200 -> 10 tanh chain",
               "h = tanh(W h + b) with W 200 x 2000, 200 x 200, 10 x 200; the 10 x 2000 Jacobian "
               "dh/dx, divided by the hand-written product taken from the output side."),
}


def report(args, command, sections, load_start):
    samples, min_sample_s, warmup_s = common.quick_timing(args)
    rows = [r for kind, (times, _, rs) in sections.items() for r in summary_rows(kind, times, rs)]
    everything = {f"{kind} {k}": v for kind, (times, _, _) in sections.items() for k, v in times.items()}
    parts = common.report_header(
        "# Forward-mode, Hessian-vector and Jacobian benchmark results", command, args, load_start,
        common.SHARED_MACHINE_NOTE,
        "- timing: every contender (operations and their baselines alike) called once "
        f"untimed, warmed up for {warmup_s} s, then {samples} round-robin samples of at "
        f"least {min_sample_s * 1e3:.0f} ms each; ratios are medians of the per-round ratios "
        "(with their IQR). Every contender's result is first checked against the hand-written one "
        "(np.allclose, rtol 1e-8). " + common.disturbance_note(everything) + ".",
        summary=common.summary_section(rows))
    for kind, res in sections.items():
        title, text = DESCRIPTIONS[kind]
        parts += [f"## {title}", "", text, "", table(kind, *res), ""]
    return "\n".join(parts)


def main(argv=None):
    args = common.argument_parser(__doc__, only=BENCHES).parse_args(argv)
    common.reexec_with_env(args.malloc, args.threads)
    command = common.command_line(__file__)
    load_start = os.getloadavg()
    sections = {}
    for kind in args.only or list(BENCHES):
        start = time.perf_counter()
        sections[kind] = timed(kind, args)
        print(f"{DESCRIPTIONS[kind][0]} ({time.perf_counter() - start:.0f} s)\n"
              + table(kind, *sections[kind]) + "\n", flush=True)
    print(common.summary_section([r for kind, (times, _, rs) in sections.items()
                                  for r in summary_rows(kind, times, rs)]))
    common.write_results(args, RESULTS, report(args, command, sections, load_start))


if __name__ == "__main__":
    main()
