"""FFT in reverse mode: the gradient of a spectral loss on a length-2^16
signal against a hand-derived NumPy gradient and other AD libraries.

The loss matches a log power spectrum to a target, weighted towards low
frequencies:

    X = rfft(x),  P = |X|^2,  L(x) = sum_k w_k (log(1 + P_k) - t_k)^2

written once over a NumPy-like module. The hand-derived gradient: with
c_k = 2 w_k (log(1 + P_k) - t_k) / (1 + P_k), dL/dx = 2 Re(R^H (c X)) for
R the rfft matrix, which is n * irfft(c X) with the first and (n even) last
bins doubled. chainrule is timed against it and against autograd, JAX
(without and with jit) and PyTorch on the same code; every gradient is
checked against the hand-derived one first.

    python bench/bench_fft.py --threads 1    # full run, writes bench/results_fft.md
    python bench/bench_fft.py --quick        # fewer samples, prints only
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_fft.md"
TARGET = 1.5
N = 2**16
HAND = "hand-derived NumPy"


def spectral_loss(xp, rfft):
    def loss(x, w, t):
        spectrum = rfft(x)
        power = xp.real(spectrum) ** 2 + xp.imag(spectrum) ** 2
        return xp.sum(w * (xp.log1p(power) - t) ** 2)
    return loss


def hand_value_and_grad(x, w, t):
    n = x.shape[0]
    spectrum = np.fft.rfft(x)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    r = np.log1p(power) - t
    c = 2 * w * r / (1 + power) * spectrum
    c[0] *= 2
    if n % 2 == 0:
        c[-1] *= 2
    return np.sum(w * r ** 2), n * np.fft.irfft(c, n)


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N)
    m = N // 2 + 1
    w = 1 / (1 + np.arange(m) / 64)
    t = np.log1p(N * np.exp(-np.arange(m) / 2000))
    return x, w, t


def contenders(x, w, t):
    import chainrule as cr
    fns = {HAND: lambda: hand_value_and_grad(x, w, t)}
    fns["chainrule"] = lambda f=cr.value_and_grad(spectral_loss(np, np.fft.rfft)): f(x, w, t)
    try:
        import autograd
        import autograd.numpy as anp
        f = autograd.value_and_grad(spectral_loss(anp, anp.fft.rfft))
        fns["autograd"] = lambda f=f: f(x, w, t)
    except ImportError:
        pass
    try:
        jax = common.setup_jax()
        import jax.numpy as jnp
        f = jax.value_and_grad(spectral_loss(jnp, jnp.fft.rfft))
        args = tuple(jnp.asarray(a) for a in (x, w, t))
        fns["JAX (no jit)"] = lambda f=f: jax.block_until_ready(f(*args))
        jitted = jax.jit(f)
        fns["JAX (jit)"] = lambda: jax.block_until_ready(jitted(*args))
    except ImportError:
        pass
    try:
        torch = common.setup_torch()
        tx = torch.tensor(x, requires_grad=True)
        tw, tt = torch.from_numpy(w), torch.from_numpy(t)
        tf = spectral_loss(torch, torch.fft.rfft)

        def torch_value_and_grad():
            value = tf(tx, tw, tt)
            return value, torch.autograd.grad(value, tx)[0]
        fns["PyTorch"] = torch_value_and_grad
    except ImportError:
        pass
    return fns


def timed(samples, min_sample_s):
    """name -> (median, best) seconds per value and gradient, and name -> note."""
    fns = contenders(*data())
    results, seconds, notes = common.first_calls(fns, HAND)
    if "JAX (jit)" in seconds:
        notes["JAX (jit)"] = f"compile {seconds['JAX (jit)']:.2f} s"
    want_value, want_grad = results[HAND]
    for name, (value, grad) in results.items():
        if not (np.allclose(common.as_float_array(value), want_value, rtol=1e-9)
                and np.allclose(common.as_float_array(grad), want_grad, rtol=1e-7,
                                atol=1e-9 * np.max(np.abs(want_grad)))):
            raise AssertionError(f"{name}'s value or gradient differs from the hand-derived one")
    times = common.time_round_robin(fns, samples=samples, min_sample_s=min_sample_s)
    return {name: (common.median(ts), min(ts)) for name, ts in times.items()}, notes


def table(stats, notes):
    ref_median, ref_best = stats[HAND]
    rows = [[name, common.format_seconds(m), common.format_seconds(b),
             f"{m / ref_median:.2f}x", f"{b / ref_best:.2f}x", notes.get(name, "")]
            for name, (m, b) in stats.items()]
    rows += [[name, "-", "-", "-", "-", note] for name, note in notes.items() if name not in stats]
    return common.markdown_table(
        ["library", "median per value and gradient", "best sample", "ratio (median)",
         "ratio (best)", "note"], rows)


def summary(stats):
    hand = stats[HAND][0]
    ours = stats.get("chainrule", (float("nan"),))[0] / hand
    peers = ", ".join(f"{name} {m / hand:.2f}x" for name, (m, _) in stats.items()
                      if name not in (HAND, "chainrule"))
    return common.markdown_table(
        ["benchmark", "chainrule", "peers", "target", "met"],
        [[f"spectral loss gradient, rfft of 2^16 (vs {HAND})", f"{ours:.2f}x", peers or "-",
          f"<= {TARGET}x", "yes" if ours <= TARGET else "no"]])


def report(args, command, stats, notes, load_start):
    header = common.report_header(
        "# FFT benchmark results: gradient of a spectral loss", command, args, load_start,
        common.SHARED_MACHINE_NOTE,
        "- timing: each contender called once untimed (JAX's jit compiles there), warmed "
        f"up for 0.3 s, then {args.samples} round-robin samples of at least "
        f"{args.min_sample * 1e3:.0f} ms each; medians and best samples. Every value and "
        "gradient is first checked against the hand-derived one.")
    parts = header[:2] + ["## Summary", "", summary(stats), "", "## Environment", ""] + header[2:]
    parts += [f"## Gradient of the spectral loss (n = {N})", "", table(stats, notes), ""]
    return "\n".join(parts)


def main(argv=None):
    args = common.argument_parser(__doc__).parse_args(argv)
    common.reexec_with_env(args.malloc, args.threads)
    command = common.command_line(__file__)
    args.samples, args.min_sample = (3, 0.02) if args.quick else (21, 0.2)
    load_start = os.getloadavg()
    stats, notes = timed(args.samples, args.min_sample)
    print("Spectral loss, value and gradient\n" + table(stats, notes) + "\n")
    print(summary(stats))
    common.write_results(args, RESULTS, report(args, command, stats, notes, load_start))


if __name__ == "__main__":
    main()
