"""The graph route (`cr.compile`) against hand-written NumPy, the eager tape
and other AD libraries.

Four benchmarks, one run:

1. mlp: loss and gradient of the tutorial's MNIST MLP (x in R^100, batch
   256, 1000 tanh hidden units, 10-way softmax cross-entropy, float64), with
   one-hot targets, and compiled once more with integer labels
   (`log_p[rows, labels]`, index arrays as operands).
2. loop: gradient of 1000 steps of `x = sin(x) * 1.0001 + 0.1` on a scalar,
   reported per primitive operation (3000 of them).
3. compile: time of the first call of a fresh `cr.compile(cr.value_and_grad(f))`
   (tracing, passes, code generation, exec and one run), median over several
   fresh compiles, for the MLP and the loop, beside JAX jit's first call;
   with chainrule's time split by phase.
4. memory: peak resident-set increase while computing the gradient of a
   50-layer 1000 x 1000 tanh network (batch 64), each contender in a fresh
   process, after one untimed call (compiles) and a malloc_trim.

Ratios are to the hand-written NumPy version (the same hand-written code as
bench_reverse.py). Libraries that are not installed are skipped. The
chainrule measured is this checkout's (src/).

    python bench/bench_graph.py --threads 1    # full run, writes bench/results_graph.md
    python bench/bench_graph.py --quick        # fewer samples, a 100-step loop, prints only
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import bench_reverse  # noqa: E402  (LOOP_STEPS, LOOP_OPS read where used: --quick shortens the loop)
import common  # noqa: E402
from bench_reverse import (  # noqa: E402  (the same functions, data, hand-written code and peers)
    DEEP_BATCH, DEEP_LAYERS, DEEP_WIDTH, check_agreement, deep_data,
    deep_handwritten, deep_loss, jax_args, loop, loop_handwritten, mlp_data, mlp_handwritten,
    mlp_log_p, mlp_loss, peer_contenders)

RESULTS = Path(__file__).resolve().parent / "results_graph.md"
# compiled over hand-written (mlp, loop), compile seconds, peak over hand-written
TARGETS = {"mlp": 1.05, "loop": 1.5, "compile_s": 0.05, "memory": 1.0}
HAND = "hand-written NumPy"
COMPILED = "chainrule compiled"
EAGER = "chainrule eager (tape)"
NUMBA = "chainrule compiled, numba backend"
# the A/A control of the numba MLP row: the NumPy backend compiled a second
# time (its own code object), timed in the same rounds; its ratio to the first
# copy is 1 but for noise, which the row's verdict allows for (common.aa_band)
CONTROL = "chainrule compiled again (A/A control)"
# the numba backend: loop gradient over JAX jit's, MLP gradient over the NumPy backend's
NUMBA_TARGETS = {"loop_vs_jax": 2.0, "mlp_vs_numpy": 1.0}


# --------------------------------------------------------------------------
# the functions, written once over a NumPy-like module `xp` (the one-hot MLP,
# loop and deep network come from bench_reverse)

def mlp_loss_labels(xp):
    """The MLP loss with integer labels: picks log_p[i, labels[i]]."""
    def loss(params, x, labels):
        log_p = mlp_log_p(xp, params, x)
        return -xp.sum(log_p[xp.arange(x.shape[0]), labels]) / x.shape[0]
    return loss


# --------------------------------------------------------------------------
# one callable per contender; peers missing from the machine are left out

def contenders(kind, data):
    """name -> no-argument callable returning (value, gradient)."""
    import chainrule as cr
    out = {}
    if kind == "mlp":
        params, x, onehot = data
        labels = np.argmax(onehot, axis=1)
        out[HAND] = lambda: mlp_handwritten(params, x, onehot)
        out[COMPILED] = lambda f=cr.compile(cr.value_and_grad(mlp_loss(np))): f(params, x, onehot)
        out[COMPILED + ", integer labels"] = (
            lambda f=cr.compile(cr.value_and_grad(mlp_loss_labels(np))): f(params, x, labels))
        out[EAGER] = lambda f=cr.value_and_grad(mlp_loss(np)): f(params, x, onehot)
        if common.module_available("numba"):
            out[NUMBA] = lambda f=cr.compile(cr.value_and_grad(mlp_loss(np)), backend="numba"): f(
                params, x, onehot)
            out[CONTROL] = lambda f=cr.compile(cr.value_and_grad(mlp_loss(np))): f(params, x, onehot)
    else:
        x0 = data
        out[HAND] = lambda: loop_handwritten(x0)
        out[COMPILED] = lambda f=cr.compile(cr.value_and_grad(loop(np)), backend="numpy"): f(x0)
        out[EAGER] = lambda f=cr.value_and_grad(loop(np)): f(x0)
        if common.module_available("numba"):
            out[NUMBA] = lambda f=cr.compile(cr.value_and_grad(loop(np)), backend="numba"): f(x0)
    for name, fn in peer_contenders(kind, data, jax_eager=False).items():
        out["PyTorch (eager)" if name == "PyTorch" else name] = fn
    return out


def timed(kind, data, args):
    """name -> Samples (seconds per call), and name -> note (first-call
    time: compiles for chainrule compiled and JAX jit; or why it failed)."""
    fns = contenders(kind, data)
    _, seconds, notes = common.first_calls(fns, HAND)
    for name, s in seconds.items():
        if name.startswith(COMPILED) or name == "JAX (jit)":
            notes[name] = f"first call {common.format_seconds(s)}"
        if name == NUMBA:
            notes[name] += " (numba's compile included)"
    check_agreement(fns)
    samples, min_sample_s, warmup_s = common.quick_timing(args)
    times = common.time_round_robin(fns, samples=samples, min_sample_s=min_sample_s, warmup_s=warmup_s)
    return times, notes


# --------------------------------------------------------------------------
# compile time

def chainrule_phases(fun, args):
    """Seconds of each compilation phase of fun at args: trace, optimise,
    generate source, exec it, first run (the steps compile's _Program takes)."""
    from chainrule.core.tree import tree_flatten
    from chainrule.graph.codegen import define, generate, scalar_ok
    from chainrule.graph.passes import optimize
    from chainrule.graph.trace import is_traced_leaf, trace
    t = [time.perf_counter()]
    graph = trace(fun, *args)
    t.append(time.perf_counter())
    graph = optimize(graph)
    t.append(time.perf_counter())
    # compile generates both flavours for all-scalar graphs, runs the scalar one
    flavours = [generate(graph, "f", scalar=True)] if scalar_ok(graph) else []
    flavours.append(generate(graph, "f"))
    t.append(time.perf_counter())
    runs = [define(*flavour) for flavour in flavours]
    t.append(time.perf_counter())
    runs[0](*[x for x in tree_flatten(list(args))[0] if is_traced_leaf(x)])
    t.append(time.perf_counter())
    phases = ["trace", "optimise", "generate", "exec", "first run"]
    return dict(zip(phases, np.diff(t))), len(graph.eqns)


def compile_times(repeats, quick=False):
    """Rows of first-call times of fresh compiles: name -> dict."""
    import chainrule as cr
    params, x, onehot = mlp_data()
    cases = {"MLP": (mlp_loss, (params, x, onehot)), "loop": (loop, (0.5,))}
    out = {}
    for case, (make, args) in cases.items():
        firsts = []
        for _ in range(repeats + 1):  # the first compile in the process is reported apart
            f = cr.compile(cr.value_and_grad(make(np)), backend="numpy")  # fresh closure: nothing cached
            start = time.perf_counter()
            f(*args)
            firsts.append(time.perf_counter() - start)
        phases = [chainrule_phases(cr.value_and_grad(make(np)), args) for _ in range(repeats)]
        split = {k: common.median([p[0][k] for p in phases]) for k in phases[0][0]}
        out[f"chainrule, {case}"] = {"first in process": firsts[0], "median": common.median(firsts[1:]),
                                     "best": min(firsts[1:]), "phases": split, "eqns": phases[0][1]}
        if common.module_available("numba"):  # one compile: seconds each
            f = cr.compile(cr.value_and_grad(make(np)), backend="numba")
            start = time.perf_counter()
            f(*args)
            seconds = time.perf_counter() - start
            out[f"chainrule numba backend, {case}"] = {
                "first in process": seconds, "median": seconds, "best": seconds,
                "phases": {"build (numba's compile included)": f.compile_seconds}}
        try:
            jax = common.setup_jax()
            import jax.numpy as jnp
            jargs = jax_args(jnp, case.lower(), args if case == "MLP" else args[0])
            firsts = []
            for _ in range(repeats + 1 if case == "MLP" else 1 if quick else 2):  # the loop: seconds
                jitted = jax.jit(jax.value_and_grad(make(jnp)))
                start = time.perf_counter()
                jax.block_until_ready(jitted(*jargs))
                firsts.append(time.perf_counter() - start)
            out[f"JAX jit, {case}"] = {"first in process": firsts[0], "median": common.median(firsts[1:] or firsts),
                                       "best": min(firsts[1:] or firsts)}
        except ImportError:
            pass
    return out


# --------------------------------------------------------------------------
# memory: one fresh process per contender

MEMORY_CONTENDERS = [HAND, COMPILED, EAGER, "JAX (jit)"]


def memory_child(name):
    """Peak RSS increase and live peak (bytes) of one gradient of the deep
    network, after one untimed call and a malloc_trim (common.memory_peaks);
    printed as JSON."""
    import json
    params, x = deep_data()
    if name == HAND:
        fn = lambda: deep_handwritten(params, x)
    elif name in (COMPILED, EAGER):
        import chainrule as cr
        f = cr.value_and_grad(deep_loss(np))
        f = cr.compile(f) if name == COMPILED else f
        fn = lambda: f(params, x)
    elif name == "JAX (jit)":
        jax = common.setup_jax()
        import jax.numpy as jnp
        jitted = jax.jit(jax.value_and_grad(deep_loss(jnp)))
        jparams = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
        jx = jnp.asarray(x)
        fn = lambda: jax.block_until_ready(jitted(jparams, jx))
    else:
        raise ValueError(f"unknown contender {name!r}")
    weights = sum(W.nbytes + b.nbytes for W, b in params)
    # the warm-up call compiles (chainrule compiled, JAX); XLA's buffers are invisible to tracemalloc
    found = common.memory_peaks(fn, traced=name != "JAX (jit)")
    print(json.dumps(dict(found, weights=weights)))


# --------------------------------------------------------------------------
# report

def time_table(times, notes, per_op=None):
    return common.timing_table(times, notes, HAND, per_op=per_op, who="contender")


def compile_table(results):
    rows = []
    for name, r in results.items():
        split = ", ".join(f"{k} {common.format_seconds(v)}" for k, v in r.get("phases", {}).items())
        if "eqns" in r:
            split += f" ({r['eqns']} equations after optimisation)"
        rows.append([name, common.format_seconds(r["median"]), common.format_seconds(r["best"]),
                     common.format_seconds(r["first in process"]), split])
    return common.markdown_table(
        ["compile", "median first call", "best", "first compile in the process",
         "chainrule phases (medians)"], rows)


def memory_table(results):
    ref = results.get(HAND, {}).get("peak")
    ref_live = results.get(HAND, {}).get("live")
    rows = [[name, f"{r['peak'] / 2**20:.1f} MiB", common.ratio(r["peak"], ref) if ref else "-",
             f"{r['live'] / 2**20:.1f} MiB" if r.get("live") else "-",
             common.ratio(r["live"], ref_live) if r.get("live") and ref_live else "-"]
            for name, r in results.items()]
    return common.markdown_table(["contender", "peak RSS increase", "vs hand-written",
                                  "live peak (traced)", "vs hand-written"], rows)


def summary_rows(mlp, loop_res, comp, mem):
    """The `## Summary` rows (benchmark, chainrule, peers, target, met); the
    time targets are judged on the ratio to hand-written paired round by
    round (the median over rounds of each round's sample over the
    hand-written sample of the same round)."""
    rows = []
    for label, res, key in (("MLP value and gradient / hand-written", mlp, "mlp"),
                            ("scalar loop gradient / hand-written loop", loop_res, "loop")):
        if not (res and COMPILED in res[0]):
            continue
        times = res[0]
        paired = common.paired_ratio(times[COMPILED], times[HAND])
        others = [n for n in times if n not in (HAND, COMPILED, CONTROL)]
        cell = common.ratio_spread(times[COMPILED], times[HAND])
        if key == "loop":
            cell += ", " + common.spread(times[COMPILED], unit=lambda v: f"{v:.3g} us",
                                         scale=1e6 / bench_reverse.LOOP_OPS) + " per op"
        rows.append([f"compiled {label}", cell, common.peers_text(times, HAND, others),
                     f"at most {TARGETS[key]}x",
                     common.met(paired, TARGETS[key], common.any_disturbed(times[COMPILED], times[HAND]))])
    if loop_res and NUMBA in loop_res[0] and "JAX (jit)" in loop_res[0]:
        times = loop_res[0]
        r = common.paired_ratio(times[NUMBA], times["JAX (jit)"])
        rows.append(["numba backend: scalar loop gradient / JAX jit",
                     common.ratio_spread(times[NUMBA], times["JAX (jit)"]) + ", " + common.spread(
                         times[NUMBA], unit=lambda v: f"{v:.3g} us",
                         scale=1e6 / bench_reverse.LOOP_OPS) + " per op",
                     f"NumPy backend {common.paired_ratio(times[COMPILED], times['JAX (jit)']):.2f}x",
                     f"at most {NUMBA_TARGETS['loop_vs_jax']}x",
                     common.met(r, NUMBA_TARGETS["loop_vs_jax"], common.any_disturbed(times[NUMBA]))])
    if mlp and NUMBA in mlp[0] and CONTROL in mlp[0]:
        times = mlp[0]
        r = common.paired_ratio(times[NUMBA], times[COMPILED])
        band = common.aa_band(times[CONTROL], times[COMPILED])
        target = NUMBA_TARGETS["mlp_vs_numpy"]
        rows.append(["numba backend: MLP value and gradient / NumPy backend",
                     common.ratio_spread(times[NUMBA], times[COMPILED]),
                     f"A/A control (NumPy backend compiled twice) "
                     f"{common.ratio_spread(times[CONTROL], times[COMPILED])}: noise band {band:.3f}",
                     f"at most {target}x + the A/A noise band (paired median <= {target + band:.3f})",
                     common.met(r, target + band, common.any_disturbed(
                         times[NUMBA], times[COMPILED], times[CONTROL]))])
    numba_compiles = {k: v for k, v in (comp or {}).items() if k.startswith("chainrule numba")}
    if numba_compiles:
        rows.append(["numba backend: compile time (first call)", ", ".join(
            f"{k.split(', ')[1]} {common.format_seconds(v['median'])}" for k, v in numba_compiles.items()),
            "-", "reported", "-"])
    if comp and "chainrule, MLP" in comp:
        s = comp["chainrule, MLP"]["median"]
        jax = comp.get("JAX jit, MLP")
        rows.append(["compile time of the MLP gradient", f"{s * 1e3:.0f} ms (median first call)",
                     f"JAX jit {jax['median'] * 1e3:.0f} ms" if jax else "(JAX not installed)",
                     f"under {TARGETS['compile_s'] * 1e3:.0f} ms", common.met(s, TARGETS["compile_s"])])
    if mem and COMPILED in mem and HAND in mem:
        rows.append(common.memory_row(f"{DEEP_LAYERS}-layer gradient, peak memory / hand-written", mem, HAND,
                                       COMPILED, TARGETS["memory"], tolerance=0.005))
    return rows


def report(args, command, mlp, loop_res, comp, mem, load_start):
    parts = common.report_header(
        "# Graph-route (cr.compile) benchmark results", command, args, load_start,
        ": other processes share the 2 cores, so timings are medians "
        "of round-robin samples (the best sample is the least disturbed)",
        "- timing: each contender called once untimed (chainrule compiled and JAX jit compile "
        "there: the 'first call' note), its gradient checked against the hand-written one, "
        f"warmed up for {common.quick_timing(args)[2]} s, then {common.quick_timing(args)[0]} "
        f"round-robin samples of at least {common.quick_timing(args)[1] * 1e3:.0f} ms each. "
        "Ratios to hand-written are paired (the median over rounds of each round's sample over "
        "the hand-written sample of the same round, with its IQR: the least sensitive to load "
        "that comes and goes, so the targets are judged on it). " + common.disturbance_note(
            {f"{i}{k}": v for i, r in enumerate((mlp, loop_res)) if r for k, v in r[0].items()}) + ".",
        who="contender", summary=common.summary_section(summary_rows(mlp, loop_res, comp, mem)))
    if mlp:
        parts += ["## MNIST MLP: loss and gradient", "",
                  "x (256 x 100) -> tanh(x W1 + b1), W1 100 x 1000 -> softmax cross-entropy "
                  "over 10 classes, float64; gradient with respect to W1, b1, W2, b2. "
                  "'compiled' is `cr.compile(cr.value_and_grad(loss))`, one-hot targets "
                  "unless it says integer labels.", "", time_table(*mlp), ""]
    if loop_res:
        parts += ["## Scalar loop: per-op cost", "",
                  f"Gradient of {bench_reverse.LOOP_STEPS} steps of `x = np.sin(x) * 1.0001 + 0.1` "
                  f"({bench_reverse.LOOP_OPS} primitive operations) at x = 0.5; the compiled graph is "
                  "all "
                  "0-d float64, so it runs on Python floats and `math`.", "",
                  time_table(*loop_res, per_op=bench_reverse.LOOP_OPS), ""]
    if comp:
        parts += ["## Compile time", "",
                  "Wall time of the first call of a fresh `cr.compile(cr.value_and_grad(f))` "
                  "(trace, passes, code generation, exec, one run) and of a fresh "
                  f"`jax.jit(jax.value_and_grad(f))`: median over {args.compiles} fresh compiles "
                  "after one first compile in the process (reported apart: it pays for lazy "
                  "imports and cold caches; JAX's loop has 1 fresh compile after it). "
                  "The phases are timed separately on further fresh traces.", "",
                  compile_table(comp), ""]
    if mem:
        parts += ["## Peak memory: 50-layer tanh network", "",
                  f"Gradient of sum(h**2)/2 for {DEEP_LAYERS} layers h = tanh(h W + b), "
                  f"W {DEEP_WIDTH} x {DEEP_WIDTH}, batch {DEEP_BATCH}, float64 (weights "
                  f"{next(iter(mem.values()))['weights'] / 2**20:.0f} MiB; the gradient itself "
                  "is as large). Each contender in a fresh process: one untimed call (compiles), "
                  "then `malloc_trim(0)` so freed pages are not counted as resident, then the "
                  "peak resident-set increase of one call over the resident set just before it; "
                  "then the live peak, tracemalloc's peak during a further call (NumPy's array "
                  "data and Python objects allocated during the call: the bytes held at once, "
                  "without where glibc placed them). The target is judged on the live peak: "
                  "the resident peak also moves by a 1000 x 1000 block (7.6 MiB) when glibc "
                  "places one in pages malloc_trim had freed, which unrelated changes shift.",
                  "", memory_table(mem), ""]
    return "\n".join(parts)


def main(argv=None):
    args = common.argument_parser(__doc__, only=["mlp", "loop", "compile", "memory"], memory_child=True).parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child)
    common.reexec_with_env(args.malloc, args.threads)
    command = common.command_line(__file__)
    args.compiles = 1 if args.quick else 7
    if args.quick:  # numba and JAX jit compile the 1000-step loop for 20 s and 4 s
        bench_reverse.set_loop_steps(bench_reverse.QUICK_LOOP_STEPS)
    which = args.only or ["mlp", "loop", "compile", "memory"]
    load_start = os.getloadavg()
    mlp = loop_res = comp = mem = None
    if "compile" in which:  # first, so that the first compile in the process is cold
        comp = compile_times(args.compiles, args.quick)
        print("Compile time\n" + compile_table(comp) + "\n", flush=True)
    if "mlp" in which:
        mlp = timed("mlp", mlp_data(), args)
        print("MNIST MLP, loss and gradient\n" + time_table(*mlp) + "\n", flush=True)
    if "loop" in which:
        loop_res = timed("loop", 0.5, args)
        print("Scalar loop, gradient\n" + time_table(*loop_res, per_op=bench_reverse.LOOP_OPS) + "\n",
              flush=True)
    if "memory" in which:
        contenders_ = MEMORY_CONTENDERS[:2] if args.quick else MEMORY_CONTENDERS  # quick: smoke test
        mem = common.in_fresh_processes(__file__, [n for n in contenders_ if common.available(
            n, {"autograd": "autograd", "PyTorch (eager)": "torch", "JAX (jit)": "jax"})])
        print("50-layer network, peak memory\n" + memory_table(mem) + "\n", flush=True)
    print(common.summary_section(summary_rows(mlp, loop_res, comp, mem)))
    common.write_results(args, RESULTS, report(args, command, mlp, loop_res, comp, mem, load_start))


if __name__ == "__main__":
    main()
