"""Rules of the reductions, shape, indexing and contraction families that the
op table cannot express: exact values at ties and zeros, plain outputs of
non-differentiable functions, NumPy's values and signatures, and errors."""

import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.box import Box
from chainrule.core.trace import raw
from chainrule.core.primitive import FUNCTIONS


def value_of(f, *args):
    """f(*args) computed on traced values (the primal of a forward pass)."""
    out, _ = cr.jvp(f, args, tuple(np.zeros_like(a) for a in args))
    return out


# ---- ties and zeros: exact derivatives where finite differences cannot tell ----
def test_max_splits_the_derivative_evenly_among_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    assert np.allclose(cr.grad(lambda x: np.sum(np.max(x, axis=1)))(x),
                       [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    assert np.allclose(cr.grad(lambda x: np.min(x))(np.array([0.0, 0.0, 1.0])), [0.5, 0.5, 0])
    _, t = cr.jvp(np.max, (np.array([3.0, 1.0, 3.0]),), (np.array([1.0, 5.0, 0.0]),))
    assert t == 0.5


def test_prod_derivatives_are_exact_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 5.0])
    assert np.array_equal(cr.grad(np.prod)(x), [0.0, 30.0, 0.0, 0.0])
    # second derivatives: d2/dx1 dxj = prod of the others, nonzero for the zero entry's partners
    h = cr.grad(lambda x: cr.grad(np.prod)(x)[2])(x)
    assert np.array_equal(h, [0.0, 10.0, 0.0, 0.0])
    two_zeros = np.array([0.0, 4.0, 0.0])
    assert np.array_equal(cr.grad(np.prod)(two_zeros), [0.0, 0.0, 0.0])
    assert np.array_equal(cr.grad(lambda x: cr.grad(np.prod)(x)[0])(two_zeros), [0.0, 0.0, 4.0])


def test_cumprod_derivative_is_exact_with_zeros():
    x = np.array([3.0, 0.0, 2.0])
    # sum(cumprod) = x0 + x0 x1 + x0 x1 x2
    assert np.array_equal(cr.grad(lambda x: np.sum(np.cumprod(x)))(x), [1.0, 9.0, 0.0])


def test_repeated_indices_accumulate_and_sort_scatters_back():
    x = np.array([3.0, 1.0, 2.0])
    assert np.array_equal(cr.grad(lambda x: np.sum(x[[0, 0, 2, 0]]))(x), [3.0, 0.0, 1.0])
    assert np.array_equal(cr.grad(lambda x: np.sort(x)[0])(x), [0.0, 1.0, 0.0])
    assert np.array_equal(cr.grad(lambda x: np.sum(np.unique(x)))(np.array([2.0, 1.0, 2.0])),
                          [1.0, 1.0, 0.0])  # a repeated value: its first occurrence


def test_clip_derivative_is_one_inside_and_zero_outside():
    x = np.array([-2.0, -0.5, 0.0, 0.7, 3.0])
    assert np.array_equal(cr.grad(lambda x: np.sum(np.clip(x, -1, 1)))(x), [0, 1, 1, 1, 0])
    lo_grad = cr.grad(lambda lo: np.sum(np.clip(x, lo, 1.0)))(-1.0)
    assert lo_grad == 1.0


# ---- outputs that carry no derivative ----
@pytest.mark.parametrize("f", [
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero, np.count_nonzero,
    lambda x: np.all(x > 0), lambda x: np.any(x > 0, axis=0), lambda x: np.isclose(x, x),
    lambda x: np.allclose(x, 0 * x), lambda x: np.array_equal(x, x),
    lambda x: np.searchsorted(np.sort(x[0]), x), lambda x: np.argmax(x, axis=-1, keepdims=True),
    lambda x: np.unique(x, return_index=True, return_inverse=True, return_counts=True)[1:],
], ids=lambda f: getattr(f, "__name__", "f"))
def test_non_differentiable_functions_return_plain_values(f):
    x = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -2.0]])
    seen = []

    def g(x):
        out = f(x)
        seen.append(out)
        return np.sum(x)

    cr.grad(g)(x)
    leaves = seen[0] if isinstance(seen[0], tuple) else (seen[0],)
    assert not any(isinstance(v, Box) for v in leaves)
    expected = f(x)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(leaves, expected):
        assert np.array_equal(got, want) and np.result_type(got) == np.result_type(want)


