"""holomorphic=True for jacfwd, jacrev, jacobian and hessian (JAX's
convention: complex arguments and outputs, the result is the complex
derivative f'(z)), against finite differences along 1 and along 1j (which
agree for a holomorphic function); and the real-direction Jacobians of
complex functions without it, the same whichever mode computes them."""

import numpy as np
import pytest

import chainrule as cr

rng = np.random.default_rng(17)
Z = rng.standard_normal(4) + 1j * rng.standard_normal(4)
C = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))


def elementwise(z):
    return np.sin(z) * z ** 2


def coupled(z):  # 4 -> 3, every output reads every input
    return C @ (np.sin(z) * z ** 2) + z[0] * z[::-1][:3]


def scalar(z):
    return np.sum(np.sin(z) * z ** 2 * z[::-1])


def fd_jacobian(f, z, direction, h=1e-4):
    """Fourth-order central differences of f along direction * e_k, divided
    by the complex step: the complex derivative when f is holomorphic."""
    cols = []
    for k in range(z.size):
        e = np.zeros(z.size, complex)
        e[k] = direction * h
        d = (-f(z + 2 * e) + 8 * f(z + e) - 8 * f(z - e) + f(z - 2 * e)) / (12 * direction * h)
        cols.append(np.reshape(d, -1))
    return np.stack(cols, axis=-1)


def fd_hessian(g, z, direction, h=1e-3):
    n = z.size
    H = np.zeros((n, n), complex)
    for j in range(n):
        for k in range(n):
            ej, ek = np.zeros(n, complex), np.zeros(n, complex)
            ej[j], ek[k] = direction * h, direction * h
            H[j, k] = (g(z + ej + ek) - g(z + ej - ek) - g(z - ej + ek) + g(z - ej - ek)) \
                / (4 * (direction * h) ** 2)
    return H


@pytest.mark.parametrize("f", [elementwise, coupled])
@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev, cr.jacobian])
def test_holomorphic_jacobian_is_the_complex_derivative(f, jac):
    J = jac(f, holomorphic=True)(Z)
    assert J.dtype == np.complex128
    for direction in (1.0, 1j):
        np.testing.assert_allclose(J, fd_jacobian(f, Z, direction), rtol=1e-8, atol=1e-9)


def test_holomorphic_hessian_is_the_second_complex_derivative():
    H = cr.hessian(scalar, holomorphic=True)(Z)
    for direction in (1.0, 1j):
        np.testing.assert_allclose(H, fd_hessian(scalar, Z, direction), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)  # complex symmetric, not Hermitian


def test_holomorphic_sparse_matches_dense():
    f = lambda z: z[1:] * np.sin(z[:-1])  # noqa: E731
    J = cr.jacobian(f, sparse=True, holomorphic=True)(Z)
    np.testing.assert_allclose(J.toarray(), cr.jacfwd(f, holomorphic=True)(Z))
    g = lambda z: np.sum(z[1:] ** 2 * np.sin(z[:-1]))  # noqa: E731
    H = cr.hessian(g, sparse=True, holomorphic=True)(Z)
    np.testing.assert_allclose(H.toarray(), cr.hessian(g, holomorphic=True)(Z), rtol=1e-12)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev, cr.jacobian, cr.hessian])
def test_holomorphic_needs_complex_arguments_and_outputs(jac):
    x = rng.standard_normal(4)
    with pytest.raises(TypeError, match="complex"):
        jac(lambda x: np.sum(x ** 2), holomorphic=True)(x)
    with pytest.raises(TypeError, match="complex"):
        jac(lambda z: np.sum(np.abs(z) ** 2), holomorphic=True)(Z)
    if jac in (cr.jacobian, cr.hessian):
        keep = jac is cr.jacobian  # a vector for the Jacobian, a scalar for the Hessian
        with pytest.raises(TypeError, match="complex"):
            jac(lambda z: np.sum(np.abs(z) ** 2, keepdims=keep), sparse=True, holomorphic=True)(Z)
        with pytest.raises(TypeError, match="complex"):
            jac(lambda x: np.sum(x ** 2, keepdims=keep), sparse=True, holomorphic=True)(x)


def test_complex_output_of_real_argument_is_the_same_in_every_mode():
    """A VJP by cotangent e_j pulls back the row of Re(y_j) only; jacrev adds
    the imaginary rows, so it equals jacfwd (it used to drop them)."""
    x = rng.standard_normal(300)
    W = rng.standard_normal((2, 300)) + 1j * rng.standard_normal((2, 300))
    f = lambda x: np.exp(1j * (W @ np.tanh(x)))  # noqa: E731  wide to narrow: reverse
    J = cr.jacfwd(f)(x)
    assert np.abs(J.imag).max() > 0.1
    np.testing.assert_allclose(cr.jacrev(f)(x), J, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cr.jacobian(f)(x), J, rtol=1e-12, atol=1e-14)
    mixed = lambda x: {"c": f(x), "r": np.sum(x ** 2)}  # noqa: E731  real and complex leaves
    R = cr.jacrev(mixed)(x)
    np.testing.assert_allclose(R["c"], J, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(R["r"], 2 * x, rtol=1e-12)


def test_non_holomorphic_complex_functions():
    g = lambda z: z * np.conj(z) + z  # noqa: E731  not holomorphic
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.jacrev(g)(Z)
    # along the real directions: d/dRe(z_k) of |z|^2 + z is 2 Re(z) + 1
    J = cr.jacfwd(g)(Z)
    np.testing.assert_allclose(J, np.diag(2 * Z.real + 1), atol=1e-14)
    np.testing.assert_allclose(cr.jacobian(g)(Z), J, atol=1e-14)
    # a real function of many complex arguments: jacobian stays on real directions
    r = lambda z: np.sum(np.abs(z) ** 2, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(cr.jacobian(r)(Z), cr.jacfwd(r)(Z), atol=1e-14)
    np.testing.assert_allclose(cr.jacfwd(r)(Z), [2 * Z.real], atol=1e-14)
