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


FIGURES = {"graph": gradient_graph}


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
