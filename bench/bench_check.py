"""Gradient checkers side by side: which ones catch a slightly wrong gradient?

The tutorial's MLP (100 PCA inputs -> 1000 tanh units -> 10 softmax
outputs, 111,010 weights) on a small MNIST batch, with a hand-written
backprop. The backprop is perturbed by a relative error eps (1e-4, 1e-6,
1e-8) in a random direction, g + eps * |g| * r / |r|, and handed to each
checker as the function's gradient:

* chainrule: `cr.check_grads` on a `cr.custom_vjp` block (order 1);
* torch: `torch.autograd.gradcheck` (default, and fast_mode=True) on a
  `torch.autograd.Function` with that backward;
* jax: `jax.test_util.check_grads(order=1, modes=["rev"])` on a
  `jax.custom_vjp` function.

It reports the detection rate and the time per check, then the false
alarms of `cr.check_grads` on the exact backprop (order 1 and 2) and on
chainrule's own gradient of the same NumPy code. Peers are optional.

The digits are read without any download: the full MNIST files when they
are already in chainrule's data folder ($CHAINRULE_DATA, else
~/.cache/chainrule/mnist; `make demo` fetches them), else the subset that
ships in the repository (src/chainrule/datasets/mnist_subset.npz), with a
message saying which. The results name the source.

    python bench/bench_check.py            # full run, writes bench/results_check.md
    python bench/bench_check.py --quick    # few trials, default rtol only, no torch
                                           # default gradcheck, prints only (seconds)

Trial counts can be changed with BENCH_TRIALS, BENCH_SLOW_TRIALS and
BENCH_FA_TRIALS.
"""

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import chainrule as cr  # noqa: E402
from chainrule.check import check_grads  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_check.md"
EPSILONS = (1e-4, 1e-6, 1e-8)
EXTRA_EPSILONS = (1e-10, 1e-12)   # where chainrule's own limit lies (chainrule only)
TRIALS = int(os.environ.get("BENCH_TRIALS", 20))          # perturbed gradients per eps
SLOW_TRIALS = int(os.environ.get("BENCH_SLOW_TRIALS", 1))  # for torch's default gradcheck
FALSE_ALARM_TRIALS = int(os.environ.get("BENCH_FA_TRIALS", 200))
BATCH = 4


# --------------------------------------------------------------------------
# the tutorial's MLP and its hand-written backprop

def load_batch(rng):
    """A batch of MNIST digits projected on 100 principal components of the
    first 5000 training images (the full files when chainrule finds them,
    else its bundled 14 x 14 subset), and one-hot labels."""
    del rng  # the batch is the same in every run
    from chainrule.datasets import mnist
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        digits = mnist.load(download=False, progress=False,
                            log=lambda line: print(f"bench_check: {line}", flush=True))
    images, labels = digits.train_images[:5000], digits.train_labels[:5000]
    data = images.reshape(len(images), -1) / 255.0
    mean = data.mean(0)
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    x = (data[:BATCH] - mean) @ vt[:100].T
    pixels = "x".join(str(n) for n in images.shape[1:])
    source = f"MNIST ({digits.source}, {pixels} pixels), 100 principal components"
    return x, np.eye(10)[labels[:BATCH]], source


def init_params(rng):
    return (rng.standard_normal((100, 1000)) / 10, np.zeros(1000),
            rng.standard_normal((1000, 10)) / np.sqrt(1000), np.zeros(10))


def loss(W1, b1, W2, b2, x, y):
    """Mean softmax cross-entropy of a tanh MLP: plain NumPy."""
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    return np.mean(np.log(np.sum(np.exp(z), axis=1)) - np.sum(z * y, axis=1))


def backprop(W1, b1, W2, b2, x, y):
    """The gradient of `loss`, derived by hand."""
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - np.max(z, axis=1, keepdims=True))
    dz = (p / np.sum(p, axis=1, keepdims=True) - y) / len(x)
    dh = (dz @ W2.T) * (1 - h**2)
    return x.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)


def perturbation(grads, eps, rng):
    """eps * |g| * r / |r| for a random direction r, split like the params."""
    r = [rng.standard_normal(g.shape) for g in grads]
    size = np.sqrt(sum(np.sum(g**2) for g in grads)) / np.sqrt(sum(np.sum(d**2) for d in r))
    return [eps * size * d for d in r]


def chainrule_block(x, y, delta):
    """The MLP loss as a custom_vjp block whose backprop is off by delta."""
    @cr.custom_vjp
    def mlp_loss(W1, b1, W2, b2):
        grads = backprop(W1, b1, W2, b2, x, y) if delta is not None else None

        def back(g):
            if delta is None:  # exact, and differentiable (order 2 checks it)
                return tuple(g * d for d in backprop(W1, b1, W2, b2, x, y))
            return tuple(g * (d + e) for d, e in zip(grads, delta))
        return loss(W1, b1, W2, b2, x, y), back
    return mlp_loss


# --------------------------------------------------------------------------
# the checkers: each returns True when it flags the gradient as wrong

MARGINS = {}  # eps -> error / tolerance of each chainrule report


