"""Reverse mode's recording fast path (`chainrule.core.reverse._recorders`:
an elementwise call with one traced argument, reached from the box's
operators, its `__array_ufunc__` and `ReverseTrace.process`) records exactly
what the general path (`process` with `prim.save`) records, and gives the
same derivatives, for every elementwise primitive and the kinds of values
NumPy code mixes: float64, float32, complex, int and NumPy scalars, 0-d
arrays, broadcasting, and either operand traced."""

import contextlib
import gc
import itertools
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.box import Box
from chainrule.core.primitive import PRIMITIVES
from chainrule.core.reverse import ReverseTrace, _recorders, residuals_of

ELEMENTWISE = sorted((p for p in PRIMITIVES.values() if _recorders(p)), key=lambda p: p.name)
ARITY = {p.name: len(p.recorders) for p in ELEMENTWISE}

TRACED = {  # the traced argument's value
    "float64": np.float64(0.6),
    "python float": 0.6,
    "float32": np.float32(0.6),
    "complex": np.complex128(0.6 + 0.3j),
    "0-d": np.array(0.6),
    "vector": np.array([0.3, 0.6, 0.7]),
    "float32 vector": np.array([0.3, 0.6], dtype=np.float32),
}
CONSTANT = {  # the other (constant) argument of a binary primitive
    "float": 1.7,
    "int": 2,
    "float64": np.float64(1.3),
    "float32": np.float32(1.3),
    "complex": 0.4 - 0.2j,
    "0-d": np.array(1.4),
    "row": np.array([1.1, 1.9, 2.5]),
    "column": np.array([[1.2], [1.6]]),
}


@contextlib.contextmanager
def general_path(prim):
    """Record `prim` without its fast path (process's general branch)."""
    rec = prim.recorders
    prim.recorders = ()
    try:
        yield
    finally:
        prim.recorders = rec


def record(prim, position, x, c, fast):
    """The tape node of prim with argument `position` traced (x), the other
    `c`, and the cotangent of x for a cotangent of ones."""
    trace = ReverseTrace()
    trace.direct = fast
    box = trace.new_input(x)
    args = (box,) if ARITY[prim.name] == 1 else ((box, c) if position == 0 else (c, box))
    with contextlib.ExitStack() as stack:
        if not fast:
            stack.enter_context(general_path(prim))
        out = trace.process(prim, args, {})
    node = trace.tape[-1]
    g = np.ones_like(out._value)
    (ct,) = trace.backward([out], [g], [box])
    return out._value, node, ct


def same(a, b):
    if a is None or b is None:
        return a is b
    return type(a) is type(b) and np.array_equal(a, b, equal_nan=True) and \
        np.result_type(a) == np.result_type(b)


def cases():
    for prim in ELEMENTWISE:
        if ARITY[prim.name] == 1:
            for xname in TRACED:
                yield prim, 0, xname, None
        else:
            for position, xname, cname in itertools.product((0, 1), TRACED, CONSTANT):
                yield prim, position, xname, cname


@pytest.mark.parametrize("prim,position,xname,cname", [
    pytest.param(*c, id=f"{c[0].name}-{c[1]}-{c[2]}-{c[3]}") for c in cases()])
def test_fast_path_records_what_the_general_path_records(prim, position, xname, cname):
    x, c = TRACED[xname], CONSTANT.get(cname)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            general = record(prim, position, x, c, fast=False)
        except (TypeError, ValueError, cr.ChainruleError) as e:  # not defined for these values
            with pytest.raises(type(e)):
                record(prim, position, x, c, fast=True)
            return
        fast = record(prim, position, x, c, fast=True)
    (ans_g, node_g, ct_g), (ans_f, node_f, ct_f) = general, fast
    assert same(ans_f, ans_g)
    prim_g, _, params_g, which_g, parent_g, shape_g, pull_g = node_g[:7]
    prim_f, _, params_f, which_f, parent_f, shape_f, pull_f = node_f[:7]
    res_g, res_f = residuals_of(node_g), residuals_of(node_f)
    assert (prim_f, params_f, tuple(which_f), parent_f, shape_f, pull_f) == \
        (prim_g, params_g, tuple(which_g), parent_g, shape_g, pull_g)
    assert len(res_f) == len(res_g) and all(same(a, b) for a, b in zip(res_f, res_g))
    assert same(ct_f, ct_g)


SCALAR_FUNCTIONS = [
    lambda x: np.sin(x) * 1.0001 + 0.1,
    lambda x: 2.0 / x - 3 ** x + x ** 2 - 1.5 - x,
    lambda x: np.float32(2) * x % 0.7 + np.exp(-x) / 3,
    lambda x: np.tanh(np.float64(0.3) - x) * (1 + 0j),
    lambda x: np.array(2.0) * x + x * np.array([1.0, 2.0]),
    lambda x: -x * 0.5 + (x ** 0.5) ** 2,
]


