"""The complex convention (docs/complex.md), grad's TypeError for complex and
boolean outputs, agreement with JAX, and the corners of issue 9.

The JAX reference values in tests/jax_reference.py were computed once with
JAX (float64) by JAX_SCRIPT below, run as a separate program; no test
imports JAX.
"""

import copy

import numpy as np
import pytest

import chainrule as cr

from . import jax_reference as J

JAX_SCRIPT = """
import numpy as np, jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
rng = np.random.default_rng(2024)
A = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
B = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
M = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
f1 = lambda a, b: jnp.linalg.norm(a @ b)                        # NORM_AB, GRAD_NORM_A/B
f2 = lambda h: jnp.linalg.eigvalsh(h)[-1]                       # at H = M + M^H
f4 = lambda p: jnp.linalg.slogdet(jnp.linalg.cholesky(p))[1]    # at P = M M^H + 3 I
f5 = lambda a: jnp.real(jnp.linalg.slogdet(a)[0])               # GRAD_SIGN_RE, at A
"""

rng = np.random.default_rng(9)


def hermitian_directions(n, k=3):
    out = []
    for _ in range(k):
        d = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        out.append(d + d.conj().T)
    return out


def pairing(a, b):
    return np.real(np.sum(a * b))


# --------------------------------------------------------------------------
# the reference values of the convention

def test_reference_values_of_the_convention():
    z = 1 + 2j
    assert cr.grad(lambda z: np.abs(z) ** 2)(z) == pytest.approx(2 - 4j)
    assert cr.grad(lambda z: np.real(z * np.conj(z)))(z) == pytest.approx(2 - 4j)
    assert cr.grad(np.imag)(z) == pytest.approx(-1j)
    assert cr.grad(np.real)(z) == pytest.approx(1)
    _, f_vjp = cr.vjp(lambda z: (1 + 2j) * z, z)
    assert f_vjp(1.0)[0] == pytest.approx(1 + 2j)
    t = 0.3 - 0.7j
    assert cr.jvp(np.abs, (z,), (t,))[1] == pytest.approx(np.real(np.conj(z) * t) / abs(z))
    assert cr.jvp(abs, (z,), (t,))[1] == pytest.approx(np.real(np.conj(z) * t) / abs(z))


