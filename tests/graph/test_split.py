"""Partial evaluation (graph/split.py): the fixed part runs once per point,
the varying part per call; traced once per signature; guards still hold."""

import functools

import numpy as np
import pytest

import chainrule as cr
from chainrule.curvature import hessian_operator
from chainrule.graph.split import split_graph, staged
from chainrule.graph import trace
from chainrule.graph.ir import reads

RNG = np.random.default_rng(3)
A = RNG.standard_normal((30, 5))
Y = (RNG.random(30) < 0.5).astype(float)


def logistic(w, X, y):
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(w ** 2)


def hvp_fun(x, v):
    return cr.hvp(lambda w: logistic(w, A, Y), (x,), (v,))


def test_every_varying_equation_depends_on_the_vector():
    g = trace(hvp_fun, np.zeros(5), np.zeros(5))
    fixed, vary, layout, _, _ = split_graph(g, [g.inputs[1]])
    dep = {vary.inputs[0]}
    for e in vary.eqns:
        assert any(v in dep for v in reads(e)), e.prim.name
        dep.update(e.outputs)
    assert not any(v is g.inputs[1] for e in fixed.eqns for v in reads(e))
    assert "matmul" in [e.prim.name for e in fixed.eqns]  # the forward pass is per point
    assert layout == [("vary", 0)]


def test_products_are_exact_and_the_fixed_part_runs_once_per_point():
    f = staged(hvp_fun, varying=[1])
    for x in (RNG.standard_normal(5), RNG.standard_normal(5)):
        point = f.at(x, np.zeros(5))
        calls = []
        fix = point.program.fix
        point.program.fix = lambda leaves: calls.append(1) or fix(leaves)
        H = cr.hessian(logistic)(x, A, Y)
        for _ in range(3):
            v = RNG.standard_normal(5)
            np.testing.assert_allclose(point(v), H @ v, rtol=1e-12, atol=1e-12)
        assert calls == []  # products never rerun the per-point part
        del point.program.fix
    assert f.traces == 1  # a new point: no new trace


def test_a_branch_on_the_point_is_guarded_and_traced_per_path():
    def branchy(x, v):
        y = x if np.sum(x) > 0 else -2.0 * x
        return np.sum(y ** 3 * v)

    f = staged(branchy, varying=[1])
    v = np.array([1.0, 2.0])
    for x in (np.ones(2), -np.ones(2), 2 * np.ones(2), -3 * np.ones(2)):
        assert f.at(x, v)(v) == branchy(x, v)
    assert f.traces == 2
    assert "guard" in f.at(np.ones(2), v).program.source


def test_a_branch_on_the_vector_is_guarded_too():
    def branchy(x, v):
        return np.exp(x) * v if np.sum(v) > 0 else np.exp(x) - v

    f = staged(branchy, varying=[1])
    point = f.at(np.zeros(2), np.ones(2))
    np.testing.assert_array_equal(point(np.array([1.0, 2.0])), [1.0, 2.0])
    np.testing.assert_array_equal(point(np.array([-1.0, -2.0])), [2.0, 3.0])
    np.testing.assert_array_equal(point(np.array([3.0, 2.0])), [3.0, 2.0])
    assert f.traces == 2


def test_untraceable_and_differentiated_calls_run_eagerly():
    def shapes(x, v):
        return np.sum(np.nonzero(x)[0]) * v  # nonzero's shape depends on values: guarded
    f = staged(shapes, varying=[1])
    assert f.at(np.array([0.0, 1.0, 1.0]), 1.0)(2.0) == 6.0
    assert f.at(np.array([1.0, 1.0, 0.0]), 1.0)(2.0) == 2.0
    g = cr.grad(lambda x: f.at(x, np.ones(2))(np.ones(2)).sum())(np.zeros(2))
    np.testing.assert_array_equal(g, [0.0, 0.0])
    h = staged(lambda x, v: np.exp(x) * v, varying=[1])
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(h.at(x, np.ones(2))(np.ones(2))))(np.zeros(2)), [1.0, 1.0])
    assert h.traces == 0


def test_hessian_operator_compiles_once_per_function_and_shapes():
    X, y = A, Y
    ops = [hessian_operator(logistic, (RNG.standard_normal(5), X, y)) for _ in range(3)]
    for op in ops:
        x = op.point
        np.testing.assert_allclose(op.todense(), cr.hessian(logistic)(x, X, y), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(op @ np.ones(5), cr.hessian(logistic)(x, X, y) @ np.ones(5),
                                   rtol=1e-12, atol=1e-12)
    assert ops[0]._points[None].staged is ops[2]._points[None].staged
    assert ops[0]._points[None].staged.traces == 1
    # other data of the same shapes: the same program, the new data's values
    X2 = RNG.standard_normal(X.shape)
    w = RNG.standard_normal(5)
    np.testing.assert_allclose(hessian_operator(logistic, (w, X2, y)).todense(),
                               cr.hessian(logistic)(w, X2, y), rtol=1e-12, atol=1e-12)


def test_a_closure_whose_captured_array_is_rebound_gets_a_new_program():
    c = RNG.standard_normal(5)

    def f(x):
        return np.sum(c * x ** 3)

    x = np.ones(5)
    for _ in range(2):
        np.testing.assert_allclose(hessian_operator(f, (x,)).todense(), np.diag(6 * c * x))
        c = RNG.standard_normal(5)  # the same function object, another captured array


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_are_part_of_the_signature(dtype):
    x = np.ones(3, dtype)
    op = hessian_operator(lambda z: np.sum(z ** 4), (x,))
    out = op @ np.ones(3, dtype)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, 12 * np.ones(3), rtol=1e-6)


