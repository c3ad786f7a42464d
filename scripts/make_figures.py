"""Draw the guide's figures by running chainrule: `make figures` (or `make docs`).

Each figure is drawn by the library itself and saved under docs/figures/.
Needs matplotlib (the plot extra) and, for the graph picture, Graphviz's
`dot` on the PATH; a figure whose tool is missing is skipped with a note.

    PYTHONPATH=src python scripts/make_figures.py            # all figures
    PYTHONPATH=src python scripts/make_figures.py graph      # only some
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
OUT = ROOT / "docs" / "figures"

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402


def gradient_graph():
    """The traced graph of a small cost function's gradient, drawn by Graphviz."""
    if shutil.which("dot") is None:
        return "skipped: Graphviz's dot is not installed (apt-get install graphviz)"

    def cost(W, x):
        return np.sum(np.tanh(x @ W) ** 2)

    x = np.array([[1.0, 2.0]])
    W = np.array([[0.1, -0.2], [0.3, 0.4]])
    graph = cr.trace(cr.value_and_grad(cost), W, x)
    subprocess.run(["dot", "-Tpng", "-Gdpi=110", "-o", str(OUT / "gradient_graph.png")],
                   input=graph.to_dot(), text=True, check=True)
    return "gradient_graph.png"


def _figure(**kwargs):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure(**kwargs)


def demo_figures():
    """The quick demo on the bundled MNIST subset: its training curve and its
    cost table as bars (chainrule.demo.plots), as `make demo` draws them."""
    if _figure() is None:
        return "skipped: needs matplotlib (pip install matplotlib)"
    from chainrule.demo import plots, run
    history, rows = run.run(quick=True, bundled=True, download=False, progress=False,
                            out=lambda line: None)
    plots.training_curves(history, OUT / "training_curve.png")
    plots.cost_bars(rows, OUT / "cost_bars.png")
    return "training_curve.png, cost_bars.png"


def _mlp_problem(seed=0):
    """A small tanh network on synthetic data: 2 -> 12 -> 1, 49 parameters."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, 2))
    t = np.sin(2 * X[:, 0]) * np.cos(X[:, 1])
    sizes = [(2, 12), (12,), (12, 1), (1,)]
    n = sum(int(np.prod(s)) for s in sizes)

    def loss(w):
        parts, i = [], 0
        for s in sizes:
            k = int(np.prod(s))
            parts.append(w[i:i + k].reshape(s))
            i += k
        W1, b1, W2, b2 = parts
        y = (np.tanh(X @ W1 + b1) @ W2 + b2)[:, 0]
        return 0.5 * np.mean((y - t) ** 2) + 1e-3 * np.sum(w ** 2)

    return loss, 0.5 * rng.standard_normal(n)


def hessian_spectrum():
    """The Hessian spectrum of a small network's loss at its minimum, by
    stochastic Lanczos quadrature, with the top eigenvalues by Lanczos."""
    fig = _figure(figsize=(7, 3.5), layout="constrained")
    if fig is None:
        return "skipped: needs matplotlib (pip install matplotlib)"
    from chainrule import curvature, optimize
    loss, w0 = _mlp_problem()
    w = optimize.newton_cg(loss, w0, tol=1e-8).x
    H = curvature.hessian_operator(loss, (w,))
    grid, density = curvature.spectral_density(H, num_probes=10, steps=40, seed=0)
    top, _ = curvature.lanczos(H, 3, which="LA", seed=0)
    ax = fig.subplots()
    ax.plot(grid, density, color="tab:blue", label="spectral density (SLQ, 10 probes)")
    for i, value in enumerate(top):
        ax.axvline(value, color="tab:red", ls="--", lw=0.8,
                   label="top 3 eigenvalues (Lanczos)" if i == 0 else None)
    ax.set(xlabel="eigenvalue", ylabel="density", yscale="log", ylim=(1e-3, 3 * density.max()),
           title=f"Hessian of a {H.shape[0]}-parameter tanh network's loss at its minimum")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.savefig(OUT / "hessian_spectrum.png", dpi=110)
    return "hessian_spectrum.png"


def newton_convergence():
    """Gradient norm per iteration: Newton (exact Hessian) against Newton-CG
    (Hessian-vector products only) on the 20-dimensional Rosenbrock function."""
    fig = _figure(figsize=(7, 3.5), layout="constrained")
    if fig is None:
        return "skipped: needs matplotlib (pip install matplotlib)"
    from chainrule import optimize

    def rosenbrock(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    grad = cr.grad(rosenbrock)
    x0 = np.zeros(20)
    ax = fig.subplots()
    for method, style in ((optimize.newton, "o-"), (optimize.newton_cg, "s-")):
        norms = [np.linalg.norm(grad(x0))]
        r = method(rosenbrock, x0, tol=1e-10, callback=lambda x: norms.append(np.linalg.norm(grad(x))))
        ax.semilogy(norms, style, ms=3, label=f"{method.__name__}: {r.nit} iterations, "
                                               f"{r.nhvp} Hessian-vector products")
    ax.set(xlabel="iteration", ylabel="gradient 2-norm", title="Rosenbrock, 20 variables, from 0")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.savefig(OUT / "newton_convergence.png", dpi=110)
    return "newton_convergence.png"


FIGURES = {"graph": gradient_graph, "demo": demo_figures, "spectrum": hessian_spectrum,
           "newton": newton_convergence}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[[], *FIGURES], help="figures to draw (all by default)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args.names or FIGURES:
        print(f"{name}: {FIGURES[name]()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
