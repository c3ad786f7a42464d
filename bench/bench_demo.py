"""One epoch of the demo's training, side by side.

The network, batch size and optimiser of `python -m chainrule demo`: inputs
in R^100 (MNIST after PCA; here random inputs of the same shape, 60000 rows,
so no download is needed), 1000 tanh hidden units, softmax cross-entropy over
10 classes, minibatches of 128 in a fixed random order, Adam (lr 1e-3).
Contenders, in float64 and float32:

- hand-written NumPy: the backward pass written out, the demo's Adam;
- chainrule eager: `cr.value_and_grad(loss)`, the demo's Adam;
- chainrule compiled: `cr.compile(cr.value_and_grad(loss))`, the demo's Adam;
- PyTorch CPU (eager): `torch.autograd.grad`, `torch.optim.Adam`;
- JAX CPU (jit): one jitted step, gradient and Adam update together.

Every contender's first-batch loss and gradient are checked against the
hand-written ones before timing. Target: chainrule compiled within 1.1x of
hand-written NumPy and no slower than PyTorch.

    python bench/bench_demo.py --threads 1   # full run: writes bench/results_demo.md
    python bench/bench_demo.py --quick       # 5 batches an epoch, 2 samples, prints only
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_demo.md"
ROWS, D, HIDDEN, K, BATCH, LR = 60000, 100, 1000, 10, 128, 1e-3
TARGET_HAND, TARGET_TORCH = 1.1, 1.0
DTYPES = ("float64", "float32")


def data(dtype, seed=0):
    """Initial weights (the demo's initialisation), inputs, one-hot labels, batch order."""
    from chainrule.demo.mnist_mlp import init_params
    rng = np.random.default_rng(seed)
    params = init_params(rng, D, HIDDEN, K, dtype=np.dtype(dtype))
    x = rng.standard_normal((ROWS, D)).astype(dtype)
    onehot = np.eye(K, dtype=dtype)[rng.integers(0, K, ROWS)]
    order = rng.permutation(ROWS)
    return params, x, onehot, order


def handwritten(params, x, onehot):
    """The loss and its gradient by a hand-written backward pass."""
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    s = np.sum(e, axis=1, keepdims=True)
    n = x.shape[0]
    value = -np.sum(onehot * (z - np.log(s))) / n
    dz = (e / s - onehot) / n  # rows of onehot sum to 1
    da = (dz @ W2.T) * (1 - h * h)
    return value, [x.T @ da, np.sum(da, axis=0), h.T @ dz, np.sum(dz, axis=0)]


def numpy_contender(value_and_grad, params, x, onehot, order, batches):
    """(epoch, first-batch value and gradient) for a NumPy value-and-gradient
    function, trained with the demo's Adam."""
    from chainrule.demo.mnist_mlp import Adam
    opt = Adam(params, lr=LR)

    def epoch():
        for b in range(batches):
            rows = order[b * BATCH:(b + 1) * BATCH]
            _, grads = value_and_grad(opt.params, x[rows], onehot[rows])
            opt.step(grads)

    first = order[:BATCH]
    return epoch, lambda: value_and_grad(params, x[first], onehot[first])


def torch_contender(params, x, onehot, order, batches):
    torch = common.setup_torch()

    def loss(p, xb, yb):
        W1, b1, W2, b2 = p
        z = torch.tanh(xb @ W1 + b1) @ W2 + b2
        z = z - torch.amax(z, dim=1, keepdim=True)
        return -torch.sum(yb * (z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True)))) / xb.shape[0]

    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    tx, tonehot, torder = torch.from_numpy(x), torch.from_numpy(onehot), torch.from_numpy(order)
    opt = torch.optim.Adam(tparams, lr=LR)

    def epoch():
        for b in range(batches):
            rows = torder[b * BATCH:(b + 1) * BATCH]
            value = loss(tparams, tx[rows], tonehot[rows])
            grads = torch.autograd.grad(value, tparams)
            for p, g in zip(tparams, grads):
                p.grad = g
            opt.step()

    fresh = [torch.tensor(p, requires_grad=True) for p in params]

    def first():
        value = loss(fresh, tx[torder[:BATCH]], tonehot[torder[:BATCH]])
        return value, torch.autograd.grad(value, fresh)
    return epoch, first


