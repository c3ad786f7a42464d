"""In-place updates on traced arrays: NumPy's semantics in every mode.

Each in-place function is checked against the same function written
functionally (and against central differences), in reverse, forward,
batched, second-order and compiled form; aliasing against NumPy's own
results on plain arrays.
"""

import numpy as np
import pytest

import chainrule as cr

rng = np.random.default_rng(7)


def fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


# ---- the snippets ----
def accumulate(x):
    s = 0.0
    for i in range(3):
        s += x[i] ** 2
    return s


def accumulate_functional(x):
    return x[0] ** 2 + x[1] ** 2 + x[2] ** 2


def fill_plain(x):
    out = np.zeros(3)
    out[0] = x[0] ** 2
    return out.sum()


# ---- RNNs written as people write them: accumulators and out[t] = h ----
T, D, H = 4, 2, 3


def elman(W, X):
    Wx, Wh = W[:D * H].reshape(D, H), W[D * H:].reshape(H, H)
    hs = np.zeros_like(W, shape=(T, H))
    h = np.zeros_like(W, shape=(H,))
    loss = 0.0
    for t in range(T):
        h = np.tanh(X[t] @ Wx + h @ Wh)
        hs[t] = h
        loss += np.sum(h ** 2) / T
    hs *= 0.5
    return loss + np.sum(hs[1:] * hs[:-1])


def elman_functional(W, X):
    Wx, Wh = W[:D * H].reshape(D, H), W[D * H:].reshape(H, H)
    h, hs, loss = np.zeros(H), [], 0.0
    for t in range(T):
        h = np.tanh(X[t] @ Wx + h @ Wh)
        hs.append(h)
        loss = loss + np.sum(h ** 2) / T
    hs = 0.5 * np.stack(hs)
    return loss + np.sum(hs[1:] * hs[:-1])


def lstm(W, X):
    Wg = W.reshape(D + H, 4 * H)
    h = np.zeros_like(W, shape=(H,))
    c = np.zeros_like(h)
    out = np.empty_like(W, shape=(T, H))
    for t in range(T):
        z = np.concatenate([X[t], h]) @ Wg
        i, f, o = (1 / (1 + np.exp(-z[k * H:(k + 1) * H])) for k in range(3))
        c *= f
        c += i * np.tanh(z[3 * H:])
        h = o * np.tanh(c)
        out[t] = h
    return np.sum(out ** 2)


def lstm_functional(W, X):
    Wg = W.reshape(D + H, 4 * H)
    h, c, out = np.zeros(H), np.zeros(H), []
    for t in range(T):
        z = np.concatenate([X[t], h]) @ Wg
        i, f, o = (1 / (1 + np.exp(-z[k * H:(k + 1) * H])) for k in range(3))
        c = c * f + i * np.tanh(z[3 * H:])
        h = o * np.tanh(c)
        out.append(h)
    return np.sum(np.stack(out) ** 2)


X = rng.standard_normal((T, D))
CASES = [
    (accumulate, accumulate_functional, rng.standard_normal(3)),
    (lambda W: elman(W, X), lambda W: elman_functional(W, X), 0.5 * rng.standard_normal(D * H + H * H)),
    (lambda W: lstm(W, X), lambda W: lstm_functional(W, X), 0.5 * rng.standard_normal((D + H) * 4 * H)),
]
IDS = ["accumulate", "elman", "lstm"]


