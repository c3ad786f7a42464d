"""Tracing: graphs of plain functions, pytrees, constants, errors, DOT."""

import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import (
    GraphError, Lit, ValueDependentError, Var, check_graph, eval_graph, render, to_dot, trace,
)


def test_print_reads_like_code():
    g = trace(lambda x, W: np.tanh(x @ W) * 2.0, np.zeros(3), np.zeros((3, 2)))
    assert str(g) == "\n".join([
        "graph(x: f64[3], W: f64[3,2]):",
        "  matmul1: f64[2] = matmul(x, W)",
        "  tanh1: f64[2] = tanh(matmul1)",
        "  mul1: f64[2] = multiply(tanh1, 2.0)",
        "  return mul1",
    ])


def test_params_and_dtypes_are_recorded():
    g = trace(lambda x: np.sum(x.astype(np.float32), axis=1), np.zeros((2, 3)))
    assert [e.prim.name for e in g.eqns] == ["astype", "sum"]
    assert g.eqns[1].params == {"axis": (1,), "keepdims": False}
    assert g.outputs[0].shape == (2,) and g.outputs[0].dtype == np.float32
    check_graph(g, infer=True)


def test_pytrees_in_and_out():
    def f(params, x):
        return {"y": params["W"] @ x, "n": (np.sum(x), params["b"])}
    params = {"W": np.ones((2, 3)), "b": np.zeros(2)}
    g = trace(f, params, np.ones(3))
    assert [v.name for v in g.inputs] == ["W", "b", "x"]
    out = eval_graph(g, params["W"], params["b"], np.arange(3.0))
    assert len(out) == 3


def test_closure_arrays_become_constants_and_scalars_literals():
    c = np.array([1.0, 2.0, 3.0])
    g = trace(lambda x: x * c + 1.5, np.zeros(3))
    assert list(g.consts.values())[0] is c
    assert g.eqns[1].inputs[1] == Lit(1.5)
    np.testing.assert_array_equal(eval_graph(g, np.ones(3))[0], c + 1.5)


def test_static_arguments_are_not_traced():
    g = trace(lambda x, n: x ** n, np.zeros(2), 3)
    assert len(g.inputs) == 1 and g.eqns[0].inputs[1] == Lit(3)


def test_gradient_records_the_backward_pass():
    g = trace(cr.grad(lambda x: np.sum(np.sin(x))), np.zeros(3))
    assert "cos" in [e.prim.name for e in g.eqns]
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(eval_graph(g, x)[0], np.cos(x))


def test_if_on_a_traced_value_names_the_line():
    def f(x):
        if np.sum(x) > 0:  # the line the error must name
            return x
        return -x
    with pytest.raises(ValueDependentError, match=r"test_trace.py:\d+: if np.sum\(x\) > 0") as err:
        trace(f, np.zeros(2))
    assert "cr.grad" in str(err.value) and "np.where" in str(err.value)


def test_raw_values_stay_symbolic():
    # rules use raw(x) as a stop-gradient; under tracing it is recorded, not zeros
    from chainrule.core.trace import raw
    g = trace(lambda x: np.max(raw(x)) + x, np.zeros(3))
    x = np.array([1.0, 5.0, 2.0])
    np.testing.assert_array_equal(eval_graph(g, x)[0], 5.0 + x)
    with pytest.raises(ValueDependentError):
        trace(lambda x: np.asarray(raw(x)), np.zeros(3))


def test_value_dependent_shapes_are_refused():
    with pytest.raises(ValueDependentError, match="output shape depends on the values"):
        trace(lambda x: np.argwhere(x > 0), np.zeros(3))


def test_check_graph_finds_broken_graphs():
    g = trace(lambda x: np.sin(np.cos(x)), np.zeros(2))
    broken = g.replace(eqns=g.eqns[::-1])
    with pytest.raises(GraphError, match="before it is defined"):
        check_graph(broken)
    wrong = g.replace(eqns=[g.eqns[0]] + [type(g.eqns[1])(
        g.eqns[1].prim, g.eqns[1].inputs, [Var("sin", (5,), np.dtype("float64"))], {})])
    with pytest.raises(GraphError, match="primitive gives"):
        check_graph(wrong.replace(outputs=wrong.eqns[1].outputs), infer=True)


def test_dot_export():
    g = trace(lambda x: np.exp(x) + x, np.zeros(2))
    dot = to_dot(g)
    assert dot.startswith("digraph G {") and dot.count("->") == 4  # x->exp, x->add, exp->add, add->out
    assert g.to_dot() == dot


def test_render_draws_or_skips(tmp_path):
    g = trace(lambda x: np.exp(x), np.zeros(2))
    path = render(g, str(tmp_path / "g.svg"))
    if shutil.which("dot") is None:
        assert path is None
        pytest.skip("Graphviz dot is not installed")
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<")