def jax_contender(params, x, onehot, order, batches):
    jax = common.setup_jax()
    import jax.numpy as jnp

    def loss(p, xb, yb):
        W1, b1, W2, b2 = p
        z = jnp.tanh(xb @ W1 + b1) @ W2 + b2
        z = z - jnp.max(z, axis=1, keepdims=True)
        return -jnp.sum(yb * (z - jnp.log(jnp.sum(jnp.exp(z), axis=1, keepdims=True)))) / xb.shape[0]

    value_and_grad = jax.value_and_grad(loss)

    @jax.jit
    def step(p, m, v, t, xb, yb):
        _, g = value_and_grad(p, xb, yb)
        b1, b2 = 0.9, 0.999
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        rate = LR * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = [pi - rate * mi / (jnp.sqrt(vi) + 1e-8) for pi, mi, vi in zip(p, m, v)]
        return p, m, v

    jx, jonehot = jnp.asarray(x), jnp.asarray(onehot)
    state = {"p": [jnp.asarray(p) for p in params], "m": [jnp.zeros_like(jnp.asarray(p)) for p in params],
             "t": 0}
    state["v"] = list(state["m"])
    batch_rows = [jnp.asarray(order[b * BATCH:(b + 1) * BATCH]) for b in range(batches)]

    def epoch():
        p, m, v, t = state["p"], state["m"], state["v"], state["t"]
        for rows in batch_rows:
            t += 1
            p, m, v = step(p, m, v, jnp.asarray(t, dtype=jx.dtype), jx[rows], jonehot[rows])
        jax.block_until_ready(p)
        state.update(p=p, m=m, v=v, t=t)

    jparams = [jnp.asarray(p) for p in params]
    first_grad = jax.jit(value_and_grad)
    return epoch, lambda: first_grad(jparams, jx[batch_rows[0]], jonehot[batch_rows[0]])


def contenders(dtype, batches):
    """name -> (epoch callable, first-batch value-and-gradient callable)."""
    import chainrule as cr
    from chainrule.demo.mnist_mlp import loss
    params, x, onehot, order = data(dtype)
    out = {
        "hand-written NumPy": numpy_contender(handwritten, params, x, onehot, order, batches),
        "chainrule eager": numpy_contender(cr.value_and_grad(loss), params, x, onehot, order, batches),
        "chainrule compiled": numpy_contender(cr.compile(cr.value_and_grad(loss)), params, x, onehot,
                                              order, batches),
    }
    for name, make in (("PyTorch", torch_contender), ("JAX (jit)", jax_contender)):
        try:
            out[name] = make(params, x, onehot, order, batches)
        except ImportError:
            pass
    return out


def check_agreement(firsts, dtype):
    """Every contender's first-batch loss and gradient must equal the hand-written ones."""
    rtol, atol = (1e-9, 1e-12) if dtype == "float64" else (1e-3, 1e-5)
    ref_value, ref_grads = firsts["hand-written NumPy"]()
    for name, first in firsts.items():
        value, grads = first()
        ok = np.allclose(common.as_float_array(value), ref_value, rtol=rtol, atol=atol) and all(
            np.allclose(common.as_float_array(g), r, rtol=rtol, atol=atol) for g, r in zip(grads, ref_grads))
        if not ok:
            raise AssertionError(f"{name}'s {dtype} loss or gradient differs from the hand-written one")