@pytest.mark.parametrize("f", SCALAR_FUNCTIONS)
@pytest.mark.parametrize("x", [0.7, np.float32(0.7), np.array([0.4, 0.9]), np.float64(0.7)])
def test_gradients_with_and_without_the_fast_path_agree(f, x):
    def grad(fast):
        trace = ReverseTrace()
        trace.direct = fast
        box = trace.new_input(x)
        with contextlib.ExitStack() as stack:
            if not fast:
                for prim in ELEMENTWISE:
                    stack.enter_context(general_path(prim))
            out = f(box)
            g = np.ones_like(out._value)
            return out._value, trace.backward([out], [g], [box])[0]
    (v_fast, g_fast), (v_general, g_general) = grad(True), grad(False)
    assert same(v_fast, v_general) and same(g_fast, g_general)
    assert np.result_type(g_fast) == np.result_type(g_general)


def test_fast_path_under_an_outer_trace_is_nested_correctly():
    # d/dx [x * d/dy (sin(y) * x + 2)] at y = x: the inner box wraps an outer one
    f = lambda x: x * cr.grad(lambda y: np.sin(y) * x + 2.0)(x)  # noqa: E731
    x = 0.8
    # f(x) = x^2 cos(x); f'(x) = 2x cos(x) - x^2 sin(x)
    assert np.isclose(cr.grad(f)(x), 2 * x * np.cos(x) - x * x * np.sin(x))
    assert np.isclose(cr.grad(cr.grad(lambda x: np.sin(x) * 3.0))(x), -3 * np.sin(x))


def test_a_trace_that_overrides_process_sees_every_call():
    seen = []

    class Seeing(ReverseTrace):
        def process(self, prim, args, params):
            seen.append(prim.name)
            return super().process(prim, args, params)

    trace = Seeing()
    assert not trace.direct
    x = trace.new_input(0.5)
    np.sin(x) * 2.0 + 1.0
    3.0 - x
    assert seen == ["sin", "multiply", "add", "subtract"]


def test_a_saver_replaced_after_the_recorders_were_made_is_used():
    # rules for complex input replace `save` (chainrule.rules.elementwise._complex_aware)
    from chainrule.core.primitive import elementwise
    prim = elementwise("test_cube", lambda x: x ** 3, lambda x: 3 * x ** 2, register=False)
    assert len(_recorders(prim)) == 1
    prim.save = lambda args, ans, params: (args[0] * 1.0, "replaced")
    trace = ReverseTrace()
    x = trace.new_input(2.0)
    y = prim(x)
    assert residuals_of(trace.tape[-1]) == (2.0, "replaced")
    assert trace.backward([y], [1.0], [x]) == [12.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_the_zero_cotangent_of_an_unused_output_has_its_dtype(dtype):
    from chainrule.core.primitive import Primitive
    seen = []

    def vjp(g, res, params, which):
        seen.extend(np.result_type(gi) for gi in g)
        return [g[0] * 2 + g[1] * 3]

    two = Primitive("test_two_outputs", lambda x: (x * 2, (x * 3).astype(dtype)), vjp=vjp,
                    multiple_results=True, register=False)
    trace = ReverseTrace()
    x = trace.new_input(np.ones(3, dtype=np.float32))
    first, second = two(x)
    (g,) = trace.backward([first], [np.ones(3, dtype=np.float32)], [x])
    assert seen == [np.float32, dtype]
    assert np.array_equal(g, np.full(3, 2.0))


def test_nodes_of_scalar_code_are_untracked_by_the_garbage_collector():
    """Elementwise ops with one traced argument: their nodes hold no object
    the collector tracks (residuals flat in the node, ints for primitive and
    pullback), so a collection untracks them instead of promoting them to
    the generations that full collections walk."""
    def f(x):
        for _ in range(50):
            x = np.float64(0.9) ** (2.0 / (np.sin(x) * 1.0001 + 3.0)) - 0.1
        return x
    f(ReverseTrace().new_input(0.5))  # makes the recorders (each has its `which`)
    gc.collect()  # which untracks their `which` tuples, as any collection will
    trace = ReverseTrace()
    x = trace.new_input(0.5)
    y = f(x)
    gc.collect()
    assert len(trace.tape) == 301
    assert not any(gc.is_tracked(node) for node in trace.tape)
    assert trace.backward([y], [1.0], [x]) == [cr.grad(f)(0.5)]
