"""Index arrays are operands of getitem and scatter_add, so they may be
traced: integer labels passed to a compiled or vmapped function, argsort
results inside np.sort, argmax results inside norms."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.errors import NonDifferentiableInputError
from chainrule.core.tree import tree_flatten
from chainrule.graph import ValueDependentError, compile, trace
from chainrule.graph.ir import param_vars
from chainrule.jacobians import vmap

from .mlp import loss_labels, problem


def _labelled_problem():
    params, x, y = problem(batch=16, n_in=5, n_hidden=7, n_out=3, seed=1)
    return params, x, np.argmax(y, axis=1)


def _assert_tree_close(a, b, rtol=1e-12):
    a, b = tree_flatten(a)[0], tree_flatten(b)[0]
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=1e-15)


def test_mlp_with_integer_labels_compiles_value_and_grad_and_hvp():
    params, x, labels = _labelled_problem()
    vg = cr.value_and_grad(loss_labels)
    f = compile(vg)
    _assert_tree_close(f(params, x, labels), vg(params, x, labels))
    assert "labels]" in f.source and "scatter_add_at(" in f.source
    # the labels are an input of the code, not constants: new labels, same code
    other = (labels + 1) % 3
    _assert_tree_close(f(params, x, other), vg(params, x, other))
    assert len(f.cache) == 1

    rng = np.random.default_rng(2)
    v = {k: rng.standard_normal(p.shape) for k, p in params.items()}

    def hvp(p, v, x, labels):
        return cr.hvp(lambda q: loss_labels(q, x, labels), (p,), (v,))

    _assert_tree_close(compile(hvp)(params, v, x, labels), hvp(params, v, x, labels))


def test_labels_trace_as_an_operand():
    params, x, labels = _labelled_problem()
    g = trace(cr.grad(loss_labels), params, x, labels)
    labels_var = g.inputs[-1]
    users = [e.prim.name for e in g.eqns if labels_var in e.inputs]
    assert sorted(users) == ["getitem", "scatter_add"]
    assert not any(param_vars(p) for e in g.eqns for p in e.params.values())


@pytest.mark.parametrize("fun", [
    lambda x: np.sort(x),
    lambda x: np.sort(x, axis=0),
    lambda x: np.linalg.norm(x, np.inf),
    lambda x: np.take_along_axis(x, np.argsort(-x, axis=1), axis=1),
    lambda x: np.take(x, np.argmax(x, axis=0), axis=0),
    lambda x: x[np.argmax(x[:, 0])],
], ids=["sort", "sort_axis0", "norm_inf", "take_along_argsort", "take_argmax", "getitem_0d"])
def test_traced_indices_from_argsort_and_argmax(fun):
    x = np.random.default_rng(3).standard_normal((4, 3))
    vg = cr.value_and_grad(lambda x: np.sum(fun(x) ** 2))
    _assert_tree_close(compile(fun)(x), fun(x))
    _assert_tree_close(compile(vg)(x), vg(x))
    x2 = x[::-1].copy()  # other values, other permutation: the same code
    _assert_tree_close(compile(vg)(x2), vg(x2))


def test_eager_index_rules_are_unchanged():
    x = np.arange(6.0)
    f = lambda x, i: np.sum(x[i] ** 2)  # noqa: E731
    np.testing.assert_array_equal(cr.grad(f)(x, np.array([1, 1, 4])), [0, 4, 0, 0, 8, 0])
    np.testing.assert_array_equal(cr.grad(f)(x, x > 3), [0, 0, 0, 0, 8, 10])
    with pytest.raises(IndexError, match="integer"):
        cr.grad(f)(x, np.array([1.0]))
    with pytest.raises(NonDifferentiableInputError, match="floating-point"):
        cr.grad(lambda x: np.sum(x[x]))(np.array([1.0, 0.0]))
    with pytest.raises(ValueDependentError, match="output shape depends"):
        trace(lambda x: np.sum(x[x > 3]), x)
    assert compile(lambda x: np.sum(x[x > 3]))(x) == 9.0  # compile guards the shape


@pytest.mark.parametrize("name,fun,xshape,index", [
    ("rows",       lambda x, i: x[i],             (4, 3), np.array([[2, 0], [1, 1], [0, 3]])),
    ("after_slice", lambda x, i: x[:, i],         (4, 3), np.array([[2, 0], [1, 1], [0, 2]])),
    ("ellipsis",   lambda x, i: x[None, ..., i, :], (4, 3, 2), np.array([[2], [1], [0]])),
    ("split",      lambda x, i: x[i, :, 1],       (4, 3, 2), np.array([[2, 0], [1, 1], [3, 3]])),
    ("pair",       lambda x, i: x[np.arange(2), i], (4, 3), np.array([[2, 0], [1, 1], [0, 2]])),
    ("scalar",     lambda x, i: x[1, i],          (4, 3), np.array([2, 0, 1])),
])
@pytest.mark.parametrize("batched_x", [False, True])
def test_vmap_over_index_arrays(name, fun, xshape, index, batched_x):
    # each example has its own index array (and its own x, or a shared one);
    # the gradient runs the transpose, scatter_add, batched the same way
    rng = np.random.default_rng(4)
    B = len(index)
    x = rng.standard_normal((B,) + xshape if batched_x else xshape)
    h = lambda x, i: cr.value_and_grad(lambda x: np.sum(np.sin(fun(x, i))))(x)  # noqa: E731
    if batched_x:
        got = vmap(h)(x, index)
    else:  # x is a closure: a plain array under the gradient's box
        got = vmap(lambda i: h(x, i))(index)
    want = [h(x[b] if batched_x else x, index[b]) for b in range(B)]
    for part in (0, 1):
        np.testing.assert_allclose(got[part], np.stack([w[part] for w in want]), rtol=1e-14)
    if batched_x:
        np.testing.assert_array_equal(vmap(fun)(x, index), np.stack([fun(x[b], index[b])
                                                                     for b in range(B)]))


def test_plain_array_indexed_by_traced_labels_says_what_to_do():
    # ndarray.__getitem__ converts a traced index without asking chainrule
    labels = np.array([2, 0, 1])
    with pytest.raises(ValueDependentError, match="one-hot"):
        trace(lambda labels: np.eye(3)[labels], labels)
    g = compile(lambda labels: np.eye(3)[labels])  # specialised on the labels' values, guarded
    for other in (labels, np.array([1, 1, 0]), labels):
        np.testing.assert_array_equal(g(other), np.eye(3)[other])
    f = compile(lambda labels: (labels[:, None] == np.arange(3)).astype(float))
    np.testing.assert_array_equal(f(labels), np.eye(3)[labels])


def test_compiled_per_example_gradients_with_batched_labels():
    # vmap inside compile: the labels are symbolic and batched at once
    rng = np.random.default_rng(5)
    W, x, labels = rng.standard_normal((3, 4)), rng.standard_normal((5, 3)), rng.integers(0, 4, 5)

    def example_loss(W, x, label):
        z = x @ W
        return np.log(np.sum(np.exp(z))) - z[label]

    per_example = lambda W, x, labels: vmap(  # noqa: E731
        lambda x, label: cr.grad(example_loss)(W, x, label))(x, labels)
    want = np.stack([cr.grad(example_loss)(W, x[b], labels[b]) for b in range(5)])
    np.testing.assert_allclose(compile(per_example)(W, x, labels), want, rtol=1e-13)
