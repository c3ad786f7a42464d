"""grad, value_and_grad, vjp, jvp, hvp: structure, nesting and conventions."""

import numpy as np
import pytest

import chainrule as cr

rng = np.random.default_rng(0)


def test_grad_of_scalar_function_of_scalar():
    assert cr.grad(lambda x: x**3)(2.0) == pytest.approx(12.0)


def test_argnums_int_and_tuple():
    f = lambda x, y: np.sum(x * y**2)  # noqa: E731
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(cr.grad(f)(x, y), y**2)
    np.testing.assert_allclose(cr.grad(f, argnums=1)(x, y), 2 * x * y)
    gx, gy = cr.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y**2)
    np.testing.assert_allclose(gy, 2 * x * y)


def test_pytree_arguments_give_gradients_of_the_same_structure():
    params = {"W": rng.standard_normal((3, 2)), "layers": [rng.standard_normal(2), (1.5,)]}

    def f(p):
        return np.sum(p["W"] ** 2) + np.sum(p["layers"][0] * p["layers"][1][0])

    g = cr.grad(f)(params)
    assert set(g) == {"W", "layers"} and isinstance(g["layers"], list)
    assert isinstance(g["layers"][1], tuple)
    np.testing.assert_allclose(g["W"], 2 * params["W"])
    np.testing.assert_allclose(g["layers"][0], 1.5)
    np.testing.assert_allclose(g["layers"][1][0], np.sum(params["layers"][0]))


def test_has_aux_returns_aux_unchanged():
    def f(x):
        y = np.sin(x)
        return np.sum(y), {"y": y, "n": 3}

    g, aux = cr.grad(f, has_aux=True)(np.array([0.0, 1.0]))
    np.testing.assert_allclose(g, np.cos([0.0, 1.0]))
    assert isinstance(aux["y"], np.ndarray) and aux["n"] == 3
    (value, aux2), g2 = cr.value_and_grad(f, has_aux=True)(np.array([0.0, 1.0]))
    assert value == pytest.approx(np.sin(1.0))


def test_gradient_of_a_function_not_depending_on_its_input_is_zero():
    g = cr.grad(lambda x: 3.0)(np.ones(4))
    np.testing.assert_array_equal(g, np.zeros(4))


def test_vjp_structure_and_repeated_calls():
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    out, f_vjp = cr.vjp(lambda a, b: (a * b, np.sum(a)), x, y)
    np.testing.assert_allclose(out[0], x * y)
    for _ in range(2):  # the tape is kept: vjp_fn may be called again
        gx, gy = f_vjp((np.ones(3), 2.0))
        np.testing.assert_allclose(gx, y + 2.0)
        np.testing.assert_allclose(gy, x)


def test_jvp_with_pytrees():
    out, t = cr.jvp(lambda p: p["a"] * p["b"], ({"a": 2.0, "b": 3.0},), ({"a": 1.0, "b": 0.0},))
    assert out == 6.0 and t == 3.0


def test_hvp_matches_explicit_hessian_and_handles_several_primals():
    A = rng.standard_normal((4, 4))
    A = A + A.T
    f = lambda x: 0.5 * x @ A @ x + np.sum(np.sin(x))  # noqa: E731
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    np.testing.assert_allclose(cr.hvp(f, (x,), (v,)), A @ v - np.sin(x) * v, rtol=1e-12)
    g = lambda x, y: np.sum(x**2 * y)  # noqa: E731
    hx, hy = cr.hvp(g, (x, x), (v, v))
    np.testing.assert_allclose(hx, 2 * x * v + 2 * x * v)
    np.testing.assert_allclose(hy, 2 * x * v)


def test_perturbation_confusion_is_avoided_in_every_nesting():
    # d/dx [x * d/dy (x + y)] = 1 at any x
    inner_rev = lambda x: x * cr.grad(lambda y: x + y)(1.0)  # noqa: E731
    inner_fwd = lambda x: x * cr.jvp(lambda y: x + y, (1.0,), (1.0,))[1]  # noqa: E731
    for outer in (lambda f: cr.grad(f)(3.0), lambda f: cr.jvp(f, (3.0,), (1.0,))[1]):
        assert outer(inner_rev) == 1.0
        assert outer(inner_fwd) == 1.0


def test_closure_over_outer_traced_value():
    # f(x) = d/dy [sin(x * y)] at y = 1 = x cos(x); f'(x) = cos(x) - x sin(x)
    f = lambda x: cr.grad(lambda y: np.sin(x * y))(1.0)  # noqa: E731
    x = 0.7
    assert cr.grad(f)(x) == pytest.approx(np.cos(x) - x * np.sin(x), rel=1e-14)


def test_third_derivative_by_nesting():
    d3 = cr.grad(cr.grad(cr.grad(lambda x: np.exp(2 * x))))
    assert d3(0.3) == pytest.approx(8 * np.exp(0.6), rel=1e-14)


def test_mixed_nesting_grad_of_jvp_and_jvp_of_grad_agree():
    f = lambda x: np.sum(np.tanh(x) ** 2)  # noqa: E731
    x, v = rng.standard_normal(3), rng.standard_normal(3)
    fwd_rev = cr.jvp(cr.grad(f), (x,), (v,))[1]
    rev_fwd = cr.grad(lambda x: cr.jvp(f, (x,), (v,))[1])(x)
    rev_rev = cr.grad(lambda x: np.sum(cr.grad(f)(x) * v))(x)
    np.testing.assert_allclose(fwd_rev, rev_fwd, rtol=1e-13)
    np.testing.assert_allclose(fwd_rev, rev_rev, rtol=1e-13)


def test_a_million_primitive_calls_differentiate_without_recursion():
    def chain(x):
        for _ in range(1_000_000):
            x = x + 1e-7
        return x * x
    assert cr.grad(chain)(0.0) == pytest.approx(2 * 0.1, rel=1e-9)


def test_holomorphic_convention_on_complex_inputs():
    # Pure transposes, no conjugation: grad of a holomorphic f at complex z is f'(z).
    z = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    W = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    f = lambda z: np.sum(np.sin(z) * z) + np.sum(np.tanh(W @ z))  # noqa: E731
    expected = np.cos(z) * z + np.sin(z) + W.T @ (1 - np.tanh(W @ z) ** 2)
    np.testing.assert_allclose(cr.grad(f, holomorphic=True)(z), expected, rtol=1e-13)
    # complex step over the reverse pass gives a Hessian-vector product
    x, v, h = rng.standard_normal(3), rng.standard_normal(3), 1e-30
    g = cr.grad(lambda x: np.sum(np.exp(x) * np.sin(x)), holomorphic=True)
    np.testing.assert_allclose(np.imag(g(x + 1j * h * v)) / h,
                               cr.hvp(lambda x: np.sum(np.exp(x) * np.sin(x)), (x,), (v,)),
                               rtol=1e-13)


def test_python_control_flow_and_loops():
    def f(x, n):
        total = 0.0
        for k in range(n):
            if np.sum(x) > 0:
                total = total + np.sum(x ** (k + 1))
            else:
                total = total - np.sum(x)
        return total
    x = np.array([0.5, 0.25])
    np.testing.assert_allclose(cr.grad(f)(x, 3), 1 + 2 * x + 3 * x**2)
    np.testing.assert_allclose(cr.grad(f)(-x, 3), -3 * np.ones(2))


def test_float32_inputs_get_float32_gradients():
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = cr.grad(lambda x: np.sum(x * x))(x)
    assert g.dtype == np.float32
