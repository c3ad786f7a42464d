"""Hand-coded blocks: a function returning (value, backprop) becomes a primitive."""

import numpy as np
import pytest

import chainrule as cr

rng = np.random.default_rng(1)


@cr.custom_vjp
def affine_tanh(x, W, b):
    """tanh(x W + b), keeping only what its backprop needs: W and the output."""
    y = np.tanh(x @ W + b)

    def backprop(g):
        d = g * (1 - y**2)
        return d @ W.T, x.T @ d, np.sum(d, axis=0)
    return y, backprop


def reference(x, W, b):
    return np.tanh(x @ W + b)


x, W, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)


def test_callers_get_only_the_value():
    np.testing.assert_allclose(affine_tanh(x, W, b), reference(x, W, b))


def test_reverse_mode_uses_the_backprop():
    calls = []

    @cr.custom_vjp
    def square(x):
        def backprop(g):
            calls.append(1)
            return (2 * x * g,)
        return x * x, backprop

    assert cr.grad(lambda x: np.sum(square(x)))(np.array([3.0])) == pytest.approx(6.0)
    assert calls == [1]


def test_block_inside_larger_code_matches_plain_numpy():
    loss = lambda f: lambda x, W, b: np.sum(f(x, W, b) ** 2 * np.arange(4))  # noqa: E731
    got = cr.grad(loss(affine_tanh), argnums=(0, 1, 2))(x, W, b)
    want = cr.grad(loss(reference), argnums=(0, 1, 2))(x, W, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13)


def test_forward_mode_transposes_the_backprop():
    v = tuple(rng.standard_normal(np.shape(a)) for a in (x, W, b))
    _, t_block = cr.jvp(affine_tanh, (x, W, b), v)
    _, t_ref = cr.jvp(reference, (x, W, b), v)
    np.testing.assert_allclose(t_block, t_ref, rtol=1e-13)


def test_second_order_differentiates_the_backprop_code():
    f = lambda x: np.sum(affine_tanh(x, W, b) ** 3)  # noqa: E731
    f_ref = lambda x: np.sum(reference(x, W, b) ** 3)  # noqa: E731
    v = rng.standard_normal(x.shape)
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(cr.grad(f)(x) * v))(x),
                               cr.grad(lambda x: np.sum(cr.grad(f_ref)(x) * v))(x), rtol=1e-12)
    np.testing.assert_allclose(cr.hvp(f, (x,), (v,)), cr.hvp(f_ref, (x,), (v,)), rtol=1e-12)


def test_none_marks_a_non_differentiable_argument():
    @cr.custom_vjp
    def scale(x, n):
        return x * n, lambda g: (g * n, None)

    g = cr.grad(lambda x: np.sum(scale(x, 3)))(np.ones(2))
    np.testing.assert_allclose(g, [3.0, 3.0])


def test_a_wrong_backprop_is_used_as_given():
    # The block is trusted: a wrong backprop gives a wrong gradient in every
    # mode (forward mode transposes it), which is what cr.check_grads is for.
    @cr.custom_vjp
    def bad_square(x):
        return x * x, lambda g: (-2 * x * g,)

    assert cr.grad(lambda x: bad_square(x))(3.0) == pytest.approx(-6.0)
    assert cr.jvp(bad_square, (3.0,), (1.0,))[1] == pytest.approx(-6.0)
    with pytest.raises(AssertionError):
        cr.check_grads(bad_square, (3.0,), order=1)


def test_backprop_must_return_a_tuple():
    @cr.custom_vjp
    def f(x):
        return x * 2, lambda g: g * 2

    with pytest.raises(TypeError, match="tuple of cotangents"):
        cr.grad(f)(1.0)


# ---- a block whose forward code has no rule, with a supported backprop ----
# (np.ldexp(*np.frexp(c)) is c exactly, and np.frexp has no derivative rule)
k = np.array([1.0, -2.0, 0.5])


def correlate_valid(g, k):
    n = len(g) - len(k) + 1
    return sum(g[j:j + n] * k[j] for j in range(len(k)))


def convolve_ruleless(x, k):
    return np.ldexp(*np.frexp(np.convolve(x, k)))


@cr.custom_vjp
def conv(x):
    return convolve_ruleless(x, k), lambda g: (correlate_valid(g, k),)