def cr_check(params, x, y, delta, eps):
    """cr.check_grads with its defaults (3 trials) but order 1, as the peers."""
    try:
        check_grads(chainrule_block(x, y, delta), params, order=1, hint=False)
        return False
    except AssertionError as e:
        text = str(e)
        error = float(text.split("error ")[1].split(":")[0])
        tolerance = float(text.split("tolerance ")[1].split(")")[0])
        MARGINS.setdefault(eps, []).append(error / tolerance)
        return True


def torch_checkers():
    try:
        torch = common.setup_torch()  # none in a --quick run
    except ImportError:
        return {}
    torch.set_default_dtype(torch.float64)

    def make(x, y, delta):
        class MLP(torch.autograd.Function):
            @staticmethod
            def forward(ctx, W1, b1, W2, b2):
                ctx.save_for_backward(W1, b1, W2, b2)
                h = torch.tanh(torch.from_numpy(x) @ W1 + b1)
                z = h @ W2 + b2
                return torch.mean(torch.logsumexp(z, 1) - torch.sum(z * torch.from_numpy(y), 1))

            @staticmethod
            def backward(ctx, g):
                ps = [t.detach().numpy() for t in ctx.saved_tensors]
                grads = backprop(*ps, x, y)
                return tuple(g * torch.from_numpy(d + e) for d, e in zip(grads, delta))
        return MLP.apply

    def run(params, x, y, delta, fast):
        ts = tuple(torch.tensor(p, requires_grad=True) for p in params)
        try:
            ok = torch.autograd.gradcheck(make(x, y, delta), ts, fast_mode=fast, raise_exception=False)
        except RuntimeError:
            ok = False
        return not ok

    return {
        "torch gradcheck (fast_mode)": lambda p, x, y, d, eps: run(p, x, y, d, True),
        "torch gradcheck (default)": lambda p, x, y, d, eps: run(p, x, y, d, False),
    }


def jax_checker():
    try:
        import jax
        import jax.numpy as jnp
        from jax.test_util import check_grads as jax_check_grads
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)

    def run(params, x, y, delta, eps):
        def fwd_loss(W1, b1, W2, b2):
            h = jnp.tanh(x @ W1 + b1)
            z = h @ W2 + b2
            return jnp.mean(jax.nn.logsumexp(z, 1) - jnp.sum(z * y, 1))

        f = jax.custom_vjp(fwd_loss)

        def f_fwd(*ps):
            return fwd_loss(*ps), ps

        def f_bwd(ps, g):
            grads = backprop(*[np.asarray(p) for p in ps], x, y)
            return tuple(g * (d + e) for d, e in zip(grads, delta))

        f.defvjp(f_fwd, f_bwd)
        try:
            jax_check_grads(f, tuple(jnp.asarray(p) for p in params), order=1, modes=["rev"])
            return False
        except AssertionError:
            return True

    return {"jax check_grads": run}


# --------------------------------------------------------------------------
# the runs

def detection(name, checker, params, x, y, trials, rng, epsilons):
    rows = []
    for eps in epsilons:
        grads = backprop(*params, x, y)
        hits, seconds = 0, 0.0
        for _ in range(trials):
            delta = perturbation(grads, eps, rng)
            t0 = time.perf_counter()
            hits += bool(checker(params, x, y, delta, eps))
            seconds += time.perf_counter() - t0
        rows.append((name, eps, hits, trials, seconds / trials))
        print(f"  {name:30s} eps={eps:.0e}: caught {hits}/{trials}, {seconds / trials:.3f} s per check",
              flush=True)
    return rows


RTOL_STEPS = (1, 4, 16, 64, 256)  # rtol in float64 epsilons; 256 is the default