def test_issue_examples():
    t = np.array([0.1, 0.5, 1.3, 2.0])
    f = lambda t: np.abs(np.mean(np.exp(1j * t)))  # noqa: E731
    h = 1e-6
    fd = [(f(t + h * e) - f(t - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(cr.grad(f)(t), fd, rtol=1e-7)
    g = cr.grad(lambda x: np.sum(np.abs(x * (1 + 2j))))(np.ones(3))
    np.testing.assert_allclose(g, np.sqrt(5.0) * np.ones(3))
    # a real output has a real tangent
    _, tangent = cr.jvp(lambda x: np.abs(x * (1 + 2j)), (np.ones(3),), (np.ones(3),))
    assert not np.iscomplexobj(tangent)


def test_non_holomorphic_elementwise():
    z = 1 + 2j
    r2 = abs(z) ** 2
    assert cr.grad(np.angle)(z) == pytest.approx((-2 - 1j) / r2)       # d/dx - i d/dy of atan2(y, x)
    assert cr.grad(lambda z: np.real(np.sign(z)))(z) == pytest.approx((4 + 2j) / r2 ** 1.5)
    assert cr.grad(lambda z: np.angle(z, deg=True))(z) == pytest.approx((-2 - 1j) / r2 * 180 / np.pi)
    # the derivative of a real input through complex sign and angle stays real
    assert cr.grad(lambda x: np.real(np.sign(x * (1 + 1j))))(2.0) == pytest.approx(0.0)
    assert cr.grad(lambda x: np.angle(x))(2.0) == 0.0
    assert cr.grad(lambda z: np.abs(z))(0j) == 0  # the kink: 0, as for real |x|


def test_a_real_cotangent_that_gathered_an_imaginary_part_is_used_by_its_real_part():
    # |z| * (1 + 2j) makes the cotangent of the real |z| complex; only its real part counts
    z = 0.6 - 0.8j
    g = cr.grad(lambda z: np.real(np.abs(z) * (1 + 2j)))(z)
    assert g == pytest.approx(np.conj(z) / abs(z))


# --------------------------------------------------------------------------
# grad's output must be real

def test_grad_of_complex_output_is_a_type_error_that_says_what_to_do():
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.grad(lambda z: z ** 2)(1j)
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.value_and_grad(lambda x: x * 1j)(1.0)
    with pytest.raises(TypeError, match="boolean"):
        cr.grad(lambda x: x > 0)(1.0)
    with pytest.raises(TypeError, match="boolean"):
        cr.value_and_grad(lambda x: np.all(x > 0))(np.ones(2))


def test_holomorphic_grad():
    z = np.array([0.3 + 0.1j, -1.2 + 0.5j])
    g = cr.grad(lambda z: np.sum(np.sin(z) * z), holomorphic=True)(z)
    np.testing.assert_allclose(g, np.cos(z) * z + np.sin(z))
    value, g = cr.value_and_grad(lambda z: z ** 3, holomorphic=True)(1j)
    assert value == pytest.approx(-1j) and g == pytest.approx(-3)
    with pytest.raises(TypeError, match="complex arguments"):
        cr.grad(lambda x: x * 1j, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="complex output"):
        cr.grad(lambda z: np.abs(z), holomorphic=True)(1j)


def test_complex_step_over_grad_still_works():
    x, v = rng.standard_normal(3), rng.standard_normal(3)
    f = lambda x: np.sum(np.exp(x) * np.sin(x))  # noqa: E731
    _, hv = cr.cs_jvp(cr.grad(f), (x,), (v,))
    np.testing.assert_allclose(hv, cr.hvp(f, (x,), (v,)), rtol=1e-13)


# --------------------------------------------------------------------------
# agreement with JAX (float64), fixed reference values

def test_norm_of_a_complex_matrix_product_matches_jax():
    f = lambda a, b: np.linalg.norm(a @ b)  # noqa: E731
    value, (ga, gb) = cr.value_and_grad(f, argnums=(0, 1))(J.A, J.B)
    assert value == pytest.approx(J.NORM_AB, rel=1e-14)
    np.testing.assert_allclose(ga, J.GRAD_NORM_A, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gb, J.GRAD_NORM_B, rtol=1e-12, atol=1e-14)


def test_largest_eigenvalue_of_a_hermitian_matrix_matches_jax():
    # JAX's gradient is the Hermitian one; chainrule's reads the lower triangle
    # (as LAPACK): they agree along every Hermitian direction.
    h = J.M + J.M.conj().T
    value, g = cr.value_and_grad(lambda h: np.linalg.eigvalsh(h)[-1])(h)
    assert value == pytest.approx(J.EIG_MAX, rel=1e-13)
    for d in hermitian_directions(3):
        assert pairing(g, d) == pytest.approx(pairing(J.GRAD_EIG_MAX, d), rel=1e-11)


def test_log_determinant_of_a_complex_cholesky_factor_matches_jax():
    p = J.M @ J.M.conj().T + 3 * np.eye(3)
    value, g = cr.value_and_grad(lambda p: np.linalg.slogdet(np.linalg.cholesky(p))[1])(p)
    assert value == pytest.approx(J.LOGDET_CHOL, rel=1e-13)
    for d in hermitian_directions(3):
        assert pairing(g, d) == pytest.approx(pairing(J.GRAD_LOGDET_CHOL, d), rel=1e-11)


def test_phase_of_a_complex_determinant_matches_jax():
    g = cr.grad(lambda a: np.real(np.linalg.slogdet(a)[0]))(J.A)
    np.testing.assert_allclose(g, J.GRAD_SIGN_RE, rtol=1e-11, atol=1e-14)


def test_wide_complex_qr_has_the_right_value():
    a = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
    q, r = cr.jvp(lambda a: tuple(np.linalg.qr(a)), (a,), (np.ones_like(a),))[0]
    np.testing.assert_allclose(q @ r, a, atol=1e-13)
    np.testing.assert_allclose(r, np.linalg.qr(a)[1], atol=1e-13)


# --------------------------------------------------------------------------
# corners

def test_deepcopy_and_copy_keep_the_derivative():
    x = np.array([1.0, 2.0])
    out, t = cr.jvp(lambda x: copy.deepcopy(x), (x,), (np.ones(2),))
    assert type(out) is np.ndarray and type(t) is np.ndarray
    np.testing.assert_array_equal(t, np.ones(2))
    np.testing.assert_array_equal(cr.grad(lambda x: np.sum(copy.copy(x) * x))(x), 2 * x)
    g = cr.grad(lambda x: np.sum(copy.deepcopy({"w": [x]})["w"][0] ** 2))(x)
    np.testing.assert_array_equal(g, 2 * x)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_bmat_of_traced_blocks_is_a_clear_error():
    with pytest.raises(cr.ChainruleError):
        cr.grad(lambda x: np.sum(np.bmat([[x, x]])))(np.ones((2, 2)))


def test_nextafter_passes_the_derivative_of_x():
    np.testing.assert_array_equal(cr.grad(lambda x: np.sum(np.nextafter(x, 2.0)))(np.ones(2)), [1, 1])
    _, t = cr.jvp(lambda x, y: np.nextafter(x, y), (1.0, 2.0), (3.0, 5.0))
    assert t == 3.0


def test_std_over_a_size_one_axis_has_derivative_zero():
    g = cr.grad(lambda x: np.sum(np.std(x, axis=1)))(np.ones((2, 1)))
    np.testing.assert_array_equal(g, np.zeros((2, 1)))
    _, t = cr.jvp(lambda x: np.std(x, axis=0), (np.ones((1, 3)),), (np.ones((1, 3)),))
    np.testing.assert_array_equal(t, np.zeros(3))
    x = np.array([1.0, 2.0, 4.0])  # elsewhere unchanged
    np.testing.assert_allclose(cr.grad(np.std)(x), (x - x.mean()) / (x.size * np.std(x)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_zero_power_at_zero():
    assert cr.grad(lambda x: x ** 0.0)(0.0) == 0.0
    assert cr.grad(lambda x: x ** 0)(0.0) == 0.0
    np.testing.assert_array_equal(cr.grad(lambda x: np.sum(x ** 0.0))(np.zeros(2)), [0, 0])
    np.testing.assert_array_equal(cr.grad(lambda x: np.sum(np.power(x, np.zeros(2))))(np.zeros(2)), [0, 0])
    _, t = cr.jvp(lambda x: x ** 0.0, (np.zeros(2),), (np.ones(2),))
    np.testing.assert_array_equal(t, [0, 0])
    assert cr.grad(lambda x: x ** 1.0)(0.0) == 1.0
    assert cr.grad(lambda x: x ** 2.0)(0.0) == 0.0


def test_second_order_of_sqrtm_on_its_branch_cut_is_refused():
    SL = pytest.importorskip("chainrule.scipy.linalg")
    a = np.array([[-1.0, 0.5, 0.2], [0.5, -2.0, 0.3], [0.2, 0.3, 2.0]])  # indefinite
    u, v = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    f = lambda a: np.real(np.sum(SL.sqrtm(a) * u))  # noqa: E731
    cr.grad(f)(a)  # first order: exact (checked in the op table)
    with pytest.raises(cr.ChainruleError, match="branch cut"):
        cr.grad(lambda a: cr.jvp(f, (a,), (v,))[1])(a)
    with pytest.raises(cr.ChainruleError, match="branch cut"):
        cr.jvp(cr.grad(f), (a,), (v,))
    p = a @ a.T + np.eye(3)  # positive definite: second order works
    hv = cr.jvp(cr.grad(f), (p,), (v,))[1]
    h = 1e-5
    fd = (cr.grad(f)(p + h * v) - cr.grad(f)(p - h * v)) / (2 * h)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------
# dtype follows the input

def _f32(x):
    return np.sum(np.tanh(x) ** 2 * np.float32(0.5) + x ** 3)


def test_float32_in_float32_out_in_every_transformation():
    x = np.linspace(-1, 1, 3).astype(np.float32)
    v = np.ones(3, np.float32)
    assert cr.grad(_f32)(x).dtype == np.float32
    assert cr.value_and_grad(_f32)(x)[1].dtype == np.float32
    out, t = cr.jvp(lambda x: np.tanh(x) * 2.0, (x,), (v,))
    assert out.dtype == np.float32 and t.dtype == np.float32
    _, t = cr.jvp(lambda x: np.tanh(x), (x,), (np.ones(3),))  # a float64 tangent
    assert t.dtype == np.float32
    out, f_vjp = cr.vjp(lambda x: np.tanh(x), x)
    assert f_vjp(np.ones(3))[0].dtype == np.float32
    assert f_vjp(np.ones(3, np.float32))[0].dtype == np.float32
    for jac in (cr.jacfwd, cr.jacrev, cr.jacobian):
        assert jac(lambda x: np.tanh(x))(x).dtype == np.float32
    assert cr.hessian(_f32)(x).dtype == np.float32
    assert cr.hvp(_f32, (x,), (v,)).dtype == np.float32
    assert cr.compile(cr.grad(_f32))(x).dtype == np.float32


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_where_with_a_nan_branch_and_its_safe_spelling():
    # docs/complex.md: the naive spelling is NaN where the branch is not used
    # (as in JAX and autograd); the safe spelling is right everywhere
    x, a = np.array([-1.0, 0.5, 2.0]), 0.0
    naive = cr.grad(lambda x: np.sum(np.where(x > a, np.sqrt(x - a), 0.0)))(x)
    assert np.isnan(naive[0]) and np.allclose(naive[1:], 0.5 / np.sqrt(x[1:]))

    def safe(x):
        inside = x > a
        return np.sum(np.where(inside, np.sqrt(np.where(inside, x - a, 1.0)), 0.0))

    np.testing.assert_allclose(cr.grad(safe)(x), [0.0, *(0.5 / np.sqrt(x[1:]))])


@pytest.mark.parametrize("f", [
    lambda a: np.sum(np.linalg.cholesky(a) ** 3),
    lambda a: np.sum(np.linalg.eigvalsh(a) ** 3),
    lambda a: np.linalg.slogdet(a)[1] ** 2,
    lambda a: np.sum(np.abs(a) ** 3),
], ids=["cholesky", "eigvalsh", "slogdet", "abs"])
def test_complex_step_over_the_reverse_pass_of_hermitian_rules(f):
    # the complex-step array stands for a real matrix: the rules must not conjugate it
    x = rng.standard_normal((3, 3))
    a, v = x @ x.T + np.eye(3), rng.standard_normal((3, 3))
    _, hv = cr.cs_jvp(cr.grad(f), (a,), (v + v.T,))
    np.testing.assert_allclose(hv, cr.hvp(f, (a,), (v + v.T,)), rtol=1e-9, atol=1e-12)