def conv_reference(x):
    return np.stack([sum(x[i - j] * k[j] for j in range(3) if 0 <= i - j < len(x))
                     for i in range(len(x) + 2)])


def conv_loss(x):
    return np.sum(conv(x) ** 2)


def conv_loss_reference(x):
    return np.sum(conv_reference(x) ** 2)


xc, vc = rng.standard_normal(4), rng.standard_normal(4)


def fd_gradient(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


def test_a_block_without_forward_rules_works_in_every_first_order_mode():
    J = cr.jacrev(conv)(xc)
    np.testing.assert_allclose(J, cr.jacfwd(conv_reference)(xc), rtol=1e-13)
    np.testing.assert_allclose(cr.jacfwd(conv)(xc), J, rtol=1e-13)
    np.testing.assert_allclose(cr.jvp(conv, (xc,), (vc,))[1], J @ vc, rtol=1e-13)
    np.testing.assert_allclose(cr.grad(conv_loss)(xc), fd_gradient(conv_loss, xc), rtol=1e-6)
    xs = np.stack([xc, vc])
    np.testing.assert_allclose(cr.vmap(conv)(xs), [np.convolve(xc, k), np.convolve(vc, k)])
    np.testing.assert_allclose(cr.vmap(cr.grad(conv_loss))(xs),
                               cr.vmap(cr.grad(conv_loss_reference))(xs), rtol=1e-12)
    compiled = cr.compile(conv_loss)
    assert compiled(xc) == pytest.approx(conv_loss(xc))
    assert "custom_vjp" in compiled.source  # an opaque call in the generated code
    np.testing.assert_allclose(cr.compile(cr.grad(conv_loss))(xc), cr.grad(conv_loss)(xc))
    jvp_compiled = cr.compile(lambda x, v: cr.jvp(conv, (x,), (v,))[1])
    np.testing.assert_allclose(jvp_compiled(xc, vc), J @ vc, rtol=1e-13)


def test_a_linear_block_without_forward_rules_has_exact_second_order():
    H = cr.hessian(conv_loss_reference)(xc)
    np.testing.assert_allclose(cr.hvp(conv_loss, (xc,), (vc,)), H @ vc, rtol=1e-12)
    np.testing.assert_allclose(cr.hessian(conv_loss)(xc), H, rtol=1e-12)
    np.testing.assert_allclose(cr.grad(lambda y: cr.grad(conv_loss)(y) @ vc)(xc), H @ vc,
                               rtol=1e-12)
    np.testing.assert_allclose(cr.compile(lambda x, v: cr.hvp(conv_loss, (x,), (v,)))(xc, vc),
                               H @ vc, rtol=1e-12)
    cr.check_grads(conv_loss, (xc,), order=2)


def test_the_issues_convolution_block():
    from chainrule.core.primitive import FUNCTIONS
    if np.correlate not in FUNCTIONS:
        pytest.skip("np.correlate has no rule yet: its backprop cannot be transposed")

    @cr.custom_vjp
    def conv_np(x):
        return np.convolve(x, k), lambda g: (np.correlate(g, k, "valid"),)
    f = lambda x: np.sum(conv_np(x) ** 2)  # noqa: E731
    np.testing.assert_allclose(cr.hvp(f, (xc,), (vc,)), cr.hvp(conv_loss_reference, (xc,), (vc,)),
                               rtol=1e-12)


def test_a_nonlinear_block_without_forward_rules_refuses_second_order():
    @cr.custom_vjp
    def cubed(x):
        y = convolve_ruleless(x, k)
        return y ** 3, lambda g: (correlate_valid(3 * y ** 2 * g, k),)
    f = lambda x: np.sum(cubed(x))  # noqa: E731
    assert np.all(np.isfinite(cr.grad(f)(xc)))
    with pytest.raises(cr.NoRuleError, match="second derivative of the hand-coded block cubed"):
        cr.hvp(f, (xc,), (vc,))
    with pytest.raises(cr.NoRuleError, match="second derivative"):
        cr.hessian(f)(xc)


def test_a_nonlinear_block_over_differentiable_code_has_exact_hvp_and_hessian():
    f = lambda x: np.sum(affine_tanh(x, W, b) ** 3)  # noqa: E731
    f_ref = lambda x: np.sum(reference(x, W, b) ** 3)  # noqa: E731
    v = rng.standard_normal(x.shape)
    np.testing.assert_allclose(cr.hvp(f, (x,), (v,)), cr.hvp(f_ref, (x,), (v,)), rtol=1e-12)
    g = lambda w: np.sum(affine_tanh(x, w, b) ** 3)  # noqa: E731
    g_ref = lambda w: np.sum(reference(x, w, b) ** 3)  # noqa: E731
    np.testing.assert_allclose(cr.hessian(g)(W), cr.hessian(g_ref)(W), rtol=1e-11, atol=1e-13)
    cr.check_grads(f, (x,), order=2)


def test_a_backprop_that_cannot_be_transposed_says_so():
    @cr.custom_vjp
    def opaque(x):
        return convolve_ruleless(x, k), lambda g: (np.frexp(g)[0] * 0 + correlate_valid(g, k),)
    with pytest.raises(cr.NoRuleError, match=r"(?s)cannot be transposed.*custom_jvp"):
        cr.jvp(opaque, (xc,), (vc,))


# ---- custom_jvp: the derivative stated forward ----
@cr.custom_jvp
def logistic(x):
    y = 1 / (1 + np.exp(-x))
    return y, lambda t: y * (1 - y) * t


def logistic_reference(x):
    return 1 / (1 + np.exp(-x))


def test_custom_jvp_in_every_mode():
    f = lambda x: np.sum(logistic(x) ** 2)  # noqa: E731
    f_ref = lambda x: np.sum(logistic_reference(x) ** 2)  # noqa: E731
    np.testing.assert_allclose(cr.grad(f)(xc), cr.grad(f_ref)(xc), rtol=1e-13)
    np.testing.assert_allclose(cr.jacrev(logistic)(xc), cr.jacfwd(logistic_reference)(xc), rtol=1e-13)
    np.testing.assert_allclose(cr.hvp(f, (xc,), (vc,)), cr.hvp(f_ref, (xc,), (vc,)), rtol=1e-12)
    np.testing.assert_allclose(cr.hessian(f)(xc), cr.hessian(f_ref)(xc), rtol=1e-12)
    np.testing.assert_allclose(cr.compile(cr.grad(f))(xc), cr.grad(f_ref)(xc), rtol=1e-13)
    np.testing.assert_allclose(cr.vmap(logistic)(np.stack([xc, vc])),
                               logistic_reference(np.stack([xc, vc])))
    cr.check_grads(f, (xc,), order=2)


def test_custom_jvp_with_a_data_argument():
    @cr.custom_jvp
    def scaled(x, n):
        return x * n, lambda tx, tn: tx * n
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(scaled(x, 3)))(xc), np.full(4, 3.0))


