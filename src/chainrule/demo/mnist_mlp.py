"""The tutorial's MNIST example: an MLP trained by Adam on chainrule gradients.

Images are reduced by PCA to 100 dimensions, then one tanh hidden layer
(1000 units) and a softmax over the 10 digits, as in the tutorial's cost
table (x in R^100, m = 10^5 weights in layer one, n = 10^3 hidden units,
l = 10^4 weights in layer two, k = 10 outputs). The model is ordinary NumPy
code; `cr.compile(cr.value_and_grad(loss, has_aux=True))` gives the loss,
the number of correct guesses and the gradient with respect to all four
parameter arrays, from generated NumPy source.
"""

import dataclasses
import time

import numpy as np

import chainrule as cr
from chainrule.datasets.progress import progress_bar


def log_probs(params, x):
    """Log-softmax of the MLP's outputs for the rows of x: plain NumPy."""
    W1, b1, W2, b2 = params
    hidden = np.tanh(x @ W1 + b1)
    logits = hidden @ W2 + b2
    logits = logits - np.max(logits, axis=1, keepdims=True)  # softmax is shift-invariant
    return logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))


def loss(params, x, onehot):
    """Mean softmax cross-entropy of the MLP on a batch.

    Example:
        >>> params = init_params(np.random.default_rng(0), 3, 4)
        >>> round(float(loss(params, np.zeros((2, 3)), np.eye(10)[[1, 2]])), 4)  # log 10
        2.3026
    """
    return -np.sum(onehot * log_probs(params, x)) / x.shape[0]


def loss_and_correct(params, x, onehot):
    """`(loss, number of rows whose most likely digit is the labelled one)`,
    the form value_and_grad(..., has_aux=True) takes."""
    lp = log_probs(params, x)
    correct = np.sum(np.argmax(lp, axis=1) == np.argmax(onehot, axis=1))
    return -np.sum(onehot * lp) / x.shape[0], correct


def predict(params, x):
    """The most likely digit for each row of x."""
    W1, b1, W2, b2 = params
    return np.argmax(np.tanh(x @ W1 + b1) @ W2 + b2, axis=1)


def accuracy(params, x, labels, batch=2000):
    """The fraction of rows of x classified as `labels`, in batches (bounded memory)."""
    hits = sum(int(np.sum(predict(params, x[i:i + batch]) == labels[i:i + batch]))
               for i in range(0, len(x), batch))
    return hits / len(x)


def init_params(rng, n_in, n_hidden, n_out=10, dtype=np.float64):
    """Weights drawn with variance 1/fan-in, biases zero: `[W1, b1, W2, b2]`."""
    return [(rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)).astype(dtype),
            np.zeros(n_hidden, dtype),
            (rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden)).astype(dtype),
            np.zeros(n_out, dtype)]


def pca(images, dims, chunk=10000):
    """The mean and the top `dims` principal directions (as columns) of the
    rows of `images`, by NumPy's SVD of their scatter matrix.

    The scatter matrix (features x features) has the same right singular
    vectors as the centred data, so the SVD never holds an n x features
    copy of the data (60000 x 784 doubles for MNIST); it is accumulated in
    chunks of rows.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> data = rng.standard_normal((500, 1)) * [3.0, 4.0] + rng.standard_normal((500, 2)) * 0.01
        >>> mean, directions = pca(data, 1)
        >>> np.round(np.abs(directions[:, 0]), 3)
        array([0.6, 0.8])
    """
    n = len(images)
    mean = np.zeros(images.shape[1])
    for i in range(0, n, chunk):
        mean += images[i:i + chunk].sum(axis=0, dtype=np.float64)
    mean /= n
    scatter = np.zeros((images.shape[1], images.shape[1]))
    for i in range(0, n, chunk):
        centred = images[i:i + chunk] - mean
        scatter += centred.T @ centred
    _, _, vt = np.linalg.svd(scatter, hermitian=True)
    if dims > vt.shape[0]:
        raise ValueError(f"cannot keep {dims} principal directions of {vt.shape[0]}-dimensional data")
    return mean, vt[:dims].T


