"""The tutorial's MLP gradient on a GPU: chainrule on CuPy arrays against
PyTorch CUDA and JAX on the GPU, float32 and float64.

The same NumPy code that chainrule differentiates on the CPU runs here on
CuPy arrays: chainrule's rules are np.* calls, which CuPy takes over through
NumPy's dispatch protocols, so every array stays on the GPU. Each contender
computes the loss and its gradient; values are checked against each other
before timing. Timing synchronises the device after every call and reports
the median of the samples with their spread (min..max).

Needs a CUDA GPU with CuPy; without one it says so and exits (status 0),
writing nothing.

    python bench/bench_gpu.py            # full run, writes bench/results_gpu.md
    python bench/bench_gpu.py --quick    # fewer samples, prints only
"""

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results_gpu.md"
SIZES = [(256, 100, 1000, 10), (4096, 100, 1000, 10), (4096, 1024, 4096, 10)]


def mlp_loss(params, x, onehot):
    """The tutorial's MLP: softmax cross-entropy of tanh(x W1 + b1) W2 + b2."""
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(onehot * log_p) / x.shape[0]


def problem(batch, n_in, hidden, n_out, dtype, seed=0):
    """Weights, inputs and one-hot labels as NumPy arrays of `dtype`."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((n_in, hidden)) / np.sqrt(n_in), np.zeros(hidden),
              rng.standard_normal((hidden, n_out)) / np.sqrt(hidden), np.zeros(n_out)]
    x = rng.standard_normal((batch, n_in))
    onehot = np.eye(n_out)[rng.integers(0, n_out, batch)]
    return [p.astype(dtype) for p in params], x.astype(dtype), onehot.astype(dtype)


def contenders(params, x, onehot):
    """name -> (call, synchronise, gradient as NumPy arrays) for each library present."""
    import cupy
    import chainrule as cr

    out = {}
    cp_args = ([cupy.asarray(p) for p in params], cupy.asarray(x), cupy.asarray(onehot))
    vg = cr.value_and_grad(mlp_loss)
    sync = cupy.cuda.Device().synchronize
    out["chainrule + CuPy"] = (lambda: vg(*cp_args), sync,
                               lambda r: [cupy.asnumpy(g) for g in r[1]])
    try:
        import torch
        if torch.cuda.is_available():
            t_params = [torch.tensor(p, device="cuda", requires_grad=True) for p in params]
            tx, ty = torch.tensor(x, device="cuda"), torch.tensor(onehot, device="cuda")

            def torch_vg():
                W1, b1, W2, b2 = t_params
                z = torch.tanh(tx @ W1 + b1) @ W2 + b2
                z = z - torch.amax(z, dim=1, keepdim=True)
                loss = -torch.sum(ty * (z - torch.logsumexp(z, dim=1, keepdim=True))) / tx.shape[0]
                return loss, torch.autograd.grad(loss, t_params)
            out["PyTorch CUDA"] = (torch_vg, torch.cuda.synchronize,
                                   lambda r: [g.cpu().numpy() for g in r[1]])
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        if any(d.platform == "gpu" for d in jax.devices()):
            jax.config.update("jax_enable_x64", True)

            def jloss(p, x, y):
                W1, b1, W2, b2 = p
                z = jnp.tanh(x @ W1 + b1) @ W2 + b2
                z = z - jnp.max(z, axis=1, keepdims=True)
                return -jnp.sum(y * (z - jnp.log(jnp.sum(jnp.exp(z), axis=1, keepdims=True)))) / x.shape[0]
            j_args = ([jnp.asarray(p) for p in params], jnp.asarray(x), jnp.asarray(onehot))
            jvg = jax.jit(jax.value_and_grad(jloss))
            holder = {}

            def jax_call():
                holder["r"] = jvg(*j_args)
                return holder["r"]
            out["JAX GPU jit"] = (jax_call, lambda: jax.block_until_ready(holder.get("r")),
                                  lambda r: [np.asarray(g) for g in r[1]])
    except ImportError:
        pass
    return out


def time_calls(entries, samples, min_sample_s=0.02):
    """name -> list of seconds per call; round robin, device synchronised."""
    for call, sync, _ in entries.values():  # warm-up: compilation, allocator pools
        for _ in range(3):
            call()
        sync()
    reps = {}
    for name, (call, sync, _) in entries.items():
        n, t = 1, 0.0
        while t < min_sample_s:
            n *= 2
            start = time.perf_counter()
            for _ in range(n):
                call()
            sync()
            t = time.perf_counter() - start
        reps[name] = n
    times = {name: [] for name in entries}
    for _ in range(samples):
        for name, (call, sync, _) in entries.items():
            sync()
            start = time.perf_counter()
            for _ in range(reps[name]):
                call()
            sync()
            times[name].append((time.perf_counter() - start) / reps[name])
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples, print only")
    parser.add_argument("--threads", type=int, default=None, help="accepted for the harness; unused")
    parser.add_argument("--write", action="store_true", help="write results even with --quick")
    args = parser.parse_args(argv)
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
        gpu = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    except Exception as e:  # noqa: BLE001 - any failure means: no usable GPU here
        print(f"bench_gpu: no CUDA GPU with CuPy on this machine ({type(e).__name__}); skipped.")
        return 0
    samples = 5 if args.quick else 21
    rows = []
    for dtype in (np.float32, np.float64):
        for batch, n_in, hidden, n_out in SIZES:
            params, x, onehot = problem(batch, n_in, hidden, n_out, dtype)
            entries = contenders(params, x, onehot)
            grads = {name: grad_of(call()) for name, (call, _, grad_of) in entries.items()}
            ref = grads["chainrule + CuPy"]
            tol = 1e-4 if dtype == np.float32 else 1e-10
            for name, g in grads.items():
                for a, b in zip(g, ref):
                    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)
            times = time_calls(entries, samples)
            base = statistics.median(times["chainrule + CuPy"])
            for name, ts in times.items():
                med = statistics.median(ts)
                rows.append((np.dtype(dtype).name, f"{batch}x{n_in}-{hidden}-{n_out}", name,
                             f"{med * 1e3:.3f} ms", f"{min(ts) * 1e3:.3f}..{max(ts) * 1e3:.3f}",
                             f"{med / base:.2f}"))
    header = "| dtype | MLP (batch x in-hidden-out) | library | median | min..max | / chainrule |"
    lines = [header, "| " + " | ".join("---" for _ in range(6)) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    print(f"GPU: {gpu}; Python {platform.python_version()}, NumPy {np.__version__}, CuPy {cupy.__version__}")
    print(table)
    if args.quick and not args.write:
        return 0
    summary = _summary(rows)
    target = common.results_path(RESULTS)
    target.write_text(
        "# GPU: the MLP value and gradient on CuPy, PyTorch CUDA, JAX GPU\n\n"
        "## Summary\n\n" + summary + "\n\n## Full table\n\n"
        f"GPU: {gpu}; Python {platform.python_version()}, NumPy {np.__version__}, "
        f"CuPy {cupy.__version__}. {samples} round-robin samples per contender, "
        "device synchronised after each batch of calls; median and min..max per call.\n\n"
        f"Command: `{common.command_line(__file__)}`\n\n" + table + "\n")
    print(f"wrote {common.shown_path(target)}")
    return 0


def _summary(rows):
    """One line per size and dtype: chainrule's time and the peers' ratios to it."""
    out = ["| benchmark | chainrule | peers | target | met |", "| --- | --- | --- | --- | --- |"]
    groups = {}
    for dtype, size, name, med, spread, rel in rows:
        groups.setdefault((dtype, size), []).append((name, med, spread, rel))
    for (dtype, size), entries in groups.items():
        ours = next(e for e in entries if e[0] == "chainrule + CuPy")
        peers = ", ".join(f"{n} {rel}x of chainrule's time" for n, _, _, rel in entries if n != ours[0])
        out.append(f"| GPU MLP value and gradient, {size}, {dtype} | {ours[1]} ({ours[2]}) | "
                   f"{peers or 'none installed'} | runs on the GPU unchanged | yes |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