def test_checks_compare_a_block_with_its_own_code_or_differences():
    @cr.custom_vjp
    def off_conv(x):
        return convolve_ruleless(x, k), lambda g: (1.01 * correlate_valid(g, k),)
    cr.check_vjp(conv, lambda x, g: (correlate_valid(g, k),), (xc,))
    with pytest.raises(AssertionError, match="complex step"):  # no rule: another oracle
        cr.check_vjp(off_conv, lambda x, g: (1.01 * correlate_valid(g, k),), (xc,))
    with pytest.raises(AssertionError):
        cr.check_grads(off_conv, (xc,), order=1)

    @cr.custom_vjp
    def off_tanh(x):
        y = np.tanh(x)
        return y, lambda g: (g * (1 - y ** 2) * 1.01,)
    with pytest.raises(AssertionError, match="forward mode"):  # its own code is the oracle
        cr.check_vjp(off_tanh, lambda x, g: (g * (1 - np.tanh(x) ** 2) * 1.01,), (xc,))


def test_check_grads_adds_differences_when_a_blocks_code_has_no_rules():
    def block(scale):
        @cr.custom_vjp
        def squared(x):
            m, e = np.frexp(x)  # no rule, and no complex step either
            y = m * 2.0 ** e
            return y ** 2, lambda g: (g * scale * y,)
        return lambda x: np.sum(squared(x))
    xs = (np.array([0.3, 1.7]),)
    cr.check_grads(block(2.0), xs, order=1)
    with pytest.raises(AssertionError, match="central differences"):
        cr.check_grads(block(2.2), xs, order=1)