@dataclasses.dataclass
class Data:
    """Inputs reduced by PCA (unit overall scale), labels as integers and,
    for training, as one-hot rows."""

    x_train: np.ndarray
    y_train: np.ndarray
    onehot: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def prepare(digits, dims=100, dtype=np.float64):
    """Flatten the images to [0, 1] and project them on the training set's
    top `dims` principal directions.

    Example:
        >>> from chainrule.datasets import mnist
        >>> data = prepare(mnist.bundled(), 100)
        >>> data.x_train.shape, data.x_test.shape, data.onehot.shape
        ((5000, 100), (1000, 100), (5000, 10))
    """
    train = digits.train_images.reshape(len(digits.train_images), -1).astype(np.float64) / 255.0
    test = digits.test_images.reshape(len(digits.test_images), -1).astype(np.float64) / 255.0
    mean, directions = pca(train, dims)
    x_train = (train - mean) @ directions
    scale = x_train.std()
    x_test = (test - mean) @ directions / scale
    y_train, y_test = digits.train_labels.astype(np.int64), digits.test_labels.astype(np.int64)
    return Data((x_train / scale).astype(dtype), y_train, np.eye(10, dtype=dtype)[y_train],
                x_test.astype(dtype), y_test)


class Adam:
    """Adam (Kingma and Ba): per-weight steps from running first and second moments.

    Example:
        >>> opt = Adam([np.zeros(2)], lr=0.1)
        >>> np.round(opt.step([np.array([1.0, -2.0])])[0], 6)  # the first step is lr * sign
        array([-0.1,  0.1])
    """

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = [p.copy() for p in params]
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        """Update the parameters in place along `grads`; returns them."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        rate = self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= rate * m / (np.sqrt(v) + self.eps)
        return self.params


@dataclasses.dataclass
class History:
    """Per-epoch training loss and accuracy (means over the epoch's
    batches), test accuracy and seconds; the final parameters; the loss of
    every batch."""

    train_loss: list
    train_accuracy: list
    test_accuracy: list
    seconds: list
    params: list
    batch_loss: list = dataclasses.field(default_factory=list)

    @property
    def final_accuracy(self):
        return self.test_accuracy[-1]


def train(data, epochs=10, batch_size=128, hidden=1000, lr=1e-3, seed=0, max_batches=None,
          progress=True, out=print):
    """Train by minibatch Adam on the compiled value-and-gradient; returns a History.

    Each epoch visits the training rows in a new random order, in full
    batches of `batch_size` (at most `max_batches` of them), showing a
    progress bar with the running loss and accuracy; then the test accuracy
    is measured and one line printed through `out` (None: silent).

    Example:
        >>> from chainrule.datasets import mnist
        >>> h = train(prepare(mnist.bundled()), epochs=2, hidden=50, progress=False, out=None)
        >>> h.train_loss[1] < h.train_loss[0], h.final_accuracy > 0.5  # chance: 0.1
        (True, True)
    """
    rng = np.random.default_rng(seed)
    dtype = data.x_train.dtype
    optimizer = Adam(init_params(rng, data.x_train.shape[1], hidden, dtype=dtype), lr=lr)
    step = cr.compile(cr.value_and_grad(loss_and_correct, has_aux=True))
    batches = len(data.x_train) // batch_size
    if batches == 0:
        raise ValueError(f"batch size {batch_size} exceeds the {len(data.x_train)} training images")
    if max_batches is not None:
        batches = min(batches, max_batches)
    history = History([], [], [], [], None)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(data.x_train))
        total_loss, total_correct = 0.0, 0
        bar = progress_bar(batches, desc=f"epoch {epoch}/{epochs}", unit="batch") if progress else None
        start = time.perf_counter()
        for b in range(batches):
            rows = order[b * batch_size:(b + 1) * batch_size]
            (value, correct), grads = step(optimizer.params, data.x_train[rows], data.onehot[rows])
            optimizer.step(grads)
            total_loss += float(value)
            history.batch_loss.append(float(value))
            total_correct += int(correct)
            if bar is not None:
                bar.update(1)
                if b % 20 == 19 or b == batches - 1:
                    bar.set_postfix_str(f"loss {total_loss / (b + 1):.4f}  "
                                        f"accuracy {total_correct / ((b + 1) * batch_size):.2%}")
        seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
        history.seconds.append(seconds)
        history.train_loss.append(total_loss / batches)
        history.train_accuracy.append(total_correct / (batches * batch_size))
        history.test_accuracy.append(accuracy(optimizer.params, data.x_test, data.y_test))
        if out:
            out(f"epoch {epoch}: loss {history.train_loss[-1]:.4f}, training accuracy "
                f"{history.train_accuracy[-1]:.2%}, test accuracy {history.test_accuracy[-1]:.2%}, "
                f"{seconds:.1f} s")
    history.params = optimizer.params
    return history
