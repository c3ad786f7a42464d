"""The cost table: the cost model's operation counts for the tutorial's
network against hand-computed ones, and the measured rows' consistency."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.demo import cost_table
from chainrule.demo.mnist_mlp import init_params, loss
from chainrule.graph import graph_cost, trace


def tutorial_network(d=100, n=1000, k=10, seed=0):
    rng = np.random.default_rng(seed)
    return init_params(rng, d, n, k), rng.standard_normal((1, d)), np.eye(k)[[3]]


def test_symbols_of_the_tutorial_network():
    params, _, _ = tutorial_network()
    s = cost_table.Shapes.of(params)
    assert (s.m, s.n, s.k, s.l, s.P) == (10**5, 10**3, 10, 10**4, 111_010)


def test_cost_model_counts_the_function_value_by_hand():
    params, x, onehot = tutorial_network()
    d, n, k = 100, 1000, 10
    by_hand = (2 * d * n + n      # x W1 + b1
               + n                # tanh
               + 2 * n * k + k    # h W2 + b2
               + 1 + k            # max (one flop per output), shift
               + k + k + 1 + k    # exp, sum, log, subtract: log-softmax
               + k + k            # onehot *, sum
               + 1 + 1)           # negate, divide by the batch size
    assert graph_cost(trace(loss, params, x, onehot)).flops == by_hand == 222_074


def test_cost_model_counts_the_gradient_products_by_hand():
    params, x, onehot = tutorial_network()
    d, n, k = 100, 1000, 10
    graph = trace(cr.value_and_grad(loss), params, x, onehot)
    matmuls = sum(graph_cost_of(e) for e in graph.eqns if e.prim.name == "matmul")
    # forward x W1, h W2; backward x^T delta1 (d n), h^T delta2 (n k), delta2 W2^T (n k)
    assert matmuls == 2 * (d * n + n * k) + 2 * (d * n + 2 * n * k)
    function = graph_cost(trace(loss, params, x, onehot)).flops
    assert function < graph_cost(graph).flops < 3 * function  # the cheap gradient principle


def graph_cost_of(eqn):
    from chainrule.graph import eqn_cost
    return eqn_cost(eqn).flops


def test_forward_accumulation_count_is_two_mnk_plus_two_mk():
    params, _, _ = tutorial_network()
    s = cost_table.Shapes.of(params)
    assert cost_table.forward_accumulation_flops(s) == 2 * s.m * s.n * s.k + 2 * s.m * s.k


@pytest.fixture(scope="module")
def measured():
    params, x, onehot = tutorial_network(d=100, n=64)
    rows, extra = cost_table.measure(params, x, onehot, directions=40, weight_rows=3,
                                     min_time=0.001, memory_budget=2**20)
    return params, rows, extra


def test_rows_are_the_tutorials(measured):
    params, rows, _ = measured
    s = cost_table.Shapes.of(params)
    assert [r.name for r in rows] == ["function value", "reverse mode", "forward-accumulated Jacobians",
                                      "forward mode", "central differences"]
    assert [r.formula_count for r in rows] == [s.m + s.l, s.m * s.n + s.n * s.k,
                                               s.m * s.n * s.k + s.m * s.k,
                                               s.m * (s.m + s.l), s.m * (s.m + s.l)]
    assert all(r.seconds > 0 and r.flops > 0 for r in rows)
    assert [r.extrapolated for r in rows] == [False, False, True, True, True]
    assert (rows[2].sample, rows[2].total) == (3 * 64, s.m)
    assert (rows[3].sample, rows[3].total) == (40, s.P)
    assert rows[2].memory_full == (s.m * s.n + s.m * s.k + s.n * s.k + s.k) * 8
    assert rows[4].flops == 2 * s.P * rows[0].flops
    assert rows[1].memory >= sum(p.nbytes for p in params)  # it returns the gradient


def test_measured_gradients_agree_with_reverse_mode(measured):
    _, rows, extra = measured
    exact = extra["grad"][extra["picks"]]
    assert np.max(np.abs(extra["jvp"] - exact)) <= 1e-12 * extra["scale"]
    assert np.max(np.abs(extra["central"] - exact)) <= 1e-6 * extra["scale"]
    assert rows[3].error <= 1e-12 and rows[2].error <= 1e-12
    assert 0 < rows[4].error <= 1e-6  # differences are inexact


def test_full_forward_accumulation_when_it_fits():
    params, x, onehot = tutorial_network(d=6, n=5, k=10)
    rows, _ = cost_table.measure(params, x, onehot, directions=5, min_time=0.001)
    assert not rows[2].extrapolated and rows[2].error <= 1e-12


def test_table_text_labels_extrapolated_rows(measured):
    params, rows, _ = measured
    text = cost_table.format_table(rows, cost_table.Shapes.of(params))
    assert text.count(" *") == 3
    assert "extrapolated from 40 of" in text and "extrapolated from 192 of 6,400 layer-one" in text
