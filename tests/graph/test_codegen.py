"""Generated source: golden files of reference functions (a refactor that
changes the code shows up as a readable diff), templates and literals.

Regenerate the golden files with CHAINRULE_UPDATE_GOLDEN=1 after checking
the new code by eye."""

import os
import pathlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import compile, cost, eval_graph, trace
from chainrule.graph.codegen import generate

from .mlp import loss, problem

GOLDEN = pathlib.Path(__file__).parent / "golden"


def _check_golden(name, source):
    path = GOLDEN / name
    if os.environ.get("CHAINRULE_UPDATE_GOLDEN"):
        path.write_text(source + "\n")
    assert source + "\n" == path.read_text(), f"generated code changed; see {path}"


@pytest.mark.parametrize("name,make", [
    ("mlp_loss.py.txt", lambda: loss),
    ("mlp_value_and_grad.py.txt", lambda: cr.value_and_grad(loss)),
])
def test_golden_mlp(name, make):
    params, x, y = problem(batch=4, n_in=3, n_hidden=5, n_out=2)
    f = compile(make())
    f(params, x, y)
    _check_golden(name, f.source)


def test_golden_scalar_loop():
    def f(x):
        for _ in range(3):
            x = np.sin(x) * 1.0001 + 0.1
        return x
    g = compile(cr.value_and_grad(f))
    g(0.5)
    _check_golden("scalar_loop_value_and_grad.py.txt", g.source)


def test_literals_are_exact():
    values = [1e-300, -0.0, np.float32(0.1), np.int64(-3), True, 1 + 2j, np.inf, -np.inf]
    for v in values:
        g = trace(lambda x: x * v, np.ones(2))
        source, namespace = generate(g, "f")
        exec(source, namespace)
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(namespace["f"](np.ones(2)), np.ones(2) * v)


def test_indexing_and_params_render_as_code():
    f = compile(lambda x: x[1:, None, ::2][..., 0] + np.reshape(x, (3, 2)).T[0, np.array([1, 0])])
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(f(x), x[1:, None, ::2][..., 0] + np.reshape(x, (3, 2)).T[0, [1, 0]])
    assert "x[1:, None, ::2]" in f.source


def test_index_arrays_computed_at_run_time():
    # labels are a traced integer input: an operand of getitem, not a constant
    def picked(z, labels):
        return z[np.arange(3), labels] * 2.0
    f = compile(picked)
    z = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(f(z, np.array([1, 0, 1])), [2.0, 4.0, 10.0])
    np.testing.assert_array_equal(f(z, np.array([0, 0, 0])), [0.0, 4.0, 8.0])  # same code
    assert len(f.cache) == 1 and "z[c0, labels]" in f.source


def test_cost_model():
    g = trace(lambda x, W: np.sum(np.tanh(x @ W).T), np.zeros((8, 4)), np.zeros((4, 3)))
    flops = [cost.eqn_cost(e).flops for e in g.eqns]
    assert flops == [2 * 8 * 4 * 3, 8 * 3, 0, 8 * 3]   # matmul, tanh, transpose, sum
    assert cost.eqn_cost(g.eqns[0]).bytes == 8 * (8 * 4 + 4 * 3 + 8 * 3)
    total = g.cost()
    assert total.flops == sum(flops) and total.bytes == sum(cost.eqn_cost(e).bytes for e in g.eqns)


def test_eval_graph_agrees_with_compiled_code():
    params, x, y = problem(batch=4, n_in=3, n_hidden=5, n_out=2)
    vg = cr.value_and_grad(loss)
    g = trace(vg, params, x, y)
    leaves = [params[k] for k in sorted(params)] + [x, y]
    value = eval_graph(g, *leaves)[0]
    assert np.isclose(value, compile(vg)(params, x, y)[0], rtol=1e-14)
