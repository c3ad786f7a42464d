"""Jacobians and Hessians, entry by entry against finite differences, and
the promise that each is ONE batched pass, not one pass per input."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import batch
from chainrule.core.primitive import PRIMITIVES
from chainrule.core.tree import tree_flatten
from chainrule.jacobians import hessian, jacfwd, jacobian, jacrev, vmap

from .ops.table import OPS

rng = np.random.default_rng(7)


def fd_jacobian(f, x, h=1e-3):
    """4th-order central differences: J[..., i] = (-f(x+2h) + 8f(x+h)
    - 8f(x-h) + f(x-2h)) / 12h along the i-th coordinate; shape out + x."""
    x = np.asarray(x, float)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        cols.append((-np.asarray(f(x + 2 * e)) + 8 * np.asarray(f(x + e))
                     - 8 * np.asarray(f(x - e)) + np.asarray(f(x - 2 * e))) / (12 * h))
    out_shape = np.shape(cols[0])
    return np.moveaxis(np.array(cols), 0, -1).reshape(out_shape + x.shape)


def fd_hessian(f, x, h=1e-3):
    """The 4th-order stencil applied twice: no derivative code involved."""
    return fd_jacobian(lambda y: fd_jacobian(f, y, h), x, h)


W1, W2, M = rng.standard_normal((4, 3)), rng.standard_normal((3, 4)), rng.standard_normal((2, 3))

# (name, function of one array, argument)
# fmt: off
FUNCTIONS = [
    ("vector_to_vector", lambda x: np.tanh(W1 @ x) * x[0],               rng.standard_normal(3)),
    ("vector_to_scalar", lambda x: np.sum(np.sin(x) ** 2) / (1 + x @ x), rng.standard_normal(5)),
    ("scalar_to_vector", lambda x: np.exp(x * np.arange(3.0)),           np.array(0.3)),
    ("matrix_to_matrix", lambda X: M @ X @ X.T + X[:2, :1],              rng.standard_normal((3, 2))),
    ("matrix_to_scalar", lambda X: np.sum(np.log1p(X ** 2), axis=0) @ np.ones(2), rng.standard_normal((3, 2))),
    ("broadcast_where",  lambda x: np.where(x > 0, x ** 3, np.cos(x))[:, None] * x, rng.standard_normal(4)),
    ("shapes",           lambda X: np.reshape(np.transpose(X) * np.mean(X, axis=1), (-1,))[::2],
                                                                          rng.standard_normal((2, 3))),
    ("indexing",         lambda x: x[np.array([0, 2, 2])] * x[1:3].sum() + x[np.array([True, False, True, True])],
                                                                          rng.standard_normal(4)),
    ("mlp",              lambda x: W2 @ np.tanh(W1 @ x + 1.0),            rng.standard_normal(3)),
]
# fmt: on
IDS = [f[0] for f in FUNCTIONS]


@pytest.mark.parametrize("mode", [jacfwd, jacrev, jacobian], ids=["jacfwd", "jacrev", "jacobian"])
@pytest.mark.parametrize("name,f,x", FUNCTIONS, ids=IDS)
def test_jacobian_against_finite_differences(mode, name, f, x):
    J = mode(f)(x)
    want = fd_jacobian(f, x)
    assert J.shape == np.shape(f(x)) + np.shape(x)
    np.testing.assert_allclose(J, want, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name,f,x", FUNCTIONS, ids=IDS)
def test_hessian_against_finite_differences(name, f, x):
    w = np.linspace(1, 2, np.size(f(x))).reshape(np.shape(f(x)))
    g = lambda y: np.sum(f(y) * w)  # a scalar mixing every output
    H = hessian(g)(x)
    assert H.shape == np.shape(x) + np.shape(x)
    np.testing.assert_allclose(H, fd_hessian(g, x), rtol=1e-5, atol=1e-6)
    square = H.reshape(x.size, x.size)
    np.testing.assert_allclose(square, square.T, rtol=1e-12, atol=1e-12)


def test_every_nesting_of_modes_agrees():
    f = lambda x: np.sum(np.tanh(W1 @ x) ** 3) * x[1]
    x = rng.standard_normal(3)
    ref = hessian(f)(x)
    for outer in (jacfwd, jacrev):
        for inner in (jacfwd, jacrev):
            np.testing.assert_allclose(outer(inner(f))(x), ref, rtol=1e-12, atol=1e-12)
    # third order: the Jacobian of the Hessian, against differences of the Hessian
    np.testing.assert_allclose(jacfwd(hessian(f))(x), fd_jacobian(hessian(f), x), rtol=1e-7, atol=1e-8)


def test_argnums_and_pytrees():
    def f(a, b, c):
        return {"u": a * b[0] + c, "v": (np.sum(a * a) * b,)}

    a, b, c = rng.standard_normal(3), rng.standard_normal(2), 1.5
    for mode in (jacfwd, jacrev, jacobian):
        J = mode(f, argnums=(0, 1))(a, b, c)
        assert J["u"][0].shape == (3, 3) and J["u"][1].shape == (3, 2)
        assert J["v"][0][0].shape == (2, 3) and J["v"][0][1].shape == (2, 2)
        np.testing.assert_allclose(J["u"][0], fd_jacobian(lambda y: f(y, b, c)["u"], a), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(J["u"][1], fd_jacobian(lambda y: f(a, y, c)["u"], b), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(J["v"][0][0], fd_jacobian(lambda y: f(y, b, c)["v"][0], a), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(J["v"][0][1], fd_jacobian(lambda y: f(a, y, c)["v"][0], b), rtol=1e-8, atol=1e-10)
        Jc = mode(f, argnums=2)(a, b, c)
        np.testing.assert_allclose(Jc["u"], np.ones(3))


def test_dict_argument():
    f = lambda p: np.tanh(p["W"] @ p["x"])
    p = {"W": rng.standard_normal((2, 3)), "x": rng.standard_normal(3)}
    for mode in (jacfwd, jacrev):
        J = mode(f)(p)
        assert J["W"].shape == (2, 2, 3) and J["x"].shape == (2, 3)
        np.testing.assert_allclose(J["x"], fd_jacobian(lambda x: f({"W": p["W"], "x": x}), p["x"]), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(J["W"], fd_jacobian(lambda W: f({"W": W, "x": p["x"]}), p["W"]), rtol=1e-8, atol=1e-10)


def test_hessian_of_several_arguments():
    f = lambda x, y: np.sum(np.sin(x)[:, None] * np.exp(y)) + np.sum(x ** 2) * y[0]
    x, y = rng.standard_normal(3), rng.standard_normal(2)
    H = hessian(f, argnums=(0, 1))(x, y)
    xy = np.concatenate([x, y])
    full = fd_hessian(lambda z: f(z[:3], z[3:]), xy)
    np.testing.assert_allclose(H[0][0], full[:3, :3], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H[0][1], full[:3, 3:], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H[1][0], full[3:, :3], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H[1][1], full[3:, 3:], rtol=1e-6, atol=1e-7)


def _count_primitive_evaluations(monkeypatch):
    """Count every evaluation of every primitive on plain values."""
    counter = [0]
    for prim in PRIMITIVES.values():
        def counted(*args, _impl=prim.impl, **params):
            counter[0] += 1
            return _impl(*args, **params)
        monkeypatch.setattr(prim, "impl", counted)
    return counter


@pytest.mark.parametrize("mode", [jacfwd, jacrev])
def test_one_batched_pass(mode, monkeypatch):
    """The Jacobian of a function of n = 200 inputs calls fun once, and does
    as many primitive evaluations as for n = 10: no per-input loop anywhere."""
    calls = [0]

    def chain(x):
        calls[0] += 1
        W = np.full((len(x), len(x)), 0.01)
        for _ in range(3):
            x = np.tanh(W @ x + 0.1)
        return x * x[0]

    evaluations = {}
    for n in (10, 200):
        calls[0] = 0
        with monkeypatch.context() as m:
            m.setattr(batch, "loop_batch", lambda *a: pytest.fail("the per-example fallback ran"))
            counter = _count_primitive_evaluations(m)
            J = mode(chain)(np.linspace(-1, 1, n))
        assert J.shape == (n, n) and calls == [1]
        evaluations[n] = counter[0]
    assert evaluations[200] == evaluations[10]
    x = np.linspace(-1, 1, 10)
    np.testing.assert_allclose(mode(chain)(x), fd_jacobian(chain, x), rtol=1e-8, atol=1e-10)


def test_jacobian_picks_the_cheaper_mode(monkeypatch):
    import chainrule.jacobians as jac
    used = []
    monkeypatch.setattr(jac, "jvp", lambda *a: used.append("fwd") or cr.jvp(*a))
    wide = lambda x: np.sum(x ** 2)                    # 5 inputs, 1 output: reverse
    tall = lambda x: x[:, None] * np.arange(4.0)    # 2 inputs, 8 outputs: forward
    jacobian(wide)(np.ones(5))
    assert used == []
    J = jacobian(tall)(np.array([1.0, 2.0]))
    assert used == ["fwd"] and J.shape == (2, 4, 2)


def test_vmap_of_jacobian_and_jacobian_of_vmap():
    f = lambda x: np.sin(W1 @ x)
    xs = rng.standard_normal((5, 3))
    Js = vmap(jacrev(f))(xs)
    np.testing.assert_allclose(Js, np.stack([jacfwd(f)(x) for x in xs]), rtol=1e-13)
    # jacobian of the batched function is block diagonal
    J = jacfwd(vmap(f))(xs)
    for k in range(5):
        np.testing.assert_allclose(J[k, :, k, :], Js[k], rtol=1e-13)


def test_custom_vjp_blocks_batch():
    """A hand-coded backprop receives the batch of cotangents as one value."""
    @cr.custom_vjp
    def softplus(x):
        return np.logaddexp(0.0, x), lambda g: (g / (1 + np.exp(-x)),)

    f = lambda x: softplus(W1 @ x) * x[0]
    x = rng.standard_normal(3)
    np.testing.assert_allclose(jacrev(f)(x), fd_jacobian(f, x), rtol=1e-8)
    np.testing.assert_allclose(jacfwd(f)(x), jacrev(f)(x), rtol=1e-13)
    np.testing.assert_allclose(hessian(lambda x: np.sum(f(x)))(x),
                               fd_hessian(lambda x: np.sum(f(x)), x), rtol=1e-5, atol=1e-7)


def test_outputs_that_do_not_depend_on_the_input():
    f = lambda x: (np.sum(x * 0.0 + 1.0) * 0 + 2.0, np.ones(2))
    for mode in (jacfwd, jacrev):
        a, b = mode(f)(np.ones(3))
        np.testing.assert_array_equal(a, np.zeros(3))
        np.testing.assert_array_equal(b, np.zeros((2, 3)))


def test_errors():
    with pytest.raises(TypeError, match="argnums"):
        jacfwd(lambda x: x, argnums=1)(np.ones(2))
    with pytest.raises(cr.NonDifferentiableInputError):
        jacrev(lambda x: x * 1.0)(np.arange(3))


# ---- every op of the op table: Jacobian times a direction equals the JVP ----
OP_CASES = [(op, k) for op in OPS for k in range(len(op.cases)) if "fwd" in op.modes]


@pytest.mark.parametrize("op,k", OP_CASES, ids=[f"{op.name}-{k}" for op, k in OP_CASES])
def test_jacobians_of_every_op_match_jvp(op, k):
    """Both Jacobians (batched tangents through every JVP rule, batched
    cotangents through every VJP rule) contracted with a direction."""
    args = op.cases[k]
    diff = op.diff_args if op.diff_args is not None else tuple(range(len(args)))
    nums = tuple(diff)
    v = [np.random.default_rng(k).standard_normal(np.shape(args[i])) for i in nums]
    _, want = cr.jvp(lambda *d: op.fun(*[d[nums.index(i)] if i in nums else a
                                         for i, a in enumerate(args)]), tuple(args[i] for i in nums), tuple(v))
    for mode in (jacfwd, jacrev) if "rev" in op.modes else (jacfwd,):
        blocks, _ = tree_flatten(mode(op.fun, argnums=nums)(*args))  # per output, per argument
        outs, _ = tree_flatten(want)
        for j, t in enumerate(outs):
            got = sum(np.tensordot(blocks[j * len(nums) + i], vi, axes=np.ndim(vi))
                      for i, vi in enumerate(v))
            scale = max(1.0, np.max(np.abs(t), initial=0))
            np.testing.assert_allclose(got, t, rtol=0, atol=op.rtol * 10 * scale + op.atol)
