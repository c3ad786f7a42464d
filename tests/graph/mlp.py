"""The tutorial's MLP: tanh hidden layer, softmax cross-entropy, as plain NumPy."""

import numpy as np


def loss(params, x, y):
    """Mean softmax cross-entropy of a one-hidden-layer tanh network."""
    h = np.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(logp * y) / x.shape[0]


def loss_labels(params, x, labels):
    """The same loss with integer class labels: log-probabilities picked by
    `logp[np.arange(n), labels]`, with the max subtracted for stability."""
    h = np.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(x.shape[0]), labels])


def backprop(params, x, y):
    """Hand-written value and gradient of `loss`."""
    h = np.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    e = np.exp(z)
    s = np.sum(e, axis=1, keepdims=True)
    n = x.shape[0]
    value = -np.sum((z - np.log(s)) * y) / n
    dz = (e / s * np.sum(y, axis=1, keepdims=True) - y) / n
    dh = (dz @ params["W2"].T) * (1 - h ** 2)
    grads = {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}
    return value, grads


def problem(batch=256, n_in=100, n_hidden=1000, n_out=10, seed=0):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in), "b1": np.zeros(n_hidden),
              "W2": rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden), "b2": np.zeros(n_out)}
    x = rng.standard_normal((batch, n_in))
    y = np.eye(n_out)[rng.integers(0, n_out, batch)]
    return params, x, y
