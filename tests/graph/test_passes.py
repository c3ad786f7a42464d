"""Each pass on small graphs: what it removes or rewrites, that the result
passes check_graph (with shapes re-inferred) and computes the same values."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.graph import (
    Eqn, Graph, Lit, Var, check_graph, cse, dce, eval_graph, fold_constants, optimize,
    plan_memory, simplify, trace,
)

rng = np.random.default_rng(0)


def _names(g):
    return [e.prim.name for e in g.eqns]


def _run(pass_, fun, *args):
    """The traced and the transformed graph, checked and compared on args."""
    g = trace(fun, *args)
    new = pass_(g)
    check_graph(new, infer=True)
    for a, b in zip(eval_graph(g, *args), eval_graph(new, *args)):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    return g, new


def test_dce_drops_unused_work():
    _, g = _run(dce, lambda x: (np.exp(x), np.sin(x))[1], rng.random(3))
    assert _names(g) == ["sin"]


def test_dce_drops_unused_constants():
    c = np.ones(3)
    g = dce(trace(lambda x: (x * c, x)[1], np.zeros(3)))
    assert g.eqns == [] and g.consts == {}


def test_cse_merges_repeats_but_not_different_params_or_literals():
    def f(x):
        return (np.sum(x, axis=0) + np.sum(x, axis=0) + np.sum(x, axis=1)[0]
                + (x * 2)[0] + (x * 2.0)[0])
    g, new = _run(cse, f, rng.random((2, 2)))
    assert _names(new).count("sum") == 2 and _names(new).count("multiply") == 2


def test_cse_merges_equal_small_constants():
    g = cse(trace(lambda x: x * np.array(2.0) + x * np.array(2.0), np.zeros(2)))
    assert len(g.consts) == 1 and _names(g) == ["multiply", "add"]


def _const_graph(make_eqns):
    """A graph reading input x and constant c through the equations made."""
    x, c = Var("x", (3,), np.dtype(float)), Var("c", (3,), np.dtype(float))
    eqns = make_eqns(x, c)
    return Graph([x], eqns, [eqns[-1].outputs[0]], {c: np.arange(3.0)})


def test_fold_constants_evaluates_known_work():
    def make(x, c):
        e = Var("exp", (3,), np.dtype(float))
        m = Var("multiply", (3,), np.dtype(float))
        a = Var("add", (3,), np.dtype(float))
        return [Eqn(PRIMITIVES["exp"], [c], [e], {}), Eqn(PRIMITIVES["multiply"], [e, Lit(2.0)], [m], {}),
                Eqn(PRIMITIVES["add"], [x, m], [a], {})]
    g = _const_graph(make)
    new = dce(fold_constants(g))
    check_graph(new, infer=True)
    assert _names(new) == ["add"]
    np.testing.assert_allclose(list(new.consts.values())[0], np.exp(np.arange(3.0)) * 2.0)
    np.testing.assert_allclose(eval_graph(new, np.ones(3))[0], eval_graph(g, np.ones(3))[0])


def test_fold_constants_leaves_errors_to_run_time():
    def make(x, c):
        r = Var("reshape", (2, 2), np.dtype(float))  # 3 entries cannot make 2 x 2
        return [Eqn(PRIMITIVES["reshape"], [c], [r], {"shape": (2, 2)})]
    g = fold_constants(_const_graph(make))
    assert _names(g) == ["reshape"]


@pytest.mark.parametrize("fun,shape,left", [
    (lambda x: np.transpose(np.transpose(x)), (2, 3), []),
    (lambda x: np.transpose(np.transpose(x, (1, 2, 0)), (1, 0, 2)), (2, 3, 4), ["transpose"]),
    (lambda x: np.reshape(np.reshape(x, (6,)), (3, 2)), (2, 3), ["reshape"]),
    (lambda x: np.reshape(np.reshape(x, (6,)), (2, 3)), (2, 3), []),
    (lambda x: x * 1.0 + 0.0 - 0.0, (3,), []),
    (lambda x: 1 * (x / 1) ** 1, (3,), []),
    (lambda x: x * np.ones(3), (3,), []),
    (lambda x: x * np.ones((2, 3)), (3,), ["multiply"]),      # broadcasting: kept
    (lambda x: (x > 0.5) * 1.0, (3,), ["greater", "multiply"]),  # bool to float: kept
], ids=["T.T", "T.T-composed", "reshape-reshape", "reshape-back", "add0-mul1",
        "div1-pow1", "mul-ones", "mul-ones-broadcast", "mul-one-cast"])
def test_simplify_rules(fun, shape, left):
    _, g = _run(lambda g: dce(simplify(g)), fun, rng.random(shape))
    assert _names(g) == left


@pytest.mark.parametrize("shape,target,axis,keepdims", [
    ((3,), (4, 3), 0, False),
    ((3,), (4, 3), None, False),
    ((2, 1), (2, 5), 1, True),
    ((2, 1), (4, 2, 5), (0, 2), False),
    ((2, 1), (4, 2, 5), 0, False),
])
def test_sum_of_a_broadcast(shape, target, axis, keepdims):
    f = lambda x: np.sum(np.broadcast_to(x, target), axis=axis, keepdims=keepdims)  # noqa: E731
    g, new = _run(lambda g: dce(simplify(g)), f, rng.random(shape))
    assert "sum" not in _names(new) or new.eqns[_names(new).index("sum")].inputs[0].size < np.prod(target)


def test_plan_memory_reuses_dead_temporaries_only():
    def f(x, W):
        h = np.tanh(x @ W)        # matmul result: owned, dies in tanh -> reused
        v = np.transpose(h)       # a view of h, alive after the next line
        y = np.exp(h)             # h is read later through v: no reuse
        return np.sum(np.sin(x)) + np.sum(v, axis=0) + np.sum(y, axis=1)  # sin(x): x is an input
    x, W = rng.random((3, 4)), rng.random((4, 3))
    g, new = _run(plan_memory, f, x, W)
    reuse = {e.prim.name: e.reuse for e in new.eqns}
    assert reuse["tanh"] == 0 and reuse["exp"] is None and reuse["sin"] is None


def test_optimize_checks_every_pass_and_keeps_values():
    vg = cr.value_and_grad(lambda W, x: np.sum(np.tanh(x @ W) ** 2))
    W, x = rng.random((4, 3)), rng.random((5, 4))
    calls = []
    g = trace(vg, W, x)
    new = optimize(g, check=lambda g: calls.append(check_graph(g, infer=True)))
    assert len(calls) >= 5 and len(new.eqns) < len(g.eqns)
    for a, b in zip(eval_graph(g, W, x), eval_graph(new, W, x)):
        np.testing.assert_allclose(a, b, rtol=1e-13)
