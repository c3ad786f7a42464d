"""`python -m chainrule demo`: data, training, the cost table, pictures.

Example:
    >>> run(quick=True, bundled=True)  # doctest: +SKIP
"""

import time
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets import mnist

from . import cost_table, mnist_mlp, plots

class DemoError(ValueError):
    """Options that do not fit the data (the command line reports it as a usage error)."""


QUICK_BATCHES = 100  # per epoch, with quick=True
QUICK_EPOCHS = 2


def run(data=None, mirrors=None, epochs=None, batch_size=128, hidden=1000, seed=0, plot=None,
        quick=False, download=True, bundled=False, progress=True, out=print):
    """Load MNIST (see mnist.load), train the tutorial's MLP, print the test
    accuracy (`test accuracy: NN.NN%`), the time per epoch and the cost
    table, and draw the pictures into the folder `plot` when given.
    `quick` trains `QUICK_EPOCHS` epochs of at most `QUICK_BATCHES` batches
    (unless `epochs` is given) and samples the cost table lightly.
    Returns (history, cost table rows)."""
    started = time.perf_counter()
    if bundled:
        digits = mnist.bundled()
    else:
        digits = mnist.load(data, mirrors=mirrors, download=download, progress=progress,
                            log=lambda line: out(f"note: {line}"))
    n_train, rows, cols = digits.train_images.shape
    if batch_size > n_train:
        raise DemoError(f"--batch-size {batch_size} exceeds the {n_train} training images")
    out(f"MNIST from {digits.source}: {n_train} training and {len(digits.test_images)} test "
        f"images of {rows} x {cols} pixels")
    data_ = mnist_mlp.prepare(digits, dims=100)
    out(f"network: PCA to 100 inputs (SVD of the training set), {hidden} tanh hidden units, "
        f"softmax over 10 digits; Adam on cr.compile(cr.value_and_grad(loss)), batches of {batch_size}")
    if epochs is None:
        epochs = QUICK_EPOCHS if quick else 10
    history = mnist_mlp.train(data_, epochs=epochs, batch_size=batch_size, hidden=hidden, seed=seed,
                              max_batches=QUICK_BATCHES if quick else None, progress=progress, out=out)
    out(f"test accuracy: {100 * history.final_accuracy:.2f}%")
    seconds = history.seconds
    note = " (the first includes compiling)" if len(seconds) > 1 else ""
    out(f"time per epoch: {np.mean(seconds):.2f} s, mean of {len(seconds)}{note}; "
        f"fastest {min(seconds):.2f} s")

    # the tutorial's advice: verify the gradient, forward mode against reverse mode
    cr.check_grads(mnist_mlp.loss, (history.params, data_.x_test[:8], np.eye(10)[data_.y_test[:8]]),
                   order=2)
    out("gradients verified: cr.check_grads found forward and reverse mode in agreement, "
        "to second order, on the trained network")

    out("")
    out("The cost of the gradient of the loss on one test image (the tutorial's table):")
    rows, _ = cost_table.measure(history.params, data_.x_test[:1], np.eye(10)[data_.y_test[:1]],
                                 directions=20 if quick else 200, weight_rows=1 if quick else 10,
                                 min_time=0.02 if quick else 0.2, seed=seed)
    out(cost_table.format_table(rows, cost_table.Shapes.of(history.params)))

    if plot is None:
        out("add --plot DIR for pictures of the training curves and of the cost table"
            if plots.available() else plots.INSTALL_HINT)
    elif not plots.available():
        out(plots.INSTALL_HINT)
    else:
        folder = Path(plot)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            written = [plots.training_curves(history, folder / "training.png"),
                       plots.cost_bars(rows, folder / "cost_table.png")]
        except OSError as e:
            out(f"cannot write the pictures into {folder}: {e.strerror or e}")
        else:
            out("pictures: " + ", ".join(str(p) for p in written))
    out(f"done in {time.perf_counter() - started:.0f} s")
    return history, rows