@pytest.mark.parametrize("f,ref,x", CASES, ids=IDS)
def test_every_mode_matches_the_functional_code_and_differences(f, ref, x):
    v = rng.standard_normal(x.shape)
    g = cr.grad(f)(x)
    np.testing.assert_allclose(g, cr.grad(ref)(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g, fd_grad(f, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cr.jvp(f, (x,), (v,))[1], g @ v, rtol=1e-10)
    np.testing.assert_allclose(cr.jacfwd(f)(x), g, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(cr.jacrev(f)(x), g, rtol=1e-10, atol=1e-14)
    xs = np.stack([x, x + 0.1 * v])
    np.testing.assert_allclose(cr.vmap(f)(xs), [ref(xs[0]), ref(xs[1])], rtol=1e-12)
    np.testing.assert_allclose(cr.vmap(cr.grad(f))(xs), cr.vmap(cr.grad(ref))(xs), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(cr.hvp(f, (x,), (v,)), cr.hvp(ref, (x,), (v,)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cr.grad(lambda y: cr.grad(f)(y) @ v)(x), cr.hvp(ref, (x,), (v,)),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cr.compile(f)(x), ref(x), rtol=1e-12)
    np.testing.assert_allclose(cr.compile(cr.grad(f))(x), g, rtol=1e-10, atol=1e-14)
    cr.check_grads(f, (x,), order=2)


def test_hessian_of_the_accumulator():
    x = rng.standard_normal(3)
    np.testing.assert_allclose(cr.hessian(accumulate)(x), 2 * np.eye(3), atol=1e-14)


def test_a_traced_value_stored_in_a_plain_array_names_zeros_like():
    with pytest.raises(cr.LeakError, match=r"np\.zeros_like\(x\)"):
        cr.grad(fill_plain)(np.ones(3))
    def slice_plain(x):
        out = np.zeros(3)
        out[:2] = x[:2]
        return out.sum()
    with pytest.raises(cr.LeakError, match="zeros_like"):
        cr.grad(slice_plain)(np.ones(3))
    def add_into_plain(x):
        out = np.zeros(3)
        out += x
        return out.sum()
    with pytest.raises(cr.LeakError, match="zeros_like"):
        cr.jvp(add_into_plain, (np.ones(3),), (np.ones(3),))


# ---- aliasing: the same code on plain arrays (NumPy) and traced ones ----
def aliases(x):
    y = x * 1.0
    alias = y
    y += 1.0
    alias[0] = 5.0 * x[1]
    y *= x
    z = alias.copy()     # a copy does not follow later updates
    y[1:] = -y[1:]
    z[0] = 0.0           # ... nor does the original follow the copy's
    mask = x > 0.0
    y[mask] = 2.0
    w = np.full_like(x, 3.0)
    w[1:] += x[:-1]      # an augmented assignment through a slice
    w[::2] *= x[1::2]
    np.multiply(w, y, out=w)
    np.add.at(w, [0, 2, 0], x[:3])
    return np.sum(alias * z) + np.sum(w ** 2) + np.sum(y)


def test_aliasing_follows_numpy_and_the_caller_keeps_its_array():
    x = np.array([0.3, -1.2, 0.7, 2.0])
    before = x.copy()
    value, g = cr.value_and_grad(aliases)(x)
    assert value == pytest.approx(aliases(x.copy()), rel=1e-14)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, fd_grad(aliases, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(cr.jvp(aliases, (x,), (np.ones(4),))[1], g.sum(), rtol=1e-12)
    np.testing.assert_allclose(cr.compile(cr.grad(aliases))(x), g, rtol=1e-12)


def test_augmented_assignment_through_rows_and_columns():
    def f(x):
        y = np.zeros_like(x)
        y[0] += x[1]
        y[:, 1] *= 3.0
        y[:, 1] += x[:, 0] ** 2
        y[1:] -= y[:1]
        return np.sum(y * x)

    def f_ref(x):
        y0 = np.stack([x[1, 0], 3 * x[1, 1] + x[0, 0] ** 2])
        y1 = np.stack([-x[1, 0], x[1, 0] ** 2 - 3 * x[1, 1] - x[0, 0] ** 2])
        return np.sum(np.stack([y0, y1]) * x)
    x = np.array([[0.5, -1.0], [2.0, 0.3]])
    assert cr.value_and_grad(f)(x)[0] == pytest.approx(f(x.copy()))
    np.testing.assert_allclose(cr.grad(f)(x), cr.grad(f_ref)(x), rtol=1e-13)
    np.testing.assert_allclose(cr.compile(cr.grad(f))(x), cr.grad(f_ref)(x), rtol=1e-13)
    np.testing.assert_allclose(cr.cs_jvp(f, (x,), (x,))[1], cr.jvp(f_ref, (x,), (x,))[1],
                               rtol=1e-13)


def test_updating_the_input_differentiates_at_the_values_passed_in():
    def f(x):
        x[0] = 5.0 * x[1]
        x += 1.0
        return np.sum(x ** 2)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(cr.grad(f)(x), [0.0, 2 * 11 * 5 + 2 * 3, 8.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(cr.jacrev(f)(x), cr.grad(f)(x))


def test_in_place_keeps_numpys_dtype_and_shape_rules():
    def widen(x):
        y = x * 1.0
        y += np.ones((2, 3))
        return y
    with pytest.raises(ValueError, match="non-broadcastable"):
        cr.grad(lambda x: np.sum(widen(x)))(np.ones(3))


# ---- where NumPy's semantics cannot be kept: an error naming the line ----
def test_writing_through_a_view_is_refused():
    def f(x):
        y = x * 1.0
        row = y.reshape(2, 2)[0]
        row[0] = 1.0
        return np.sum(y)
    with pytest.raises(cr.MutationError, match=r"row\[0\] = 1.0"):
        cr.grad(f)(np.ones(4))


def test_writing_under_a_live_overlapping_view_is_refused_and_elsewhere_allowed():
    def f(x, k):
        y = x * 1.0
        head = y[:2]
        y[k] = 0.0
        return np.sum(head) + np.sum(y)
    assert cr.grad(f)(np.ones(4), 3) == pytest.approx([2.0, 2.0, 1.0, 0.0])
    with pytest.raises(cr.MutationError, match="live view"):
        cr.grad(f)(np.ones(4), 1)


def test_repeated_indices_keep_numpys_last_value_and_its_derivative():
    def f(x):
        y = x * 1.0
        y[[0, 0, 2]] = x[1:4] ** 2
        out = np.zeros_like(x)
        out[[1, 1]] += x[:2]
        return np.sum(y * np.array([1.0, 2.0, 3.0, 4.0])) + np.sum(out * x)
    x = np.array([0.5, 1.5, -2.0, 0.7])
    value, g = cr.value_and_grad(f)(x)
    assert value == pytest.approx(f(x.copy()), rel=1e-14)
    np.testing.assert_allclose(g, fd_grad(f, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cr.compile(cr.grad(f))(x), g, rtol=1e-13)
    np.testing.assert_allclose(cr.jacfwd(f)(x), g, rtol=1e-13)
    np.testing.assert_allclose(cr.vmap(cr.grad(f))(np.stack([x, 2 * x])),
                               [g, cr.grad(f)(2 * x)], rtol=1e-13)


def test_an_outer_array_updated_inside_an_inner_differentiation_is_refused():
    def outer(x):
        acc = x * 1.0

        def inner(y):
            out = np.sum(acc * y)
            acc[0] = 5.0
            return out
        return np.sum(cr.grad(inner)(x))
    with pytest.raises(cr.MutationError, match="inner differentiation"):
        cr.grad(outer)(np.ones(3))


def test_a_boolean_mask_fill_compiles_and_batches():
    def relu(x):
        y = x.copy()
        y[y < 0] = 0.0
        return np.sum(y ** 2)
    x = np.array([-1.0, 2.0, 0.5])
    g = cr.compile(cr.grad(relu))(x)
    np.testing.assert_allclose(g, [0.0, 4.0, 1.0])
    np.testing.assert_allclose(cr.vmap(cr.grad(relu))(np.stack([x, -x])), [[0, 4, 1], [2, 0, 0]])


def numpy_in_place_functions(x):
    A = np.zeros_like(x, shape=(3, 3))
    np.fill_diagonal(A, x[:3])
    B = np.zeros_like(A)
    np.put(B, [0, 4], x[3:5])
    np.put_along_axis(B, np.array([[2], [0], [1]]), x[:3, None] ** 2, axis=1)
    C = A.copy()
    np.putmask(C, A > 1.5, 7.0)
    D = np.empty_like(A)
    np.dot(A, B, out=D)
    E = np.zeros_like(x, shape=(3,))
    np.sum(D, axis=0, out=E)
    y = x.copy()
    y.put([1], 0.0)
    np.copyto(C, C * x[5])
    return np.sum(A * B) + np.sum(C) + np.sum(E ** 2) + np.sum(y)


def test_numpys_in_place_functions_and_out_arguments():
    x = np.arange(1.0, 7.0)
    value, g = cr.value_and_grad(numpy_in_place_functions)(x)
    assert value == pytest.approx(numpy_in_place_functions(x.copy()), rel=1e-14)
    np.testing.assert_allclose(g, fd_grad(numpy_in_place_functions, x), rtol=1e-6)
    np.testing.assert_allclose(cr.jacfwd(numpy_in_place_functions)(x), g, rtol=1e-12)
    np.testing.assert_allclose(cr.compile(cr.grad(numpy_in_place_functions))(x), g, rtol=1e-12)
    with pytest.raises(cr.LeakError, match="zeros_like"):
        cr.grad(lambda x: np.sum(np.sum(x, axis=0, out=np.zeros(()))))(x)