def test_bound_methods_share_their_program():
    class Model:
        def __init__(self, c):
            self.c = c

        def loss(self, x):
            return np.sum(self.c * x ** 3)

    a, b = Model(np.arange(3.0)), Model(np.ones(3))
    x = np.ones(3)
    ops = [hessian_operator(a.loss, (x * t,)) for t in (1.0, 2.0)]
    np.testing.assert_allclose(ops[1].todense(), np.diag(12.0 * np.arange(3.0)))
    assert ops[1].traces == 1  # a.loss at a new point: the same program
    np.testing.assert_allclose(hessian_operator(b.loss, (x,)).todense(), 6.0 * np.eye(3))


GLOBAL_C = np.arange(3.0)


def global_loss(x):
    return np.sum(GLOBAL_C * x ** 3)


def test_rebinding_a_global_or_an_attribute_gets_a_new_program():
    global GLOBAL_C
    x = np.ones(3)
    old = GLOBAL_C
    try:
        for c in (np.arange(3.0), np.array([5.0, 1.0, 2.0])):
            GLOBAL_C = c
            np.testing.assert_allclose(hessian_operator(global_loss, (x,)).todense(), np.diag(6 * c))
            # through a wrapper too (the state is collected recursively)
            wrapped = cro_problem_like(global_loss)
            np.testing.assert_allclose(hessian_operator(wrapped, (x,)).todense(), np.diag(6 * c))
    finally:
        GLOBAL_C = old

    class Model:
        def loss(self, x):
            return np.sum(self.c * x ** 3)

    class Callable:
        def __call__(self, x):
            return np.sum(self.c * x ** 3)

    m, f = Model(), Callable()
    for c in (np.ones(3), 2 * np.ones(3)):
        m.c = f.c = c
        np.testing.assert_allclose(hessian_operator(m.loss, (x,)).todense(), np.diag(6 * c))
        np.testing.assert_allclose(hessian_operator(f, (x,)).todense(), np.diag(6 * c))
        part = functools.partial(lambda x, c: np.sum(c * x ** 3), c=c)
        np.testing.assert_allclose(hessian_operator(part, (x,)).todense(), np.diag(6 * c))


_WRAPPERS = {}


def cro_problem_like(fun):
    if fun not in _WRAPPERS:  # one wrapper object, as an optimiser keeps
        _WRAPPERS[fun] = lambda x: fun(x)
    return _WRAPPERS[fun]


def test_newton_cg_traces_its_product_once(monkeypatch):
    import chainrule.graph.split as split
    from chainrule import optimize as cro
    count = []
    original = split.SplitProgram.__init__

    def counted(self, *args, **kwargs):
        count.append(1)
        original(self, *args, **kwargs)

    def loss(w, X, y):  # a function not compiled before
        return logistic(w, X, y)

    monkeypatch.setattr(split.SplitProgram, "__init__", counted)
    r = cro.newton_cg(loss, np.zeros(5), args=(A, Y))
    assert r.success and r.nit >= 3
    assert len(count) == 1  # one trace and code generation for every point of the run
    r2 = cro.newton_cg(loss, np.ones(5), args=(2 * A, Y))  # another solve, other data
    assert len(count) == 1  # still the same program
    np.testing.assert_allclose(r2.jac, cr.grad(logistic)(r2.x, 2 * A, Y), atol=1e-12)
    assert np.linalg.norm(r2.jac) < 1e-8


def test_hoisted_factors_keep_values_shapes_and_dtypes():
    from chainrule.graph.ir import eval_graph
    from chainrule.graph.split import hoist_factors

    def f(x, b, v):
        y = -(v * np.exp(x)) * b  # (4,) * (4,) then * (3, 1): broadcast
        z = (v * 2.0) * 3.0       # literals stay
        w = (np.sin(x) * v) * np.cos(x)
        return y, z, w, v * x     # an output read once stays as it is

    args = (RNG.standard_normal(4), RNG.standard_normal((3, 1)), RNG.standard_normal(4))
    g = trace(f, *args)
    h = hoist_factors(g, [g.inputs[2]])
    for want, got in zip(eval_graph(g, *args), eval_graph(h, *args)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-15)
    _, vary_g, _, _, _ = split_graph(g, [g.inputs[2]])
    _, vary_h, _, _, _ = split_graph(h, [h.inputs[2]])
    count = lambda graph, name: sum(e.prim.name == name for e in graph.eqns)  # noqa: E731
    assert count(vary_h, "multiply") < count(vary_g, "multiply")
    assert count(vary_h, "negative") == 0
    f32 = trace(lambda x, v: (v * x) * np.float64(2.0), np.zeros(3, np.float32), np.zeros(3, np.float32))
    h32 = hoist_factors(f32, [f32.inputs[1]])  # a float64 factor would change the dtype: kept
    assert [e.outputs[0].dtype for e in h32.eqns][-1] == f32.eqns[-1].outputs[0].dtype


def test_unhashable_arguments_are_captured_for_one_operator():
    class Data:  # unhashable, not an array: cannot key a shared program
        __hash__ = None

        def __init__(self, c):
            self.c = c

    f = lambda x, d: np.sum(d.c * x ** 3)  # noqa: E731
    x = np.ones(3)
    for c in (np.arange(3.0), np.ones(3)):
        op = hessian_operator(f, (x, Data(c)))
        np.testing.assert_allclose(op.todense(), np.diag(6 * c))
        assert op.route == "graph"
    from chainrule import optimize as cro
    r = cro.newton_cg(lambda x, d: np.sum((x - d.c) ** 2), np.zeros(3), args=(Data(np.ones(3)),))
    np.testing.assert_allclose(r.x, np.ones(3))
