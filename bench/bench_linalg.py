"""Linear algebra in reverse mode: the gradient of a Gaussian-process
marginal likelihood against a hand-derived NumPy gradient and other AD
libraries.

The model: n = 500 points in 2-D, an RBF kernel
K = sf2 exp(-|x_i - x_j|^2 / (2 ell^2)) + sn2 I with the signal variance,
length scale and noise variance as log-parameters theta, and the negative
log marginal likelihood

    nll(theta) = y^T K^-1 y / 2 + log det K / 2 + n log(2 pi) / 2

written in plain NumPy: K^-1 y by a Cholesky factor and two solves
(SciPy's cho_solve spelt with np.linalg.solve), log det K from the
factor's diagonal. Its gradient in theta by chainrule is timed against the
classic hand-derived formula

    d nll / d theta_i = -tr((a a^T - K^-1) dK/dtheta_i) / 2,   a = K^-1 y,

and against JAX (without and with jit) and PyTorch on the same code. Two
other spellings of the same nll (solve with K itself; log det by slogdet)
show what each linalg rule costs, as does the SciPy spelling (cho_factor and
cho_solve from chainrule.scipy.linalg, whose solves are triangular). Every gradient is checked against the
hand-derived one first. The squared distances are computed once, outside
(they do not depend on theta), so the timings are of the linear algebra.

    python bench/bench_linalg.py --threads 1    # full run, writes bench/results_linalg.md
    python bench/bench_linalg.py --quick        # fewer samples, prints only
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_linalg.md"
TARGET = 1.2
N_POINTS, DIM = 500, 2
HAND = "hand-derived NumPy"


# --------------------------------------------------------------------------
# the negative log marginal likelihood, written once over a NumPy-like
# module `xp` (`linalg` is its linalg namespace); three spellings

def kernel(xp, theta, sqdist):
    sf2, ell, sn2 = xp.exp(theta[0]), xp.exp(theta[1]), xp.exp(theta[2])
    return sf2 * xp.exp(-0.5 * sqdist / ell**2) + sn2 * xp.eye(sqdist.shape[0], dtype=sqdist.dtype)


def nll_cholesky(xp, linalg):
    """K^-1 y as cho_solve does it: L^-T (L^-1 y)."""
    def nll(theta, sqdist, y):
        L = linalg.cholesky(kernel(xp, theta, sqdist))
        alpha = linalg.solve(L.T, linalg.solve(L, y))
        return 0.5 * (y @ alpha) + xp.sum(xp.log(xp.diag(L))) + 0.5 * y.shape[0] * np.log(2 * np.pi)
    return nll


def nll_solve(xp, linalg):
    """K^-1 y by solving with K itself; log det K still from the Cholesky factor."""
    def nll(theta, sqdist, y):
        K = kernel(xp, theta, sqdist)
        L = linalg.cholesky(K)
        return (0.5 * (y @ linalg.solve(K, y)) + xp.sum(xp.log(xp.diag(L)))
                + 0.5 * y.shape[0] * np.log(2 * np.pi))
    return nll


def nll_slogdet(xp, linalg):
    """No Cholesky factor: solve with K, log det K by slogdet."""
    def nll(theta, sqdist, y):
        K = kernel(xp, theta, sqdist)
        return (0.5 * (y @ linalg.solve(K, y)) + 0.5 * linalg.slogdet(K)[1]
                + 0.5 * y.shape[0] * np.log(2 * np.pi))
    return nll


def nll_cho_solve(xp, linalg):
    """The SciPy spelling: cho_factor / cho_solve (triangular solves); linalg
    is scipy.linalg, chainrule.scipy.linalg or jax.scipy.linalg."""
    def nll(theta, sqdist, y):
        c = linalg.cho_factor(kernel(xp, theta, sqdist), lower=True)
        return (0.5 * (y @ linalg.cho_solve(c, y)) + xp.sum(xp.log(xp.diag(c[0])))
                + 0.5 * y.shape[0] * np.log(2 * np.pi))
    return nll


def nll_grad_handwritten(theta, sqdist, y):
    """The nll and its gradient: with W = a a^T - K^-1 (a = K^-1 y),
    d nll/d theta_i = -sum(W * dK/dtheta_i) / 2, where
    dK/d log sf2 = Kf (the kernel without noise), dK/d log ell = Kf * r^2 / ell^2,
    dK/d log sn2 = sn2 I."""
    sf2, ell, sn2 = np.exp(theta)
    n = y.shape[0]
    Kf = sf2 * np.exp(-0.5 * sqdist / ell**2)
    K = Kf + sn2 * np.eye(n)
    L = np.linalg.cholesky(K)
    Kinv = np.linalg.inv(K)
    a = Kinv @ y
    nll = 0.5 * (y @ a) + np.sum(np.log(np.diagonal(L))) + 0.5 * n * np.log(2 * np.pi)
    W = np.outer(a, a) - Kinv
    WKf = W * Kf
    grad = -0.5 * np.array([np.sum(WKf), np.sum(WKf * sqdist) / ell**2, sn2 * np.trace(W)])
    return nll, grad


def gp_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 5, (N_POINTS, DIM))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1]) + 0.1 * rng.standard_normal(N_POINTS)
    sqdist = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    theta = np.log([1.0, 0.8, 0.01])  # sf2, ell, sn2
    return theta, sqdist, y


# --------------------------------------------------------------------------
# the contenders: name -> callable returning (value, gradient)

def contenders(theta, sqdist, y):
    import chainrule as cr
    fns = {HAND: lambda: nll_grad_handwritten(theta, sqdist, y)}
    for label, spelling in (("", nll_cholesky), (" (solve with K)", nll_solve),
                            (" (solve with K, slogdet)", nll_slogdet)):
        fns["chainrule" + label] = lambda f=cr.value_and_grad(spelling(np, np.linalg)): f(theta, sqdist, y)
    try:
        from chainrule.scipy import linalg as cr_scipy_linalg
        # bound now: `f` is reassigned below, which a late-binding closure would see
        fns["chainrule (scipy cho_factor, cho_solve)"] = (
            lambda f=cr.value_and_grad(nll_cho_solve(np, cr_scipy_linalg)): f(theta, sqdist, y))
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp
        fns["autograd"] = lambda f=autograd.value_and_grad(nll_cholesky(anp, anp.linalg)): f(theta, sqdist, y)
    except ImportError:
        pass
    try:
        jax = common.setup_jax()
        import jax.numpy as jnp
        f = jax.value_and_grad(nll_cholesky(jnp, jnp.linalg))
        args = tuple(jnp.asarray(a) for a in (theta, sqdist, y))
        fns["JAX (no jit)"] = lambda: jax.block_until_ready(f(*args))
        jitted = jax.jit(f)
        fns["JAX (jit)"] = lambda: jax.block_until_ready(jitted(*args))
    except ImportError:
        pass
    try:
        torch = common.setup_torch()
        tt = torch.tensor(theta, requires_grad=True)
        ts, ty = torch.from_numpy(sqdist), torch.from_numpy(y)
        tf = nll_cholesky(torch, torch.linalg)

        def torch_value_and_grad():
            value = tf(tt, ts, ty)
            return value, torch.autograd.grad(value, tt)[0]
        fns["PyTorch"] = torch_value_and_grad
    except ImportError:
        pass
    return fns


def timed(args):
    """name -> Samples (seconds per gradient), name -> note, the gradient."""
    data = gp_data()
    fns = contenders(*data)
    results, seconds, notes = common.first_calls(fns, HAND)
    if "JAX (jit)" in seconds:
        notes["JAX (jit)"] = f"compile {seconds['JAX (jit)']:.2f} s"
    want_value, want_grad = results[HAND]
    for name, (value, grad) in results.items():
        if not (np.allclose(common.as_float_array(value), want_value, rtol=1e-9)
                and np.allclose(common.as_float_array(grad), want_grad, rtol=1e-7, atol=1e-9)):
            raise AssertionError(f"{name}'s value or gradient differs from the hand-derived one: "
                                 f"{common.as_float_array(grad)} vs {want_grad}")
    samples, min_sample_s, warmup_s = common.quick_timing(args) if args.quick else (21, 0.2, 0.3)
    times = common.time_round_robin(fns, samples=samples, min_sample_s=min_sample_s, warmup_s=warmup_s)
    return times, notes, want_grad


# --------------------------------------------------------------------------
# report

def table(times, notes):
    return common.timing_table(times, notes, HAND)


def summary_rows(times):
    if "chainrule" not in times:
        return [["GP marginal likelihood gradient (n = 500) / hand-derived", "did not run", "-",
                 f"at most {TARGET}x", "no"]]
    r = common.paired_ratio(times["chainrule"], times[HAND])
    variants = [n for n in times if n.startswith("chainrule (")]
    cell = common.ratio_spread(times["chainrule"], times[HAND])
    if variants:
        cell += "; " + ", ".join(f"{n[len('chainrule '):]}: "
                                 f"{common.paired_ratio(times[n], times[HAND]):.2f}x" for n in variants)
    peers = [n for n in times if not n.startswith("chainrule") and n != HAND]
    return [[f"GP marginal likelihood gradient (n = {N_POINTS}) / hand-derived", cell,
             common.peers_text(times, HAND, peers), f"at most {TARGET}x",
             common.met(r, TARGET, common.any_disturbed(times["chainrule"], times[HAND]))]]


def report(args, command, times, notes, grad, load_start):
    samples, min_sample_s, warmup_s = common.quick_timing(args) if args.quick else (21, 0.2, 0.3)
    parts = common.report_header(
        "# Linear-algebra benchmark results: GP marginal likelihood gradient", command, args,
        load_start, common.SHARED_MACHINE_NOTE,
        "- timing: each contender called once untimed (JAX's jit compiles there), warmed "
        f"up for {warmup_s} s, then {samples} round-robin samples of at least "
        f"{min_sample_s * 1e3:.0f} ms each; medians with IQR and best sample, ratios paired "
        "round by round. Every value and gradient is first checked against the hand-derived one. "
        + common.disturbance_note(times) + ".",
        summary=common.summary_section(summary_rows(times)))
    parts += ["## Gradient of the negative log marginal likelihood", "",
              f"n = {N_POINTS} points in {DIM}-D, RBF kernel, theta = (log sf2, log ell, log sn2) = "
              f"({', '.join(f'{t:.3g}' for t in gp_data()[0])}); gradient "
              f"({', '.join(f'{g:.6g}' for g in grad)}). The rows without a note in brackets "
              "differentiate the Cholesky spelling (cho_solve by two np.linalg.solve calls, which "
              "chainrule solves by substitution since L is triangular); "
              "the hand-derived gradient uses np.linalg.cholesky (log det) and np.linalg.inv.",
              "", table(times, notes), ""]
    return "\n".join(parts)


def main(argv=None):
    args = common.argument_parser(__doc__).parse_args(argv)
    common.reexec_with_env(args.malloc, args.threads)
    command = common.command_line(__file__)
    load_start = os.getloadavg()
    times, notes, grad = timed(args)
    print("GP marginal likelihood, value and gradient\n" + table(times, notes) + "\n")
    print(common.summary_section(summary_rows(times)))
    common.write_results(args, RESULTS, report(args, command, times, notes, grad, load_start))


if __name__ == "__main__":
    main()
