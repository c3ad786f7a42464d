"""Whole Jacobians the smart way: the planned product order, and sparse
Jacobians and Hessians by colouring.

Three benchmarks, one run:

1. chains: the Jacobian of chains of dense tanh layers whose widths make a
   different order best (1000 -> 10 -> 1000 hourglass: mixed; 1000 -> 10
   -> 1000 -> 10: reverse; 10 -> 1000 -> 10 -> 1000: forward; 1000 -> 10 ->
   1000 -> 10 -> 1000: mixed), by `cr.jacobian` (the planned order),
   `cr.jacfwd`, `cr.jacrev`, and JAX's jacfwd / jacrev (jit) where
   installed; and 1000 -> 10 -> 1000 -> 1000 (mixed: the square layer
   after the waist costs 10 tangents instead of 1000); and the residual
   block x + (1000 -> 10 -> 1000) (no cut point inside: the plan splits
   the two branches, series-parallel), and three such blocks stacked (each
   later block a low-rank update of the Jacobian so far). Targets:
   `cr.jacobian` never slower than the better pure mode by more than 5%,
   at least 3x faster than the worse one, and faster than both where the
   plan is mixed.
2. sparse: the Jacobian of a discretised PDE residual (5-point Laplacian
   plus a cubic term, Dirichlet boundary) with N = 10^4 and 10^5 unknowns
   by `cr.jacobian(sparse=True)` (pattern and colouring cached after the
   first call, which is reported apart), against dense `cr.jacfwd` at
   N = 10^4. The dense Jacobian at 10^5 (80 GB) does not fit in memory: its
   time is EXTRAPOLATED from 10^4 as N^2 (N tangents of cost N each), and
   reported as such. Target: at least 100x faster than dense at 10^5.
3. hessian: the Hessian of the chained Rosenbrock function in 10^4
   variables by `cr.hessian(sparse=True)`, against the dense `cr.hessian`
   at 10^3 variables extrapolated as n^2; and one Newton step on it with
   the sparse Hessian (scipy.sparse.linalg.spsolve) against the dense
   Hessian and np.linalg.solve at 2000 variables.

    python bench/bench_jacobian.py --threads 1   # full run, writes bench/results_jacobian.md
    python bench/bench_jacobian.py --quick       # small sizes, few samples, prints only
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_jacobian.md"
TARGETS = {"vs_better": 1.05, "vs_worse": 3.0, "sparse": 100.0}
PLANNED, FWD, REV = "cr.jacobian (planned)", "cr.jacfwd", "cr.jacrev"


# --------------------------------------------------------------------------
# 1. chains

CHAINS = {
    "1000-10-1000": [1000, 10, 1000],
    "1000-10-1000-10": [1000, 10, 1000, 10],
    "10-1000-10-1000": [10, 1000, 10, 1000],
    "1000-10-1000-10-1000": [1000, 10, 1000, 10, 1000],
    "1000-10-1000-1000": [1000, 10, 1000, 1000],
    "x + (1000-10-1000)": [1000, 10, 1000],  # a residual block: series-parallel, no cut inside
    "x + (1000-10-1000), 3 blocks": [1000, 10, 1000],  # stacked: each later block a low-rank update
}


def chain_weights(widths, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((m, n)) / np.sqrt(n) for n, m in zip(widths[:-1], widths[1:])]


def chain_fun(xp, weights, residual=False, blocks=1):
    """x -> tanh(W_k ... tanh(W_1 x)), with a few elementwise steps per
    layer; with residual, x plus that, repeated `blocks` times."""
    def layers(x):
        y = x
        for W in weights:
            y = xp.tanh(W @ y)
            y = y * (1.0 + 0.1 * xp.sin(y))
        return y

    def f(x):
        if not residual:
            return layers(x)
        for _ in range(blocks):
            x = x + layers(x)
        return x
    return f


def chain_contenders(label, widths):
    import chainrule as cr
    weights = chain_weights(widths)
    x = np.random.default_rng(1).standard_normal(widths[0])
    residual = label.startswith("x +")
    blocks = int(label.split(", ")[1].split()[0]) if ", " in label else 1
    f = chain_fun(np, weights, residual, blocks)
    out = {PLANNED: lambda j=cr.jacobian(f): j(x),
           FWD: lambda j=cr.jacfwd(f): j(x),
           REV: lambda j=cr.jacrev(f): j(x)}
    try:
        jax = common.setup_jax()
        import jax.numpy as jnp
        jw = [jnp.asarray(W) for W in weights]
        jx = jnp.asarray(x)
        g = chain_fun(jnp, jw, residual, blocks)
        for name, mode in (("JAX jacfwd (jit)", jax.jacfwd), ("JAX jacrev (jit)", jax.jacrev)):
            out[name] = lambda j=jax.jit(mode(g)): jax.block_until_ready(j(jx))
    except ImportError:
        pass
    plan = cr.jacobian_plan(f, x)
    return out, plan


def run_chains(args):
    rows, results = [], {}
    for label, widths in CHAINS.items():
        if args.quick and label not in ("1000-10-1000", "x + (1000-10-1000), 3 blocks"):
            continue
        fns, plan = chain_contenders(label, widths)
        first, _, notes = common.first_calls(fns, PLANNED)
        ref = first[FWD]
        for name, J in first.items():
            np.testing.assert_allclose(common.as_float_array(J), ref, rtol=1e-8, atol=1e-10,
                                       err_msg=f"{name} on {label}")
        # chainrule's three in one round robin, JAX's in another: in one
        # cycle, whoever follows JAX would meet its worker threads still busy
        med, samples = {}, {}
        for group in ([n for n in fns if not n.startswith("JAX")], [n for n in fns if n.startswith("JAX")]):
            if group:
                times = rotated_round_robin({n: fns[n] for n in group}, args)
                samples.update(times)
                med.update({name: common.median(ts) for name, ts in times.items()})
        results[label] = (plan, med, notes, samples)
        print(f"{label}: plan {plan.order}\n{plan}")
        for name, t in med.items():
            rows.append([label, plan.order, name, common.format_seconds(t),
                         common.ratio(t, med[PLANNED]), notes.get(name, "")])
    return rows, results


def rotated_round_robin(fns, args):
    """common.time_round_robin's samples, taken in as many runs as there are
    contenders, each run starting the round with the next contender: no
    contender always follows the same one (whose memory traffic or worker
    threads would weigh on it alone)."""
    names = list(fns)
    per_run = max(1, -(-args.samples // len(names)))
    times = {name: common.Samples() for name in names}
    for k in range(len(names)):
        order = names[k:] + names[:k]
        for name, ts in common.time_round_robin({n: fns[n] for n in order}, samples=per_run,
                                                min_sample_s=args.min_sample).items():
            times[name].extend(ts)
            times[name].disturbed.extend(ts.disturbed)
            times[name].retries += ts.retries
    return times


def chain_verdicts(results):
    lines, summary = [], []
    for label, (plan, med, _, samples) in results.items():
        better, worse = min(med[FWD], med[REV]), max(med[FWD], med[REV])
        better_mode = FWD if med[FWD] <= med[REV] else REV
        t = med[PLANNED]
        # judged on the ratio paired round by round (the planned call and the
        # better pure mode timed side by side), which cancels drift that a
        # ratio of medians taken over the whole run does not
        paired = common.paired_ratio(samples[PLANNED], samples[better_mode])
        ok_better = paired <= TARGETS["vs_better"]
        ok_worse = worse >= TARGETS["vs_worse"] * t
        ok_mixed = plan.order != "mixed" or t < better
        ok = ok_better and ok_worse and ok_mixed
        jax = {n: v for n, v in med.items() if n.startswith("JAX")}
        peers = ", ".join(f"{n} {common.ratio(v, t)}" for n, v in jax.items()) or "JAX not installed"
        lines.append(f"- {label} (plan {plan.order}): planned / better pure "
                     f"{common.ratio_spread(samples[PLANNED], samples[better_mode])} paired by round, "
                     f"{t / better:.2f}x by medians (target <= {TARGETS['vs_better']}, on the paired "
                     f"ratio), worse pure / planned {worse / t:.1f}x "
                     f"(target >= {TARGETS['vs_worse']})"
                     + (f", faster than both pure modes: {t < better}" if plan.order == "mixed" else "")
                     + f": {'met' if ok else 'NOT met'}")
        summary.append([f"Jacobian {label} ({plan.order})",
                        f"{common.spread(samples[PLANNED])}; {paired:.2f}x {better_mode} paired by round",
                        f"jacfwd {common.ratio(med[FWD], t)}, jacrev {common.ratio(med[REV], t)}; "
                        + peers,
                        f"<= {TARGETS['vs_better']}x better pure, >= {TARGETS['vs_worse']}x faster than worse"
                        + ("; faster than both" if plan.order == "mixed" else ""),
                        "met" if ok else "NOT met"])
    return lines, summary


# --------------------------------------------------------------------------
# 2. sparse PDE residual

def pde_residual(m):
    h2 = 1.0 / (m + 1) ** 2
    rhs = np.ones(m * m)

    def r(u):
        U = u.reshape(m, m)
        P = np.pad(U, 1)
        lap = (P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4 * U) / h2
        return (-lap + U ** 3).ravel() - rhs
    r.__name__ = f"pde_residual_{m}x{m}"
    return r


def run_sparse(args):
    import chainrule as cr
    from chainrule.sparse.compressed import compression
    sizes = [30, 100] if args.quick else [100, 316]  # N = m^2: 10^4 and ~10^5
    dense_m = sizes[0]
    out = {}
    for m in sizes:
        f = pde_residual(m)
        u = np.random.default_rng(2).standard_normal(m * m)
        jac = cr.jacobian(f, sparse=True)
        start = time.perf_counter()
        J = jac(u)
        first = time.perf_counter() - start
        colours = compression(f, u).ncolours
        times = common.time_round_robin({"sparse": lambda: jac(u)}, samples=args.samples,
                                        min_sample_s=args.min_sample)
        t = common.median(times["sparse"])
        out[m * m] = {"first": first, "sparse": t, "colours": colours, "nnz": J.nnz}
        if m == dense_m:
            dense = cr.jacfwd(f)
            D = dense(u)
            np.testing.assert_allclose(J.toarray(), D, rtol=1e-10, atol=1e-8)
            del D
            dt = common.time_round_robin({"dense": lambda: dense(u)}, samples=max(3, args.samples // 3),
                                         min_sample_s=args.min_sample)
            out[m * m]["dense"] = common.median(dt["dense"])
    n0 = dense_m ** 2
    for n, row in out.items():
        if "dense" not in row:
            row["dense_extrapolated"] = out[n0]["dense"] * (n / n0) ** 2
    return out


def sparse_rows(out):
    rows = []
    for n, r in out.items():
        dense = r.get("dense")
        dense_txt = (common.format_seconds(dense) if dense is not None else
                     f"{common.format_seconds(r['dense_extrapolated'])} (extrapolated as N^2)")
        rows.append([n, r["colours"], r["nnz"], common.format_seconds(r["first"]),
                     common.format_seconds(r["sparse"]), common.format_seconds(r["sparse"] / r["colours"]),
                     dense_txt, f"{(dense or r['dense_extrapolated']) / r['sparse']:.0f}x"])
    return rows


def sparse_verdicts(out):
    n = max(out)
    r = out[n]
    speedup = r.get("dense", r.get("dense_extrapolated")) / r["sparse"]
    ok = speedup >= TARGETS["sparse"]
    how = "measured" if "dense" in r else f"dense time extrapolated from N = {min(out)} as N^2"
    line = (f"- sparse PDE Jacobian, N = {n}: {r['colours']} colours, "
            f"{common.format_seconds(r['sparse'])}, {speedup:.0f}x faster than dense jacfwd ({how}; "
            f"target >= {TARGETS['sparse']:.0f}x): {'met' if ok else 'NOT met'}")
    summary = [f"sparse PDE Jacobian, N = {n}", common.format_seconds(r["sparse"]),
               f"dense jacfwd {speedup:.0f}x slower" + ("" if "dense" in r else " (extrapolated)"),
               f">= {TARGETS['sparse']:.0f}x faster than dense", "met" if ok else "NOT met"]
    return [line], [summary]


# --------------------------------------------------------------------------
# 3. sparse Hessian of the chained Rosenbrock function, and a Newton step

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def run_hessian(args):
    import scipy.sparse.linalg as spla

    import chainrule as cr
    from chainrule.sparse.compressed import compression
    n, n_dense, n_newton = (1000, 200, 200) if args.quick else (10_000, 1000, 2000)
    x = np.random.default_rng(3).uniform(-1, 1, n)
    hess = cr.hessian(rosenbrock, sparse=True)
    start = time.perf_counter()
    hess(x)
    first = time.perf_counter() - start
    xd = x[:n_dense]
    dense = cr.hessian(rosenbrock)
    np.testing.assert_allclose(hess(xd).toarray(), dense(xd), rtol=1e-10, atol=1e-8)
    t = common.time_round_robin({"sparse": lambda: hess(x)}, samples=args.samples,
                                min_sample_s=args.min_sample)
    td = common.time_round_robin({"dense": lambda: dense(xd)}, samples=max(3, args.samples // 3),
                                 min_sample_s=args.min_sample)
    grad = cr.grad(rosenbrock)
    xn = x[:n_newton]

    def newton_sparse():
        return xn - spla.spsolve(hess(xn).tocsc(), grad(xn))

    def newton_dense():
        return xn - np.linalg.solve(dense(xn), grad(xn))

    np.testing.assert_allclose(newton_sparse(), newton_dense(), rtol=1e-8, atol=1e-10)
    tn = common.time_round_robin({"sparse": newton_sparse, "dense": newton_dense},
                                 samples=max(3, args.samples // 3), min_sample_s=args.min_sample)
    sparse_t = common.median(t["sparse"])
    dense_t = common.median(td["dense"])
    return {"n": n, "n_dense": n_dense, "first": first, "sparse": sparse_t,
            "colours": compression(rosenbrock, x, hessian=True).ncolours,
            "dense": dense_t, "dense_extrapolated": dense_t * (n / n_dense) ** 2,
            "n_newton": n_newton, "newton_sparse": common.median(tn["sparse"]),
            "newton_dense": common.median(tn["dense"])}


def hessian_rows(h):
    return [[f"sparse Hessian, n = {h['n']} ({h['colours']} colours)", common.format_seconds(h["sparse"]),
             f"first call (pattern, colouring) {common.format_seconds(h['first'])}"],
            [f"dense Hessian, n = {h['n_dense']}", common.format_seconds(h["dense"]),
             f"extrapolated to n = {h['n']} as n^2: {common.format_seconds(h['dense_extrapolated'])}"],
            [f"Newton step, n = {h['n_newton']}, sparse Hessian + spsolve",
             common.format_seconds(h["newton_sparse"]), ""],
            [f"Newton step, n = {h['n_newton']}, dense Hessian + solve",
             common.format_seconds(h["newton_dense"]),
             common.ratio(h["newton_dense"], h["newton_sparse"]) + " the sparse step"]]


def hessian_summary(h):
    return [[f"sparse Hessian, chained Rosenbrock, n = {h['n']}", common.format_seconds(h["sparse"]),
             f"dense cr.hessian {h['dense_extrapolated'] / h['sparse']:.0f}x slower (extrapolated "
             f"from n = {h['n_dense']})", "none set", "-"],
            [f"Newton step, n = {h['n_newton']}", common.format_seconds(h["newton_sparse"]),
             f"dense Hessian + solve {common.ratio(h['newton_dense'], h['newton_sparse'])}", "none set", "-"]]


# --------------------------------------------------------------------------

def report(args, command, load_start, chains, chain_rows, sparse, hess):
    parts = common.report_header(
        "# Jacobian plans and sparse Jacobians: benchmark results", command, args, load_start,
        "", "- timing: medians of round-robin samples (common.time_round_robin; chains: one run "
        "per contender, each run starting its rounds with the next one)", "contender")
    lines, summary = [], []
    if chains:
        a, b = chain_verdicts(chains)
        lines += a
        summary += b
    if sparse:
        a, b = sparse_verdicts(sparse)
        lines += a
        summary += b
    if hess:
        summary += hessian_summary(hess)
    body = ["## Summary", "", common.markdown_table(
        ["benchmark", "chainrule", "peers", "target", "met"], summary), "", *lines, ""]
    if chains:
        body += ["## Chains", "", common.markdown_table(
            ["chain", "plan", "contender", "median", "/ planned", "note"], chain_rows), ""]
        for label, (plan, *_) in chains.items():
            body += [f"Plan for {label}:", "", "```", str(plan), "```", ""]
    if sparse:
        body += ["## Sparse PDE residual Jacobian", "", common.markdown_table(
            ["N", "colours", "nonzeros", "first call", "sparse", "per colour", "dense jacfwd",
             "dense / sparse"], sparse_rows(sparse)), ""]
    if hess:
        body += ["## Chained Rosenbrock Hessian", "", common.markdown_table(
            ["what", "median", "note"], hessian_rows(hess)), ""]
    return "\n".join(parts[:1] + ["", *body] + parts[1:])


def main(argv=None):
    args = common.argument_parser(__doc__, only=["chains", "sparse", "hessian"]).parse_args(argv)
    common.reexec_with_env(args.malloc, args.threads)
    command = common.command_line(__file__)
    args.samples, args.min_sample = (3, 0.01) if args.quick else (15, 0.1)
    which = args.only or ["chains", "sparse", "hessian"]
    load_start = os.getloadavg()
    chains = chain_rows = sparse = hess = None
    if "chains" in which:
        chain_rows, chains = run_chains(args)
        print(common.markdown_table(["chain", "plan", "contender", "median", "/ planned", "note"],
                                    chain_rows) + "\n", flush=True)
    if "sparse" in which:
        sparse = run_sparse(args)
        print(common.markdown_table(["N", "colours", "nonzeros", "first call", "sparse", "per colour",
                                     "dense jacfwd", "dense / sparse"], sparse_rows(sparse)) + "\n",
              flush=True)
    if "hessian" in which:
        hess = run_hessian(args)
        print(common.markdown_table(["what", "median", "note"], hessian_rows(hess)) + "\n", flush=True)
    text = report(args, command, load_start, chains, chain_rows, sparse, hess)
    print("\n".join(line for line in text.splitlines() if line.startswith("- ") and "met" in line))
    common.write_results(args, RESULTS, text)


if __name__ == "__main__":
    main()
