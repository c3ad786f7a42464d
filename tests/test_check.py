"""The derivative checker passes correct derivatives and fails broken ones.

Broken derivatives are built three ways: `cr.custom_vjp` blocks with wrong
backprops, wrong hand-written VJPs/JVPs for `check_vjp`/`check_jvp`, and
private primitives (never registered) with wrong rules.
"""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import check
from chainrule.check import check_grads, check_jvp, check_vjp
from chainrule.core.primitive import Primitive
from chainrule.core.trace import raw

rng = np.random.default_rng(7)
W = rng.standard_normal((4, 4))
X = rng.standard_normal((3, 4))


def dense_backprop(W, x, g, wrong=None):
    """The backprop of sum(tanh(x @ W)**2) with respect to (W, x); `wrong`
    names a deliberate mistake."""
    h = np.tanh(x @ W)
    d = g * 2 * h * (1 - h**2)
    if wrong == "missing term":  # forgets the tanh derivative
        d = g * 2 * h
    gW, gx = x.T @ d, d @ W.T
    if wrong == "transposed":
        gx = d @ W
    if wrong == "sign":
        gW = -gW
    if wrong == "1e-7":
        gW = gW * (1 + 1e-7)
    return gW, gx


def dense_block(wrong=None):
    @cr.custom_vjp
    def dense(W, x):
        return np.sum(np.tanh(x @ W) ** 2), lambda g: dense_backprop(W, x, g, wrong)
    return dense


MISTAKES = ["sign", "transposed", "1e-7", "missing term"]
CULPRIT = {"sign": "W", "transposed": "x", "1e-7": "W", "missing term": "W; x"}


