"""compile: values equal eager chainrule, caching, scalar code, memory."""

import tracemalloc
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import Primitive
from chainrule.graph import ValueDependentError, compile

from .mlp import backprop, loss, problem


def test_compiled_value_and_grad_of_the_mlp():
    params, x, y = problem(batch=16, n_in=5, n_hidden=7, n_out=3)
    value, grads = compile(cr.value_and_grad(loss))(params, x, y)
    v_hand, g_hand = backprop(params, x, y)
    assert np.isclose(value, v_hand, rtol=1e-13)
    for k in params:
        np.testing.assert_allclose(grads[k], g_hand[k], rtol=1e-12, atol=1e-15)


def test_grad_hvp_and_plain_functions_compile():
    f = lambda x: np.sum(np.sin(x) ** 2 * x)  # noqa: E731
    x, v = np.linspace(0.1, 1.0, 4), np.array([1.0, -1.0, 0.5, 2.0])
    np.testing.assert_allclose(compile(f)(x), f(x), rtol=1e-15)
    np.testing.assert_allclose(compile(cr.grad(f))(x), cr.grad(f)(x), rtol=1e-14)
    hvp = lambda x, v: cr.hvp(f, (x,), (v,))  # noqa: E731
    np.testing.assert_allclose(compile(hvp)(x, v), hvp(x, v), rtol=1e-13)
    out, t = compile(lambda x, v: cr.jvp(f, (x,), (v,)))(x, v)
    np.testing.assert_allclose(t, cr.jvp(f, (x,), (v,))[1], rtol=1e-14)


def test_cache_per_shape_dtype_and_static_argument():
    f = compile(lambda x, n: np.sum(x ** n))
    f(np.ones(3), 2)
    f(np.zeros(3), 2)
    assert len(f.cache) == 1
    f(np.ones(4), 2)
    f(np.ones(3, np.float32), 2)
    assert f(np.full(3, 2.0), 3) == 24.0
    assert len(f.cache) == 4
    assert "x ** 3" in f.source


def test_source_is_readable_and_frees_temporaries():
    f = compile(lambda x: np.sum(np.exp(x) * np.sin(x)))
    f(np.ones(5))
    assert f.source.splitlines()[0] == "def lambda_(x):"
    assert "np.exp(x)" in f.source and "del " in f.source


def test_unknown_primitives_compile_through_their_impl():
    cumsum_p = Primitive("my_cumsum", lambda x, axis: np.cumsum(x, axis=axis), register=False)
    f = compile(lambda x: cumsum_p(x * 2.0, axis=0))
    np.testing.assert_array_equal(f(np.arange(4.0)), np.cumsum(np.arange(4.0) * 2))
    assert "_my_cumsum(mul1, axis=0)" in f.source


def test_scalar_graphs_run_on_python_floats():
    def f(x):
        for _ in range(10):
            x = np.sin(x) * 1.0001 + 0.1
        return x
    g = compile(cr.grad(f))
    assert np.isclose(g(0.5), cr.grad(f)(0.5), rtol=1e-14)
    assert "math.sin(" in g.source and "np." not in g.source.split("return")[0]


def test_scalar_code_falls_back_to_numpy_at_domain_errors():
    f = compile(lambda x: np.log(x) - 1.0 / x)
    with np.errstate(all="ignore"):
        assert np.isnan(f(-1.0)) and np.isinf(f(0.0))
    assert f(1.0) == -1.0 and "math.log(x)" in f.source


def test_value_dependent_loops_compile_per_path():
    def f(x):
        while x > 1.0:
            x = x / 2
        return x
    with pytest.raises(ValueDependentError, match=r"while x > 1.0"):
        cr.trace(cr.grad(f), 3.0)  # plain tracing knows no values
    g = compile(cr.grad(f))
    for x in (3.0, 2.5, 5.0, 0.5, 3.0):
        assert g(x) == cr.grad(f)(x)
    assert len(g.cache[next(iter(g.cache))]) == 3  # two (3.0 and 2.5), three and no halvings


def test_compiled_functions_can_be_differentiated_eagerly():
    f = compile(lambda x: np.sum(np.tanh(x)))
    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(cr.grad(f)(x), 1 - np.tanh(x) ** 2)


def test_keyword_arguments_are_refused():
    with pytest.raises(TypeError, match="by position"):
        compile(lambda x: x)(x=1.0)


def _peak(fun, *args):
    tracemalloc.start()
    try:
        fun(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_is_below_the_tape():
    params, x, y = problem(batch=256, n_in=100, n_hidden=1000, n_out=10)
    vg = cr.value_and_grad(loss)
    compiled = compile(vg)
    compiled(params, x, y)
    assert _peak(compiled, params, x, y) < _peak(vg, params, x, y)


def test_degenerate_eigenvalues_warn_when_the_compiled_code_runs():
    # the check needs the values, so it is an equation of the graph, not an `if`
    from chainrule.rules.linalg import DegenerateWarning
    weights = np.arange(4.0).reshape(2, 2)
    f = compile(cr.grad(lambda a: np.sum(np.linalg.eigh(a)[1] * weights)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(np.diag([1.0, 2.0]))
    with pytest.warns(DegenerateWarning, match="repeated"):
        f(np.eye(2))
    assert "degenerate_check" in f.source and len(f.cache) == 1
