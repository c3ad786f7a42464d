"""compile never refuses what eager runs: value-dependent control flow and
shapes become guards, checked at every call, with a new trace per path."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import compile
from chainrule.graph.compile import CompileWarning


def masked_loss(x, y):
    return np.sum(np.tanh(x[y > 0]) ** 2)


def test_bool_mask_of_a_plain_argument_compiles_for_masks_of_every_size():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(6)
    f, g = compile(masked_loss), compile(cr.value_and_grad(masked_loss))
    for y in ([1, -1, 1, 1, -1, 1], [1] * 6, [-1] * 6, [1, -1, 1, 1, -1, 1], [-1, 1, -1, -1, -1, -1]):
        y = np.array(y)
        assert f(x, y) == masked_loss(x, y)
        value, grad = g(x, y)
        want_value, want_grad = cr.value_and_grad(masked_loss)(x, y)
        assert value == want_value
        np.testing.assert_array_equal(grad, want_grad)
    assert len(g.cache[next(iter(g.cache))]) == 4  # one path per count of selected entries
    assert "# guard 0:" in g.source and "raise GuardFailure(0)" in g.source
    assert "test_guards.py" in g.source and "x[y > 0]" in g.source  # the line that decided


def test_value_dependent_if_and_while():
    def f(x):
        if np.sum(x) > 0:
            x = np.sin(x)
        else:
            x = np.cos(x) * 3.0
        n = 0
        while np.max(np.abs(x)) > 0.5:
            x = x / 2
            n += 1
        return np.sum(x ** 2) * (n + 1)
    g = compile(cr.value_and_grad(f))
    for x in ([1.0, 2.0], [-1.0, -2.0], [0.1, 0.2], [4.0, 5.0], [1.0, 2.0]):
        x = np.array(x)
        value, grad = g(x)
        want_value, want_grad = cr.value_and_grad(f)(x)
        np.testing.assert_allclose(value, want_value, rtol=1e-14)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-14)
    assert "raise GuardFailure" in g.source


def test_float_of_a_traced_value_is_guarded_by_value():
    def f(x, t):
        return x * float(t)  # t's value is baked into the code, and checked
    g = compile(f)
    assert g(np.ones(2), np.array(2.0))[0] == 2.0
    assert g(np.ones(2), np.array(3.0))[0] == 3.0
    assert "same_value(t" in g.source


def test_too_many_paths_run_eagerly_and_the_opt_in_warning_names_the_line():
    g = compile(masked_loss, max_variants=2, warn=True)
    x = np.arange(4.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for y in ([1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]):
            assert g(x, np.array(y)) == masked_loss(x, np.array(y))
    messages = [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]
    assert "tracing a new path (2 of at most 2)" in messages[0]
    assert "running it eagerly" in messages[1] and "x[y > 0]" in messages[1]
    assert len(g.cache[next(iter(g.cache))]) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # silent by default
        compile(masked_loss, max_variants=1)(x, np.array([1, 1, 1, 1]))


def test_functions_without_value_dependence_have_no_guards():
    g = compile(cr.grad(lambda x: np.sum(np.tanh(x))))
    g(np.zeros(3))
    assert g.guards == [] and "guard" not in g.source


def test_guards_of_scalar_code():
    def f(x):
        return x * 2.0 if x > 0 else -x
    g = compile(cr.grad(f))
    assert [g(v) for v in (1.0, -1.0, 2.0, -3.0)] == [2.0, -1.0, 2.0, -1.0]
    assert "math" in g.source or "x > 0" in g.source.replace("x > 0.0", "x > 0")


@pytest.mark.parametrize("y", [np.array([3, 1, 3, 2]), np.array([1, 1, 1, 1])])
def test_unique_compiles_per_count(y):
    g = compile(lambda x, y: np.sum(x[np.unique(y)]))
    x = np.arange(5.0)
    assert g(x, y) == np.sum(x[np.unique(y)])
