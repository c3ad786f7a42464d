"""The tutorial's MNIST example: an MLP trained by SGD on chainrule gradients.

Input reduced by PCA, one tanh hidden layer, softmax over the 10 digits,
as in the tutorial's cost table (x in R^100, n hidden units, k = 10
outputs). The model is ordinary NumPy code; `cr.value_and_grad` gives the
loss and its gradient with respect to all four parameter arrays at once.
"""

import time
import warnings

import numpy as np

import chainrule as cr
from chainrule.datasets import mnist


def loss(params, x, onehot):
    """Mean softmax cross-entropy of the MLP on a batch: plain NumPy."""
    W1, b1, W2, b2 = params
    hidden = np.tanh(x @ W1 + b1)
    logits = hidden @ W2 + b2
    logits = logits - np.max(logits, axis=1, keepdims=True)  # softmax is shift-invariant
    log_probs = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.sum(onehot * log_probs, axis=1))


def predict(params, x):
    """The most likely digit for each row of x."""
    W1, b1, W2, b2 = params
    return np.argmax(np.tanh(x @ W1 + b1) @ W2 + b2, axis=1)


def init_params(rng, n_in, n_hidden, n_out=10):
    """Weights scaled by 1/sqrt(fan-in), biases zero."""
    return [rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in), np.zeros(n_hidden),
            rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden), np.zeros(n_out)]


def pca(images, dims):
    """The mean and the top `dims` principal directions (columns) of images."""
    mean = images.mean(axis=0)
    _, _, vt = np.linalg.svd(images - mean, full_matrices=False)
    return mean, vt[:dims].T


def prepare(digits, dims):
    """Flattened images projected on their top principal directions, unit scale;
    labels as one-hot rows for training, as integers for testing."""
    train = digits.train_images.reshape(len(digits.train_images), -1) / 255.0
    test = digits.test_images.reshape(len(digits.test_images), -1) / 255.0
    mean, directions = pca(train, dims)
    x_train = (train - mean) @ directions
    scale = x_train.std()
    onehot = np.eye(10)[digits.train_labels]
    return x_train / scale, onehot, (test - mean) @ directions / scale, digits.test_labels


def train(digits, steps=3000, batch=100, hidden=300, dims=100, lr=0.1, seed=0,
          report_every=300, out=print):
    """Train by minibatch SGD, printing the loss as it falls; returns the
    per-report mean losses and the final test accuracy.

    Example:
        >>> from chainrule.datasets import mnist
        >>> losses, accuracy = train(mnist.bundled(), steps=20, report_every=10, out=None)
        >>> losses[-1] < losses[0]
        True
    """
    rng = np.random.default_rng(seed)
    x, onehot, x_test, y_test = prepare(digits, dims)
    params = init_params(rng, dims, hidden)
    loss_and_grad = cr.value_and_grad(loss)
    losses, recent = [], []
    order = rng.permutation(len(x))
    start = time.perf_counter()
    for step in range(1, steps + 1):
        first = (step - 1) * batch % len(x)
        if first + batch > len(x):  # a new epoch: reshuffle
            order, first = rng.permutation(len(x)), 0
        rows = order[first:first + batch]
        value, grads = loss_and_grad(params, x[rows], onehot[rows])
        params = [p - lr * g for p, g in zip(params, grads)]
        recent.append(value)
        if step % report_every == 0 or step == steps:
            losses.append(float(np.mean(recent)))
            recent = []
            if out:
                out(f"step {step:5d}  loss {losses[-1]:.4f}  ({time.perf_counter() - start:.1f} s)")
    accuracy = float(np.mean(predict(params, x_test) == y_test))
    if out:
        out(f"test accuracy {accuracy:.1%} on {len(y_test)} images")
        # The tutorial's advice: verify gradients by forward vs reverse mode.
        cr.check_grads(loss, (params, x[:8], onehot[:8]), order=2)
        out("gradients verified: cr.check_grads found forward and reverse mode in "
            "agreement to float64 rounding, to second order")
    return losses, accuracy


def main(steps=3000, data=None, bundled=False, out=print):
    """The `python -m chainrule demo` command."""
    with warnings.catch_warnings(record=True) as caught:  # print the fallback note plainly
        warnings.simplefilter("always")
        digits = mnist.bundled() if bundled else mnist.load(data)
    for note in caught:
        out(f"note: {note.message}")
    out(f"MNIST from {digits.source}: {len(digits.train_images)} training images "
        f"of {digits.train_images.shape[1]} x {digits.train_images.shape[2]} pixels")
    out("MLP: PCA to 100 inputs, 300 tanh hidden units, softmax over 10 digits; "
        "SGD on gradients from cr.value_and_grad")
    return train(digits, steps=steps, out=out)
