"""The demo's pictures, drawn with matplotlib (the optional extra `plot`):
training curves, and the cost table as bars on a log scale.

Example:
    >>> import tempfile
    >>> from chainrule.demo.mnist_mlp import History
    >>> h = History([0.5, 0.2], [0.9, 0.95], [0.92, 0.96], [1.0, 1.0], None, [0.9, 0.4, 0.3, 0.1])
    >>> training_curves(h, tempfile.mkdtemp() + "/training.png").name  # doctest: +SKIP
    'training.png'
"""

from pathlib import Path

import numpy as np

INSTALL_HINT = ("pictures need matplotlib: pip install 'chainrule[plot]' "
                "(or pip install matplotlib), then rerun with --plot DIR")


def available():
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(**kwargs):
    # a Figure with its own Agg canvas: no pyplot, no global state, no display needed
    from matplotlib.figure import Figure
    return Figure(**kwargs)


def training_curves(history, path):
    """Loss and accuracies per epoch, side by side, saved as a PNG at `path`."""
    from matplotlib.ticker import MaxNLocator
    fig = _figure(figsize=(9, 3.5), layout="constrained")
    epochs = range(1, len(history.train_loss) + 1)
    left, right = fig.subplots(1, 2)
    steps = len(history.batch_loss)
    if steps:
        per_epoch = steps / len(history.train_loss)
        window = max(1, int(per_epoch) // 10)
        smooth = np.convolve(history.batch_loss, np.ones(window) / window, mode="valid")
        left.plot((np.arange(len(smooth)) + window) / per_epoch, smooth, lw=0.8, alpha=0.7,
                  label=f"batches (mean of {window})")
    left.plot([e - 0.5 for e in epochs], history.train_loss, "o-", label="epoch mean")
    left.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log")
    left.legend()
    right.plot(epochs, [100 * a for a in history.train_accuracy], "o-", label="training")
    right.plot(epochs, [100 * a for a in history.test_accuracy], "s-", label="test")
    right.set(xlabel="epoch", ylabel="accuracy (%)")
    right.legend()
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    hidden = history.params[0].shape[1] if history.params else "n"
    fig.suptitle(f"MLP 100 -> {hidden} tanh -> 10 on MNIST, Adam on cr.compile(cr.value_and_grad(loss))")
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path


def cost_bars(rows, path):
    """The cost table as two bar charts on log scales (operations counted by
    the cost model; measured seconds, hatched where extrapolated), saved as
    a PNG at `path`."""
    fig = _figure(figsize=(10, 4), layout="constrained")
    ops_ax, time_ax = fig.subplots(1, 2, sharey=True)
    names = [r.name for r in rows][::-1]
    rows = rows[::-1]
    ops_ax.barh(names, [r.flops for r in rows], color="tab:blue")
    ops_ax.set(xscale="log", xlabel="floating-point operations (cost model)")
    bars = time_ax.barh(names, [r.seconds for r in rows], color="tab:orange")
    for bar, r in zip(bars, rows):
        if r.extrapolated:
            bar.set_hatch("//")
            bar.set_alpha(0.6)
    time_ax.set(xscale="log", xlabel="seconds (hatched: extrapolated)")
    for ax in (ops_ax, time_ax):
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("The gradient of the loss on one image, five ways")
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path