@pytest.mark.parametrize("f", [
    np.zeros_like, np.ones_like, lambda x: 0 * np.empty_like(x, dtype=int),
    lambda x: np.full_like(x, 2.0)], ids=["zeros_like", "ones_like", "empty_like", "full_like"])
def test_like_constructors_give_fillable_constants_without_derivative(f):
    x = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -2.0]])
    seen = []

    def g(x):
        out = f(x)
        seen.append(raw(out))
        return np.sum(out * x)

    assert np.array_equal(cr.grad(g)(x), f(x))  # the derivative sees a constant
    assert np.array_equal(seen[0], f(x)) and np.result_type(seen[0]) == np.result_type(f(x))


# ---- values equal NumPy's ----
EINSUMS = [
    ("ij,jk->ik", (2, 3), (3, 4)), ("ij,jk", (2, 3), (3, 4)), ("ji,jk", (3, 2), (3, 4)),
    ("ii->i", (3, 3)), ("ii", (3, 3)), ("ij->", (2, 3)), ("ij", (2, 3)), ("ji", (2, 3)),
    ("i,i", (3,), (3,)), ("i,j->ij", (2,), (3,)), ("iij,jk->ki", (2, 2, 3), (3, 4)),
    ("...ij,...jk->...ik", (5, 2, 3), (3, 4)), ("...i,...i", (2, 3), (3,)),
    ("i...->...", (3, 2, 4)), ("bij,bjk,bkl->bil", (2, 2, 3), (2, 3, 4), (2, 4, 2)),
    ("ijk,jl->l", (2, 3, 4), (3, 5)), ("Ab,bA->", (2, 3), (3, 2)), ("i,->i", (3,), ()),
    ("ij,ij->ij", (1, 3), (2, 3)),
]


@pytest.mark.parametrize("spec", EINSUMS, ids=lambda s: s[0])
def test_einsum_values_and_gradients(spec):
    subscripts, *shapes = spec
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s) for s in shapes]
    f = lambda *ops: np.einsum(subscripts, *ops)  # noqa: E731
    assert np.allclose(value_of(f, *ops), f(*ops), rtol=1e-12, atol=1e-12)
    out, f_vjp = cr.vjp(f, *ops)
    u = rng.standard_normal(np.shape(out))
    for k, ct in enumerate(f_vjp(u)):
        d = rng.standard_normal(shapes[k])
        bumped = lambda e: np.sum(u * f(*ops[:k], ops[k] + e * d, *ops[k + 1:]))  # noqa: E731
        assert np.isclose(np.sum(ct * d), (bumped(1e-6) - bumped(-1e-6)) / 2e-6, rtol=1e-6)


@pytest.mark.parametrize("f", [
    lambda x: np.pad(x, ((4, 7), (0, 5)), mode="reflect"),
    lambda x: np.pad(x, 3, mode="symmetric"), lambda x: np.pad(x, (5, 1), mode="wrap"),
    lambda x: np.pad(x, ((1, 2), (3, 0)), mode="edge"),
    lambda x: np.pad(x, 1, constant_values=((1, 2), (3, 4))),
    lambda x: np.concatenate(np.array_split(x, [-1, 1, 5], axis=1), axis=1),
    lambda x: np.stack(np.array_split(x, 2, axis=1)), lambda x: np.hstack([x[0, 0], x[0]]),
    lambda x: np.rot90(x, -3), lambda x: np.roll(x, -7), lambda x: np.tile(x, 2),
    lambda x: np.repeat(x, [1, 2, 0], axis=0), lambda x: np.diag(x, 5), lambda x: np.diag(x[0], -2),
    lambda x: np.diagonal(x, -1), lambda x: np.triu(x[0]), lambda x: np.kron(x, x[:2, :2]),
    lambda x: np.take_along_axis(x, np.array([[0], [3], [1]]), axis=1),
    lambda x: np.unique(np.floor(x), axis=0), lambda x: np.var(x, correction=1, axis=0),
    lambda x: np.nanmean(np.where(x > 0, x, np.nan), axis=1), lambda x: np.mean(x, where=x > 0),
    lambda x: np.prod(x, axis=1, keepdims=True, initial=2.0), lambda x: np.max(x, initial=5.0),
    lambda x: np.tensordot(x, x, axes=([0, 1], [0, 1])), lambda x: np.inner(x, x),
    lambda x: np.diff(x, 2, axis=0, prepend=x[:1], append=0.5),
    lambda x: np.moveaxis(x[None], 0, -1), lambda x: np.expand_dims(x, (2, 0)),
])
def test_values_match_numpy(f):
    x = np.round(np.random.default_rng(1).standard_normal((3, 4)), 1)
    np.testing.assert_allclose(value_of(f, x), f(x), rtol=1e-13, atol=1e-13)


