"""ODE gradients: chainrule.scipy.integrate.odeint's adjoint method against
differentiating through the steps of a fixed-step solver, and against the
adjoint odeint of JAX and of HIPS autograd.

The model is a small neural ODE, y' = W2 tanh(W1 y + b1) with a state of
size 4 and 32 hidden units, solved on [0, T] and compared with targets at 8
times; the loss is the squared error and the gradient is taken in the
parameters and the initial state. Contenders:

- chainrule odeint (adjoint): reverse mode runs an augmented ODE backwards
  with SciPy's LSODA; memory does not grow with the number of steps;
- chainrule through RK4 steps: a fixed-step Runge-Kutta loop in NumPy,
  differentiated step by step (the tape holds every step);
- JAX's jax.experimental.ode.odeint (adjoint, Dormand-Prince, jit) and
  autograd.scipy.integrate.odeint (adjoint over SciPy's odeint).

Every gradient is first checked against chainrule's adjoint one (rtol 1e-4:
the solvers differ). Peak memory (resident-set increase in a fresh process)
is measured for the two chainrule contenders with a long horizon, where the
step loop takes many steps.

    python bench/bench_odeint.py --threads 1    # full run, writes bench/results_odeint.md
    python bench/bench_odeint.py --quick        # fewer samples, prints only
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_odeint.md"
STATE, HIDDEN, TIMES = 4, 32, 8
TOL = 1e-8
ADJOINT = "chainrule odeint (adjoint)"
STEPS = "chainrule through RK4 steps"
MEMORY_TARGET = 0.25  # adjoint's peak memory at most this fraction of the step loop's


def problem(horizon=2.0, seed=0):
    rng = np.random.default_rng(seed)
    params = (0.5 * rng.standard_normal((HIDDEN, STATE)), 0.1 * rng.standard_normal(HIDDEN),
              0.3 * rng.standard_normal((STATE, HIDDEN)))
    y0 = rng.standard_normal(STATE)
    t = np.linspace(0.0, horizon, TIMES)
    target = np.cos(t)[:, None] * y0
    return params, y0, t, target


def rhs(xp):
    def f(y, s, w1, b1, w2):
        return w2 @ xp.tanh(w1 @ y + b1)
    return f


def loss_adjoint(t, target):
    from chainrule.scipy.integrate import odeint

    def loss(w1, b1, w2, y0):
        ys = odeint(rhs(np), y0, t, args=(w1, b1, w2), rtol=TOL, atol=TOL)
        return np.sum((ys - target) ** 2)
    return loss


def loss_rk4(t, target, steps_per_interval):
    """The same loss by a fixed-step RK4 loop written in NumPy."""
    f = rhs(np)

    def loss(w1, b1, w2, y0):
        y, out = y0, [y0]
        for i in range(len(t) - 1):
            h = (t[i + 1] - t[i]) / steps_per_interval
            s = t[i]
            for _ in range(steps_per_interval):
                k1 = f(y, s, w1, b1, w2)
                k2 = f(y + h / 2 * k1, s + h / 2, w1, b1, w2)
                k3 = f(y + h / 2 * k2, s + h / 2, w1, b1, w2)
                k4 = f(y + h * k3, s + h, w1, b1, w2)
                y, s = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), s + h
            out.append(y)
        return np.sum((np.stack(out) - target) ** 2)
    return loss


def contenders(params, y0, t, target, steps_per_interval):
    import chainrule as cr
    argnums = (0, 1, 2, 3)
    fns = {
        ADJOINT: lambda g=cr.grad(loss_adjoint(t, target), argnums): g(*params, y0),
        STEPS: lambda g=cr.grad(loss_rk4(t, target, steps_per_interval), argnums): g(*params, y0),
    }
    try:
        jax = common.setup_jax()
        import jax.numpy as jnp
        from jax.experimental.ode import odeint as jax_odeint

        def jloss(w1, b1, w2, y0):
            ys = jax_odeint(lambda y, s, *p: rhs(jnp)(y, s, *p), y0, jnp.asarray(t), w1, b1, w2,
                            rtol=TOL, atol=TOL)
            return jnp.sum((ys - target) ** 2)
        jg = jax.jit(jax.grad(jloss, argnums))
        jargs = tuple(jnp.asarray(a) for a in (*params, y0))
        fns["JAX odeint (adjoint, jit)"] = lambda: jax.block_until_ready(jg(*jargs))
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp
        from autograd.builtins import tuple as ag_tuple
        from autograd.scipy.integrate import odeint as ag_odeint

        def aloss(w1, b1, w2, y0):
            ys = ag_odeint(rhs(anp), y0, t, ag_tuple((w1, b1, w2)), rtol=TOL, atol=TOL)
            return anp.sum((ys - target) ** 2)
        ag = autograd.grad(lambda p: aloss(*p))
        fns["autograd odeint (adjoint)"] = lambda: tuple(ag(ag_tuple((*params, y0))))
    except ImportError:
        pass
    return fns


def timed(samples, min_sample_s, steps_per_interval):
    params, y0, t, target = problem()
    fns = contenders(params, y0, t, target, steps_per_interval)
    results, seconds, notes = common.first_calls(fns, ADJOINT)
    if "JAX odeint (adjoint, jit)" in seconds:
        notes["JAX odeint (adjoint, jit)"] = f"compile {seconds['JAX odeint (adjoint, jit)']:.2f} s"
    want = [np.asarray(g) for g in results[ADJOINT]]
    for name, grads in results.items():
        got = [common.as_float_array(g) for g in grads]
        if not all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(got, want)):
            raise AssertionError(f"{name}'s gradient differs from the adjoint one")
    times = common.time_round_robin(fns, samples=samples, min_sample_s=min_sample_s)
    return {name: (common.median(ts), min(ts)) for name, ts in times.items()}, notes


# ---- memory: one contender per fresh process, a long horizon ----
MEMORY_HORIZON, MEMORY_STEPS = 20.0, 250  # 250 RK4 steps per output interval


def memory_child(name):
    import json
    import chainrule as cr
    params, y0, t, target = problem(horizon=MEMORY_HORIZON)
    loss = loss_adjoint(t, target) if name == ADJOINT else loss_rk4(t, target, MEMORY_STEPS)
    g = cr.grad(loss, (0, 1, 2, 3))
    g(*params, y0)  # warm: imports, allocator pools
    print(json.dumps({"peak_bytes": common.peak_rss_increase(lambda: g(*params, y0))}))


def table(stats, notes):
    ref_median, ref_best = stats[ADJOINT]
    rows = [[name, common.format_seconds(m), common.format_seconds(b), f"{m / ref_median:.2f}x",
             notes.get(name, "")] for name, (m, b) in stats.items()]
    rows += [[name, "-", "-", "-", note] for name, note in notes.items() if name not in stats]
    return common.markdown_table(["contender", "median per gradient", "best sample",
                                  "ratio to the adjoint (median)", "note"], rows)


def memory_table(memory):
    rows = [[name, f"{m['peak_bytes'] / 2**20:.1f} MiB"] for name, m in memory.items()]
    return common.markdown_table(["contender", "peak resident-set increase"], rows)


def summary(stats, memory):
    rows = []
    if ADJOINT in memory and STEPS in memory:
        r = memory[ADJOINT]["peak_bytes"] / max(memory[STEPS]["peak_bytes"], 1)
        rows.append(["odeint adjoint gradient, peak memory vs RK4 steps", f"{r:.2f}x",
                     "-", f"<= {MEMORY_TARGET}x",
                     "yes" if r <= MEMORY_TARGET else "no"])
    for peer in ("JAX odeint (adjoint, jit)", "autograd odeint (adjoint)", STEPS):
        if peer in stats and ADJOINT in stats:
            rows.append([f"odeint adjoint gradient time vs {peer}",
                         common.format_seconds(stats[ADJOINT][0]),
                         common.format_seconds(stats[peer][0]), "-", "-"])
    return common.markdown_table(["benchmark", "chainrule", "peers", "target", "met"], rows)


def main(argv=None):
    args = common.argument_parser(__doc__, memory_child=True).parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child)
    common.reexec_with_env(args.malloc, args.threads)
    command = common.command_line(__file__)
    args.samples, args.min_sample = (3, 0.01) if args.quick else (15, 0.2)
    steps = 10 if args.quick else 50
    load_start = os.getloadavg()
    stats, notes = timed(args.samples, args.min_sample, steps)
    memory = {} if args.quick else common.in_fresh_processes(__file__, [ADJOINT, STEPS])
    print("Neural ODE gradient\n" + table(stats, notes) + "\n")
    if memory:
        print("Peak memory (horizon {MEMORY_HORIZON})\n".format(MEMORY_HORIZON=MEMORY_HORIZON)
              + memory_table(memory) + "\n")
    header = common.report_header("# ODE gradient benchmark results", command, args, load_start,
                                  common.SHARED_MACHINE_NOTE,
                                  f"- timing: round-robin, {args.samples} samples; RK4 loop with "
                                  f"{steps} steps per output interval")
    text = "\n".join(
        header[:2] + ["## Summary", "", summary(stats, memory), "", "## Environment", ""] + header[2:]
        + ["## Neural ODE gradient", "", f"State {STATE}, hidden {HIDDEN}, {TIMES} output times, "
           f"rtol = atol = {TOL}.", "", table(stats, notes), ""]
        + (["## Peak memory", "", f"Horizon {MEMORY_HORIZON}, {MEMORY_STEPS} RK4 steps per output "
            "interval for the step loop.", "", memory_table(memory), ""] if memory else []))
    common.write_results(args, RESULTS, text)


if __name__ == "__main__":
    main()