def false_alarms(params, x, y, rng):
    """False alarms on correct gradients at the default rtol and at smaller
    ones, to show the headroom the default leaves."""
    rows = []
    cases = [
        ("exact custom_vjp backprop, order 1", chainrule_block(x, y, None), 1, FALSE_ALARM_TRIALS),
        ("exact custom_vjp backprop, order 2", chainrule_block(x, y, None), 2, FALSE_ALARM_TRIALS // 10),
        ("chainrule's own gradient, order 2", lambda *p: loss(*p, x, y), 2, FALSE_ALARM_TRIALS // 10),
    ]
    for label, fun, order, n in cases:
        n = max(n, 1)
        seeds = [int(s) for s in rng.integers(2**62, size=n)]
        alarms = []
        for steps in RTOL_STEPS:
            t0 = time.perf_counter()
            alarms.append(sum(_flags(fun, params, order, s, steps * np.finfo(float).eps) for s in seeds))
            seconds = (time.perf_counter() - t0) / n
        rows.append((label, alarms, n, seconds))
        print(f"  {label:40s}: false alarms at rtol = {RTOL_STEPS} eps: {alarms} of {n}; "
              f"{seconds:.3f} s per check", flush=True)
    return rows


def _flags(fun, params, order, seed, rtol=None):
    try:
        check_grads(fun, params, order=order, seed=seed, rtol=rtol, hint=False)
        return False
    except AssertionError:
        return True


def main(argv=None):
    global TRIALS, SLOW_TRIALS, FALSE_ALARM_TRIALS, RTOL_STEPS, EXTRA_EPSILONS
    args = common.argument_parser(__doc__).parse_args(argv)
    common.reexec_with_env(args.malloc, args.threads)
    if args.quick:  # a smoke run of every checker: seconds, not minutes
        TRIALS, SLOW_TRIALS, FALSE_ALARM_TRIALS = 2, 0, 10
        RTOL_STEPS, EXTRA_EPSILONS = (256,), ()
    command = common.command_line(__file__)
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(0)
    x, y, source = load_batch(rng)
    params = init_params(rng)
    print(f"MLP 100-1000-10, batch {BATCH} ({source}), {sum(p.size for p in params)} weights")
    checkers = {"chainrule check_grads": cr_check}
    checkers.update(jax_checker())
    checkers.update(torch_checkers())
    rows = []
    for name, checker in checkers.items():
        trials = SLOW_TRIALS if "default" in name else TRIALS
        if not trials:
            continue
        epsilons = EPSILONS + (EXTRA_EPSILONS if name.startswith("chainrule") else ())
        rows += detection(name, checker, params, x, y, trials, rng, epsilons)
    print("false alarms of chainrule check_grads on correct gradients:")
    fa = false_alarms(params, x, y, rng)
    text = results_text(args, command, rows, fa, source)
    print(text)
    common.write_results(args, RESULTS, text)


def summary_rows(rows, fa):
    """`## Summary` rows: detection at eps = 1e-8 against the peers, and false alarms."""
    at = {(name, eps): (hits, n) for name, eps, hits, n, _ in rows}
    eps = 1e-8
    ours = at.get(("chainrule check_grads", eps))
    peers = ", ".join(f"{name} {h}/{n}" for (name, e), (h, n) in at.items()
                      if e == eps and not name.startswith("chainrule"))
    out = []
    if ours:
        out.append([f"gradients off by a relative {eps:.0e} caught", f"{ours[0]}/{ours[1]}",
                    peers or "(none installed)", "all", "yes" if ours[0] == ours[1] else "no"])
    default = [(label, alarms[RTOL_STEPS.index(256)], n) for label, alarms, n, _ in fa]
    total = sum(a for _, a, _ in default)
    out.append(["false alarms on correct gradients (default rtol)", f"{total} in "
                f"{sum(n for _, _, n in default)} checks", "-", "none", "yes" if total == 0 else "no"])
    return out


def results_text(args, command, rows, fa, source):
    all_eps = EPSILONS + EXTRA_EPSILONS
    lines = [
        "# Gradient checkers: detection of a slightly wrong gradient",
        "",
        f"Command: `{command}`" + (" (quick run)" if args.quick else ""),
        "",
        common.summary_section(summary_rows(rows, fa)),
        "## Environment", "",
    ]
    lines += [f"- {k}: {v}" for k, v in common.machine_description().items()]
    lines += [
        "",
        "## Detection",
        "",
        f"The tutorial's MLP (100-1000-10, tanh, softmax cross-entropy, 111,010 weights), "
        f"batch {BATCH} ({source}). A hand-written backprop is perturbed by a relative error "
        "eps in a random direction (g + eps |g| r/|r|) and given to each checker as the "
        "gradient (cr.custom_vjp, torch.autograd.Function, jax.custom_vjp). chainrule: "
        "check_grads(order=1) with its default 3 random trials (forward mode and complex step "
        "through the block's own code vs its backprop). jax: check_grads(order=1, modes=['rev']). torch: "
        f"gradcheck with its default tolerances. {TRIALS} perturbed gradients per eps "
        f"({SLOW_TRIALS} for torch's default gradcheck, which builds the whole numerical Jacobian).",
        "",
        "| checker | " + " | ".join(f"eps = {e:.0e}" for e in all_eps) + " | seconds per check |",
        "|---|" + "---|" * (len(all_eps) + 1),
    ]
    by_name = {}
    for name, eps, hits, n, sec in rows:
        by_name.setdefault(name, {})[eps] = (hits, n, sec)
    for name, cells in by_name.items():
        rates = " | ".join(f"{cells[e][0]}/{cells[e][1]}" if e in cells else "-" for e in all_eps)
        seconds = np.mean([c[2] for c in cells.values()])
        lines.append(f"| {name} | {rates} | {seconds:.3f} |")
    lines += ["", "How far over its tolerance chainrule's detected error was (median of error / "
              "tolerance in the reports): " + ", ".join(
                  f"eps {e:.0e}: {np.median(MARGINS[e]):.1e}" for e in all_eps if e in MARGINS) + "."]
    lines += ["", "## False alarms", "",
              "False alarms of cr.check_grads on correct gradients (3 trials per check), at "
              "the default rtol = 256 eps and at smaller ones:", "",
              "| case | checks | " + " | ".join(f"rtol = {k} eps" for k in RTOL_STEPS)
              + " | seconds per check |", "|---|---|" + "---|" * (len(RTOL_STEPS) + 1)]
    lines += [f"| {label} | {n} | " + " | ".join(str(a) for a in alarms) + f" | {s:.3f} |"
              for label, alarms, n, s in fa]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
