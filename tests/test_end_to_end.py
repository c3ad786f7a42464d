"""Whole models: chainrule's gradients against hand-written backprop."""

import numpy as np

import chainrule as cr
from chainrule.core.reverse import ReverseTrace, primitive_of, residuals_of

rng = np.random.default_rng(2)


def mlp_loss(params, x, labels):
    """The tutorial's MLP: tanh hidden layer, softmax cross-entropy."""
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(labels)), labels])


def mlp_backprop(params, x, labels):
    """The same gradient, derived by hand."""
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz = p.copy()
    dz[np.arange(len(labels)), labels] -= 1
    dz /= len(labels)
    dh = dz @ W2.T
    da = dh * (1 - h**2)
    return (x.T @ da, da.sum(0), h.T @ dz, dz.sum(0))


def test_mlp_gradient_matches_hand_written_backprop():
    x = rng.standard_normal((32, 20))
    labels = rng.integers(0, 10, size=32)
    params = (0.3 * rng.standard_normal((20, 50)), 0.1 * rng.standard_normal(50),
              0.3 * rng.standard_normal((50, 10)), 0.1 * rng.standard_normal(10))
    got = cr.grad(mlp_loss)(params, x, labels)
    assert isinstance(got, tuple) and len(got) == 4
    for g, w in zip(got, mlp_backprop(params, x, labels)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


def test_logistic_regression_gradient_and_training():
    x = rng.standard_normal((200, 3))
    w_true = np.array([1.5, -2.0, 0.5])
    y = (x @ w_true + 0.1 * rng.standard_normal(200) > 0).astype(float)

    def nll(w):
        z = x @ w
        return np.mean(np.logaddexp(0.0, z) - y * z)

    w = np.zeros(3)
    g = cr.grad(nll)(w)
    p = 1 / (1 + np.exp(-(x @ w)))
    np.testing.assert_allclose(g, x.T @ (p - y) / len(y), rtol=1e-13)
    losses = []
    for _ in range(200):
        value, g = cr.value_and_grad(nll)(w)
        losses.append(value)
        w = w - 1.0 * g
    assert losses[-1] < 0.5 * losses[0]
    assert np.corrcoef(w, w_true)[0, 1] > 0.95


def test_tape_keeps_only_what_backward_needs():
    """An affine layer keeps its operands, tanh only its output, add nothing."""
    trace = ReverseTrace()
    x = trace.new_input(rng.standard_normal((4, 3)))
    W = trace.new_input(rng.standard_normal((3, 2)))
    a = x @ W
    z = a + 1.0
    h = np.tanh(z)
    by_name = {primitive_of(node).name: residuals_of(node) for node in trace.tape if node[0] is not None}
    (mx, mw), _ = by_name["matmul"]
    assert mx is x._value and mw is W._value
    assert by_name["add"] == (None, None, None)
    assert by_name["tanh"][0] is None and by_name["tanh"][1] is h._value