def report(fun, args, **kwargs):
    with pytest.raises(AssertionError) as info:
        check_grads(fun, args, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------
# correct derivatives pass

@pytest.mark.parametrize("fun, args", [
    (lambda W, b, x: np.tanh(x @ W + b), (W, rng.standard_normal(4), X)),
    (lambda x: np.sum(np.sin(x) ** 2 + np.cos(x) ** 2), (X,)),   # cancels inside
    (lambda x: np.sum(np.exp(x) * np.exp(-x)), (X,)),            # derivative 0 by rounding
    (lambda x: np.max(x, axis=1) * np.prod(1 + 0.1 * x, axis=0)[:3], (X,)),
    (lambda x: np.abs(x) ** 3, (X,)),
    (lambda x: (np.sum(x), x[1:] * 2.0), (rng.standard_normal(3),)),
    (lambda x: 3.0 * np.ones(2), (rng.standard_normal(3),)),   # constant output
    (lambda x: np.sin(x) * x, (rng.standard_normal(3) + 1j * rng.standard_normal(3),)),
    (lambda x: np.sin(x * (1 + 2j)), (rng.standard_normal(3),)),          # complex out, real in
    (lambda x, z: np.sin(x) * z, (rng.standard_normal(3), 1j + rng.standard_normal(3))),
])
def test_correct_derivatives_pass(fun, args):
    check_grads(fun, args, order=2)


def test_pytrees_and_integer_leaves():
    params = {"W": W, "bias": (rng.standard_normal(4), 3)}

    def fun(p, n):
        return {"out": np.tanh(X @ p["W"] + p["bias"][0]) * n, "count": (n, np.sum(p["W"]) ** 2)}

    check_grads(fun, (params, 2))


def test_float32_uses_its_own_precision():
    check_grads(lambda x: np.tanh(x) * x, (rng.standard_normal(5).astype(np.float32),))


def test_correct_custom_vjp_passes_to_second_order():
    check_grads(dense_block(), (W, X), order=2)


# --------------------------------------------------------------------------
# wrong backprops are caught, with a readable report

@pytest.mark.parametrize("wrong", MISTAKES)
def test_wrong_custom_vjp_backprop_fails_with_report(wrong):
    text = report(lambda W, x: 2.0 * dense_block(wrong)(W, x), (W, X), order=1)
    assert "fwd vs rev" in text
    assert "forward mode (dual numbers)" in text and "reverse mode (tape)" in text
    assert "reproduce with seed=" in text
    argument_line = next(line for line in text.splitlines() if "argument" in line)
    for name in CULPRIT[wrong].split("; "):
        assert name in argument_line
    assert "suspect primitive: custom_vjp(dense)" in text


def test_error_of_1e7_is_caught_with_orders_of_magnitude_to_spare():
    text = report(dense_block("1e-7"), (W, X), order=1, seed=0, hint=False)
    error = float(text.split("error ")[1].split(":")[0])
    tolerance = float(text.split("tolerance ")[1].split(")")[0])
    assert error > 1e3 * tolerance


def test_same_seed_same_directions():
    a = report(dense_block("sign"), (W, X), seed=3, hint=False)
    b = report(dense_block("sign"), (W, X), seed=3, hint=False)
    assert a == b and "seed=3" in a


# --------------------------------------------------------------------------
# broken primitives are named in the hint

def _mul_vjp_transposed(g, res, params, which):
    (x, y), _ = res
    return [np.swapaxes(g * y, -1, -2) if i == 0 else g * x for i in which]


bad_mul = Primitive(
    "test_only_mul_with_transposed_vjp", np.multiply,
    jvp=lambda t, args, ans, params: sum(ti * a for ti, a in zip(t, reversed(args)) if ti is not None),
    vjp=_mul_vjp_transposed, register=False)


def test_broken_primitive_is_named_in_the_hint():
    def fun(x, y):
        return np.sum(np.tanh(bad_mul(np.sin(x), y)) * np.exp(x))
    text = report(fun, (rng.standard_normal((3, 3)), rng.standard_normal((3, 3))), order=1)
    assert "suspect primitive: test_only_mul_with_transposed_vjp" in text
    assert "(call 2 of" in text  # after sin


sin_wrong_both = Primitive(
    "test_only_sin_wrong_in_both_modes", np.sin,
    jvp=lambda t, args, ans, params: t[0] * np.cos(args[0]) * (1 + 1e-7),
    vjp=lambda g, res, params, which: [g * np.cos(res[0][0]) * (1 + 1e-7)], register=False)


def test_rule_wrong_in_both_modes_is_caught_by_complex_step():
    text = report(lambda x: np.sum(sin_wrong_both(x) * x), (rng.standard_normal(5),), order=1)
    assert "fwd vs cs" in text and "sides with complex step" in text
    assert "suspect primitive: test_only_sin_wrong_in_both_modes" in text


def test_without_complex_step_central_differences_catch_gross_errors():
    twice = Primitive(
        "test_only_sin_twice", np.sin,
        jvp=lambda t, args, ans, params: 2 * t[0] * np.cos(args[0]),
        vjp=lambda g, res, params, which: [2 * g * np.cos(res[0][0])], register=False)
    args = (rng.standard_normal(5),)
    # fwd and rev agree; with neither complex step nor differences: unseen
    check_grads(lambda x: twice(x), args, complex_step=False, finite_differences=False)
    text = report(lambda x: twice(x), args, modes=("fwd", "rev", "fd"), complex_step=False)
    assert "fwd vs fd" in text
    # without complex step, central differences join by themselves
    text = report(lambda x: twice(x), args, complex_step=False)
    assert "fwd vs fd" in text


# A rule wrong in both modes by 1e-3 (relative), on functions that use complex
# arithmetic themselves, where complex step cannot run: central differences,
# the independent oracle, must catch it.
exp_wrong_both = Primitive(
    "test_only_exp_wrong_by_1e-3", np.exp,
    jvp=lambda t, args, ans, params: t[0] * ans * (1 + 1e-3),
    vjp=lambda g, res, params, which: [g * res[1] * (1 + 1e-3)], register=False)
abs_holomorphic = Primitive(  # |z| differentiated as if holomorphic (the old bug)
    "test_only_abs_as_holomorphic", np.abs,
    jvp=lambda t, args, ans, params: t[0] * np.sign(args[0]),
    vjp=lambda g, res, params, which: [g * np.sign(res[0][0])], register=False)

T4 = np.array([0.1, 0.5, 1.3, 2.0])
Z3 = rng.standard_normal(3) + 1j * rng.standard_normal(3)


@pytest.mark.parametrize("fun, args", [
    (lambda t: np.abs(np.mean(exp_wrong_both(1j * t))), (T4,)),            # real in, complex inside
    (lambda z: np.sum(np.real(exp_wrong_both(z) * z)), (Z3,)),              # complex in
    (lambda z: exp_wrong_both(z) * (1 + 2j), (Z3,)),                        # complex out
    (lambda x: np.sum(abs_holomorphic(x * (1 + 2j))), (np.ones(3),)),       # non-holomorphic rule
], ids=["real-in", "complex-in", "complex-out", "abs-as-holomorphic"])
def test_rule_wrong_in_both_modes_on_complex_arithmetic_is_caught(fun, args):
    text = report(fun, args, order=1)
    assert "vs fd" in text and "central differences" in text
    assert "suspect primitive: test_only_" in text
    assert "oracles: " in text and "Richardson" in text


def test_planted_bug_is_caught_at_second_order_on_complex_arithmetic():
    text = report(lambda z: np.sum(np.real(exp_wrong_both(z) ** 2)), (Z3,))
    assert "vs fd" in text


def test_report_names_the_oracles_that_ran():
    line = check_grads(lambda t: np.abs(np.mean(np.exp(1j * t))), (T4,), report=True)
    assert "central differences (Richardson" in line and "complex step" not in line
    line = check_grads(lambda t: np.sum(np.sin(t)), (T4,), report=True)
    assert "complex step (exact" in line and "central differences" not in line


def test_issue_example_complex_abs_passes_and_is_right():
    f = lambda t: np.abs(np.mean(np.exp(1j * t)))  # noqa: E731
    check_grads(f, (T4,))
    h = 1e-6
    fd = [(f(T4 + h * e) - f(T4 - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(cr.grad(f)(T4), fd, rtol=1e-7)


sin_first_order_only = Primitive(
    "test_only_sin_vjp_of_constant", np.sin,
    jvp=lambda t, args, ans, params: t[0] * np.cos(args[0]),
    # raw() hides x from outer levels: right at order 1, wrong at order 2
    vjp=lambda g, res, params, which: [g * np.cos(raw(res[0][0]))], register=False)


def test_second_order_bug_is_caught_and_named():
    args = (rng.standard_normal(4),)
    check_grads(lambda x: np.sum(sin_first_order_only(x) * x), args, order=1)
    text = report(lambda x: np.sum(sin_first_order_only(x) * x), args, complex_step=False,
                  finite_differences=False)
    assert "Hessian" in text
    assert "suspect primitive: test_only_sin_vjp_of_constant" in text
    text = report(lambda x: np.sum(sin_first_order_only(x) * x), args)
    assert "-over-rev" in text


# --------------------------------------------------------------------------
# complex step as a second opinion, refereed by central differences

def test_a_dissenting_naive_complex_step_is_overruled(monkeypatch):
    from chainrule import complex_step

    def naive_cs_jvp(fun, primals, tangents, h=1e-20):
        out = fun(*[p + 1j * h * t for p, t in zip(primals, tangents)])
        return np.real(out), np.imag(out) / h

    monkeypatch.setattr(complex_step, "cs_jvp", naive_cs_jvp)
    # NumPy's complex abs is the modulus, so the naive complex step gets |x|' wrong
    check_grads(lambda x: np.abs(x) * x, (rng.standard_normal(5),), order=1)
    with pytest.raises(AssertionError, match="complex step"):
        check_grads(lambda x: np.abs(x) * x, (rng.standard_normal(5),), order=1,
                    modes=("fwd", "rev", "cs"))


def test_missing_complex_step_module_is_skipped(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "chainrule.complex_step", None)  # import fails
    check_grads(lambda x: np.sin(x) * x, (rng.standard_normal(3),))
    assert "fwd vs rev" in report(dense_block("sign"), (W, X), order=1)


# --------------------------------------------------------------------------
# check_vjp and check_jvp: hand-written derivatives of any function

def test_check_vjp_passes_a_correct_vjp_and_names_the_oracle():
    check_vjp(lambda W, x: np.sum(np.tanh(x @ W) ** 2), dense_backprop, (W, X))
    with pytest.raises(AssertionError, match="forward mode"):
        check_vjp(lambda W, x: np.sum(np.tanh(x @ W) ** 2),
                  lambda W, x, g: dense_backprop(W, x, g, "1e-7"), (W, X))


@pytest.mark.parametrize("wrong", MISTAKES)
def test_check_vjp_fails_wrong_vjps(wrong):
    with pytest.raises(AssertionError, match="vjp_fun vs"):
        check_vjp(lambda W, x: np.sum(np.tanh(x @ W) ** 2),
                  lambda W, x, g: dense_backprop(W, x, g, wrong), (W, X))


def _untraceable_sin(x):
    """A function chainrule cannot trace (Python floats and math)."""
    return np.array([math.sin(float(v)) for v in x])


def test_check_vjp_of_untraceable_function_uses_central_differences():
    x = np.linspace(0.1, 1, 4)
    check_vjp(_untraceable_sin, lambda x, g: g * np.cos(x), (x,))
    with pytest.raises(AssertionError, match="vjp_fun vs central differences"):
        check_vjp(_untraceable_sin, lambda x, g: g * np.cos(x) * (1 + 1e-3), (x,))


def test_check_vjp_accepts_none_and_pytrees():
    def fun(p, n):
        return {"y": p["a"] * n}

    def vjp_fun(p, n, ct):
        return {"a": ct["y"] * n}, None

    check_vjp(fun, vjp_fun, ({"a": rng.standard_normal(3)}, 2))  # n: an int, held constant
    with pytest.raises(AssertionError):  # a float n is differentiated, and None is wrong for it
        check_vjp(fun, vjp_fun, ({"a": rng.standard_normal(3)}, 2.0))


def test_check_jvp():
    fun = lambda x, y: np.sin(x) * y  # noqa: E731
    good = lambda p, t: np.cos(p[0]) * t[0] * p[1] + np.sin(p[0]) * t[1]  # noqa: E731
    args = (rng.standard_normal(3), rng.standard_normal(3))
    check_jvp(fun, good, args)
    with pytest.raises(AssertionError, match="jvp_fun vs forward mode"):
        check_jvp(fun, lambda p, t: np.cos(p[0]) * t[0] * p[1], args)  # missing term


# --------------------------------------------------------------------------
# bad input gets a clear error

def test_bad_input_is_refused_clearly():
    with pytest.raises(TypeError, match="tuple of fun's arguments"):
        check_grads(np.sin, np.ones(3))
    with pytest.raises(ValueError, match="modes"):
        check_grads(np.sin, (np.ones(3),), modes=("fd",))
    with pytest.raises(TypeError, match="floating point"):
        check_grads(np.sin, (np.arange(3),))
    with pytest.raises(ValueError, match="order"):
        check_grads(np.sin, (np.ones(3),), order=0)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_non_finite_derivatives_are_reported():
    text = report(lambda x: np.sqrt(x), (np.array([0.0, 1.0]),), order=1)
    assert "not finite" in text


def test_default_tolerance_is_a_small_multiple_of_eps():
    assert check.RTOL_IN_EPS * np.finfo(float).eps < 1e-12


def test_precision_follows_a_float32_computation_inside_fun():
    x = np.random.default_rng(5).standard_normal(6)
    cr.check_grads(lambda x: np.sum(np.tanh(x.astype(np.float32)) ** 2), (x,))


# ---- argnums, None cotangents and per-argument reports ----
def test_check_vjp_accepts_none_for_data_and_names_the_argument_that_disagrees():
    import re
    x, k = np.linspace(0.1, 1.0, 3), np.array([2.0, -1.0, 0.5])
    cr.check_vjp(lambda x, k: np.sin(x) * k, lambda x, k, g: (g * k * np.cos(x), None),
                 (x, k), argnums=0)
    with pytest.raises(AssertionError, match=re.escape("argument 1, k")):
        cr.check_vjp(lambda x, k: np.sin(x) * k,
                     lambda x, k, g: (g * k * np.cos(x), 1.5 * g * np.sin(x)), (x, k))


def test_check_grads_and_check_jvp_take_argnums():
    x, n = np.linspace(0.1, 1.0, 3), np.array([1.0, 2.0, 3.0])
    f = lambda x, n: np.sum(np.floor(n) * x ** 2)  # noqa: E731  (no derivative in n)
    cr.check_grads(f, (x, n), argnums=0)
    cr.check_jvp(f, lambda p, t: np.sum(np.floor(p[1]) * 2 * p[0] * t[0]), (x, n), argnums=(0,))
    with pytest.raises(ValueError, match="argnums"):
        cr.check_grads(f, (x, n), argnums=2)


def test_hessian_takes_argnums():
    f = lambda x, y: np.sum(x ** 2 * y ** 3)  # noqa: E731
    x, y = np.array([1.0, 2.0]), np.array([3.0, 0.5])
    np.testing.assert_allclose(cr.hessian(f, argnums=1)(x, y), np.diag(6 * x ** 2 * y))