def timed(dtype, batches, samples):
    """name -> (median, best) seconds per epoch, and notes (first-call times, failures)."""
    pairs = contenders(dtype, batches)
    epochs = {name: epoch for name, (epoch, _) in pairs.items()}
    firsts = {name: first for name, (_, first) in pairs.items()}
    _, firsts_seconds, notes = common.first_calls(firsts, "hand-written NumPy")
    check_agreement({name: firsts[name] for name in firsts_seconds}, dtype)
    epochs = {name: fn for name, fn in epochs.items() if name in firsts_seconds}
    _, seconds, epoch_notes = common.first_calls(epochs, "hand-written NumPy")  # compiles, warms up
    notes.update(epoch_notes)
    for name in ("chainrule compiled", "JAX (jit)"):
        if name in seconds:
            notes.setdefault(name, f"first epoch {seconds[name]:.2f} s (compiles)")
    times = common.time_round_robin(epochs, samples=samples, min_sample_s=0.0, warmup_s=0.0)
    return {name: (common.median(ts), min(ts)) for name, ts in times.items()}, notes


def table(times, notes):
    ref_median, ref_best = times["hand-written NumPy"]
    rows = [[name, common.format_seconds(m), common.format_seconds(b), common.ratio(m, ref_median),
             common.ratio(b, ref_best), notes.get(name, "")] for name, (m, b) in times.items()]
    rows += [[name, "-", "-", "-", "-", note] for name, note in notes.items() if name not in times]
    return common.markdown_table(["contender", "median per epoch", "best epoch", "ratio (median)",
                                  "ratio (best)", "note"], rows)


def summary_rows(results):
    """The Summary rows: one per dtype, judged on medians."""
    rows = []
    for dtype, (times, _) in results.items():
        if "chainrule compiled" not in times:
            continue
        compiled = times["chainrule compiled"][0]
        to_hand = compiled / times["hand-written NumPy"][0]
        peers = ", ".join(f"{name} {times[name][0] / times['hand-written NumPy'][0]:.2f}x"
                          for name in ("chainrule eager", "PyTorch", "JAX (jit)") if name in times)
        met = to_hand <= TARGET_HAND
        if "PyTorch" in times:
            met = met and compiled <= TARGET_TORCH * times["PyTorch"][0]
        rows.append([f"demo training epoch, {dtype} (compiled, vs hand-written NumPy)",
                     f"{to_hand:.2f}x", peers, f"<= {TARGET_HAND}x hand-written and <= PyTorch",
                     "yes" if met else "no"])
    return rows


def report(args, command, results, load_start, batches):
    parts = ["# Demo training benchmark results", "", "## Summary", "",
             common.markdown_table(["benchmark", "chainrule", "peers", "target", "met"],
                                   summary_rows(results)), ""]
    header = common.report_header(
        "## Setup", command, args, load_start, common.SHARED_MACHINE_NOTE,
        f"- timing: each contender's first-batch gradient checked against the hand-written one; "
        f"one untimed epoch (compiles); then {args.samples} round-robin epochs each")
    parts += header
    parts += [f"An epoch: {batches} batches of {BATCH} from {ROWS} rows, x in R^{D}, {HIDDEN} tanh "
              f"units, softmax cross-entropy over {K} classes, Adam (lr {LR}).", ""]
    for dtype, res in results.items():
        parts += [f"## {dtype}", "", table(*res), ""]
    return "\n".join(parts)


def main(argv=None):
    args = common.argument_parser(__doc__).parse_args(argv)
    common.reexec_with_env(args.malloc, args.threads)
    command = common.command_line(__file__)
    batches, args.samples = (5, 2) if args.quick else (ROWS // BATCH, 5)
    load_start = os.getloadavg()
    results = {}
    for dtype in DTYPES:
        results[dtype] = timed(dtype, batches, args.samples)
        print(f"one epoch ({batches} batches), {dtype}\n" + table(*results[dtype]) + "\n", flush=True)
    for row in summary_rows(results):
        print(f"- {row[0]}: {row[1]} ({row[2]}); target {row[3]}: {row[4]}")
    common.write_results(args, RESULTS, report(args, command, results, load_start, batches))


if __name__ == "__main__":
    main()