def test_handlers_take_numpys_keyword_names():
    mods = {f"chainrule.rules.{m}" for m in ("reductions", "shape", "indexing", "contraction")}
    for func, handler in FUNCTIONS.items():
        if handler.__module__ not in mods:
            continue
        ours = inspect.signature(handler).parameters
        if any(p.kind == p.VAR_KEYWORD for p in ours.values()) and len(ours) == 2:
            continue  # a pass-through handler: (*args, **kwargs) forwarded to NumPy
        try:
            theirs = inspect.signature(func).parameters
        except ValueError:  # a C function without a signature (older NumPy)
            continue
        named = {n for n, p in theirs.items()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        assert named <= set(ours), f"{func.__name__}: {sorted(named - set(ours))}"


# ---- errors ----
OUTS = [
    lambda x, o: np.sum(x, out=o(())), lambda x, o: np.max(x, out=o(())),
    lambda x, o: np.cumsum(x, out=o(3)), lambda x, o: np.add.reduce(x, out=o(())),
    lambda x, o: np.concatenate([x, x], out=o(6)), lambda x, o: np.dot(x, x, out=o(())),
    lambda x, o: np.einsum("i->i", x, out=o(3)), lambda x, o: np.clip(x, 0, 1, out=o(3)),
    lambda x, o: np.take(x, [0], out=o(1)),
]


@pytest.mark.parametrize("f", OUTS)
def test_a_plain_out_raises_a_leak_error_naming_zeros_like(f):
    with pytest.raises(cr.LeakError, match="zeros_like"):
        cr.grad(lambda x: np.sum(f(x, np.zeros)))(np.ones(3))


@pytest.mark.parametrize("f", OUTS)
def test_a_traced_out_takes_the_result(f):
    x = np.array([0.5, -1.0, 2.0])

    def g(x):
        out = f(x, lambda shape: np.zeros_like(x, shape=shape))
        return np.sum(out * np.arange(1.0, 1.0 + np.size(out)).reshape(np.shape(out)))

    def g_plain(x):
        return np.sum(f(x, np.zeros) * np.arange(1.0, 1.0 + np.size(f(x, np.zeros))).reshape(
            np.shape(f(x, np.zeros))))
    value, grad = cr.value_and_grad(g)(x)
    assert value == pytest.approx(g_plain(x))
    h = 1e-6
    fd = [(g_plain(x + h * e) - g_plain(x - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cr.jvp(g, (x,), (np.ones(3),))[1], np.sum(grad))


@pytest.mark.parametrize("f, error", [
    (lambda x: np.sum(x, axis=2), np.exceptions.AxisError),
    (lambda x: np.max(x, axis=-3), np.exceptions.AxisError),
    (lambda x: np.sum(x, axis=(0, -2)), ValueError),
    (lambda x: np.pad(x, 1, mode="mean"), NotImplementedError),
    (lambda x: np.sort(x, order="a"), NotImplementedError),
    (lambda x: np.einsum("ij->ji", x, dtype=np.float32), NotImplementedError),
    (lambda x: np.einsum("ijk->i", x), ValueError),
    (lambda x: np.split(x, 3, axis=1), ValueError),
    (lambda x: np.stack([x, x[0]]), ValueError),
    (lambda x: np.tensordot(x, x, axes=([0], [1])), ValueError),
    (lambda x: np.reshape(x, (-1, -1)), ValueError),
])
def test_bad_input_raises_a_clear_error(f, error):
    with pytest.raises(error):
        cr.grad(lambda x: np.sum(f(x)))(np.ones((2, 4)))
