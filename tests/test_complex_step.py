"""cs_jvp: agreement with exact forward mode, the complex-step caveats, errors."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.complex_step import ComplexStepError, cs_jvp
from chainrule.core.tree import tree_flatten
from chainrule.scipy import linalg as SL
from chainrule.scipy import special as cs

from .ops.table import OPS

H = 1e-20
rng = np.random.default_rng(0)


def naive_cs(fun, x, v, h=H):
    """The textbook complex step, with NumPy's own complex semantics."""
    return np.imag(fun(x + 1j * h * v)) / h


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# --------------------------------------------------------------------------
# smooth functions: cs_jvp == cr.jvp to rounding

W = rng.normal(size=(4, 3))
X = rng.normal(size=(5, 4))
Y = rng.normal(size=(5, 2))


def mlp_loss(p):
    hidden = np.tanh(X @ p["W1"] + p["b1"])
    out = hidden @ p["W2"]
    return np.mean((out - Y) ** 2) + 1e-2 * np.sum(p["W1"] ** 2)


MLP = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=3), "W2": rng.normal(size=(3, 2))}

SMOOTH = {
    "elementwise": (lambda x: np.sin(x) * np.exp(-x) + np.tanh(x) ** 2 / (1 + x**2), rng.normal(size=(3, 4))),
    "log_sqrt_power": (lambda x: np.log(x) + np.sqrt(x) + x**2.5 + np.arctan(x), rng.uniform(0.5, 2, 6)),
    "matmul": (lambda x: np.tanh(x @ W) @ W.T, rng.normal(size=(2, 4))),
    "broadcast": (lambda x: x[:, None] * x[None, :] + x, rng.normal(size=4)),
    "reductions": (lambda x: (np.sum(x**3, axis=0), np.mean(np.cos(x)), np.prod(x, axis=1)), rng.normal(size=(3, 4))),
    "mlp_loss": (mlp_loss, MLP),
}


def _random_like(tree):
    return {k: rng.normal(size=np.shape(a)) for k, a in tree.items()} if isinstance(tree, dict) \
        else rng.normal(size=np.shape(tree))


@pytest.mark.parametrize("name", list(SMOOTH))
def test_agrees_with_exact_forward_mode(name):
    fun, x = SMOOTH[name]
    v = _random_like(x)
    out, t = cs_jvp(fun, (x,), (v,))
    out_ref, t_ref = cr.jvp(fun, (x,), (v,))
    for a, b in zip(tree_flatten((out, t))[0], tree_flatten((out_ref, t_ref))[0]):
        assert rel_err(a, b) < 1e-13


def test_pytrees_in_and_out_and_non_float_outputs():
    def fun(p, s):
        return {"y": p["a"] * s[0], "arg": np.argmax(p["a"]), "pair": (np.sum(s[1]), 2.0)}
    p, s = {"a": np.array([1.0, 3.0, 2.0])}, [2.0, np.array([1.0, -1.0])]
    dp, ds = {"a": np.array([1.0, 0.0, 1.0])}, [0.5, np.array([2.0, 3.0])]
    out, t = cs_jvp(fun, (p, s), (dp, ds))
    np.testing.assert_allclose(t["y"], [2.5, 1.5, 3.0], rtol=1e-15)
    assert out["arg"] == 1 and t["arg"] == 0
    assert t["pair"] == (5.0, 0.0)


@pytest.mark.parametrize("scale", [1e-30, 1.0, 1e30])
def test_step_does_not_depend_on_tangent_size(scale):
    x, v = rng.normal(size=5), rng.normal(size=5) * scale
    _, t = cs_jvp(lambda x: np.exp(np.sin(x)), (x,), (v,))
    assert rel_err(t, np.exp(np.sin(x)) * np.cos(x) * v) < 1e-14


# --------------------------------------------------------------------------
# caveats: naive complex step is wrong, cs_jvp gives the real derivative.
# Points sit where the caveat bites (ties for the orderings); cr.jvp is the
# reference (chainrule splits ties in max/maximum evenly, sorts stably).

A = rng.normal(size=(4, 4))
SPD = A @ A.T + 4 * np.eye(4)
SYM = A + A.T
TIE, TIE_V = np.array([2.0, -1.0, 2.0, 0.5]), np.array([5.0, 1.0, 3.0, -2.0])

CAVEATS = {
    # name: (fun, x, v)
    "abs": (lambda x: np.abs(x) ** 3 + abs(x), rng.normal(size=5), rng.normal(size=5)),
    "sign": (lambda x: np.sign(x) * x**2, rng.normal(size=5), rng.normal(size=5)),
    "maximum_tie": (lambda x: np.maximum(x, 2.0), TIE, TIE_V),
    "minimum_tie": (lambda x: np.minimum(x, 2.0) * x, TIE, -TIE_V),
    "fmax_tie": (lambda x: np.fmax(x, 2.0), TIE, TIE_V),
    "where_greater_equal": (lambda x: np.where(x >= 2.0, x, -x), TIE, -TIE_V),
    "where_equal": (lambda x: np.where(x == 2.0, x**2, -x), TIE, TIE_V),
    "less_ufunc": (lambda x: np.where(np.less(x, x[0]), x, 3 * x), TIE, TIE_V),
    "sort_tie": (np.sort, TIE, TIE_V),
    "argsort_tie": (lambda x: x[np.argsort(x, kind="stable")], TIE, TIE_V),
    "argmax_tie": (lambda x: x[np.argmax(x)] * x, TIE, -TIE_V),
    "argmax_method": (lambda x: x[x.argmax()] * x, TIE, -TIE_V),
    "max_tie": (np.max, TIE, TIE_V),
    "min_method_tie": (lambda x: (-x).min(), TIE, TIE_V),
    "max_axis": (lambda x: np.max(x.reshape(2, 2), axis=0), TIE, TIE_V),
    "clip_at_bound": (lambda x: np.clip(x, -1.0, 2.0), TIE, TIE_V),
    "conj_T": (lambda x: x.conj().T @ x, rng.normal(size=4), rng.normal(size=4)),
    "np_conj": (lambda x: np.sum(np.conj(x) * x), rng.normal(size=4), rng.normal(size=4)),
    "vdot": (lambda x: np.vdot(x, x), rng.normal(size=4), rng.normal(size=4)),
    "real": (lambda x: np.real(x) * x, rng.normal(size=4), rng.normal(size=4)),
    "real_attribute": (lambda x: x.real * x, rng.normal(size=4), rng.normal(size=4)),
    "norm": (np.linalg.norm, rng.normal(size=4), rng.normal(size=4)),
    "var_std": (lambda x: np.var(x) + x.std(), rng.normal(size=4), rng.normal(size=4)),
    "cholesky": (np.linalg.cholesky, SPD, SYM),
    "eigh": (lambda a: np.linalg.eigh(a)[0], SPD, SYM),
    "eigh_vectors": (lambda a: np.abs(np.linalg.eigh(a)[1]), SPD, SYM),
    "slogdet": (lambda a: np.linalg.slogdet(a)[1], SPD, SYM),
}


@pytest.mark.parametrize("name", list(CAVEATS))
def test_caveat_naive_fails_cs_jvp_is_exact(name):
    fun, x, v = CAVEATS[name]
    _, t_ref = cr.jvp(fun, (x,), (v,))
    with np.errstate(all="ignore"):
        assert not np.allclose(naive_cs(fun, x, v), t_ref, rtol=1e-6, atol=1e-8)
    _, t = cs_jvp(fun, (x,), (v,))
    np.testing.assert_allclose(t, t_ref, rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------
# NumPy's Python paths and options, and chainrule.scipy: cs_jvp == cr.jvp

prng = np.random.default_rng(1)
M34 = prng.normal(size=(3, 4))
M_AXES = prng.normal(size=(4, 2, 3))
DISTINCT = prng.permutation(12).reshape(3, 4) / 12 - 0.4
U_DIR = prng.normal(size=(4, 4))  # not symmetric: the unread triangle must not count

PATHS = {
    # name: (fun, x, v)
    "einsum_optimize": (lambda x: np.einsum("ij,jk,k->i", x, x.T, x[:, 0], optimize=True), M34, M34 + 1),
    "trace_method_2d": (lambda x: x.trace() * x + x.trace(offset=1), M34, M34 + 1),
    "astype_float": (lambda x: x.astype(np.float64) * x + x.astype(int) + x.astype(bool), M34, M34 + 1),
    "max_initial": (lambda x: x.max(axis=0, initial=0.2), DISTINCT, DISTINCT + 1),
    "min_initial_tie": (lambda x: np.min(x, axis=1, initial=-0.4), DISTINCT, DISTINCT - 1),
    "max_initial_empty": (lambda x: np.max(x[:0], axis=0, initial=1.0) * x, DISTINCT, DISTINCT + 1),
    "matrix_norms": (lambda x: [np.linalg.norm(x, o) for o in (None, "fro", 1, -1, np.inf, -np.inf)],
                     DISTINCT, DISTINCT + 1),
    "matrix_norms_axes": (lambda x: [np.linalg.norm(x, o, axis=(2, 0), keepdims=k)
                                     for o in ("fro", 1, -1, np.inf, -np.inf) for k in (False, True)],
                          M_AXES, M_AXES + 1),
    "vector_matrix_norm": (lambda x: [np.linalg.vector_norm(x, axis=(0, 2), ord=3),
                                      np.linalg.matrix_norm(x, ord=1, keepdims=True), np.linalg.matrix_norm(x)],
                           M_AXES, M_AXES + 1),
    "cholesky_upper": (lambda a: np.linalg.cholesky(a, upper=True), SPD, U_DIR),
    "scipy_cho_solve": (lambda a: [SL.cho_solve(SL.cho_factor(a), a[0]), SL.cho_solve(SL.cho_factor(a, lower=True), a[0]),
                                   SL.cholesky(a)], SPD, U_DIR),
    "scipy_eigh_norm": (lambda a: [SL.eigh(a, lower=False)[0], SL.norm(a, 1)], SPD, U_DIR),
    "logsumexp_sign": (lambda x: cs.logsumexp(x, b=np.array([1.0, -0.5, 2.0, 1.0]), return_sign=True)[0],
                       DISTINCT[0], DISTINCT[1]),
}


@pytest.mark.parametrize("name", list(PATHS))
def test_python_paths_and_options_agree_with_forward_mode(name):
    fun, x, v = PATHS[name]
    out, t = cs_jvp(fun, (x,), (v,))
    out_ref, t_ref = cr.jvp(fun, (x,), (v,))
    for a, b in zip(tree_flatten((out, t))[0], tree_flatten((out_ref, t_ref))[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_astype_float32_keeps_the_step_at_float32_precision():
    fun = lambda x: x.astype(np.float32) ** 2  # noqa: E731
    out, t = cs_jvp(fun, (M34,), (M34 + 1,))
    np.testing.assert_array_equal(out, fun(M34))
    np.testing.assert_allclose(t, 2 * M34 * (M34 + 1), rtol=1e-6)


def test_imag_of_a_real_value_is_zero():
    x, v = rng.normal(size=3), rng.normal(size=3)
    out, t = cs_jvp(lambda x: np.imag(x) + x.imag + x, (x,), (v,))
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(t, v)


def test_outside_the_real_domain_gives_nan_like_the_real_function():
    x, v = np.array([-4.0, 4.0]), np.ones(2)
    with np.errstate(invalid="ignore"):
        assert abs(naive_cs(np.sqrt, x, v)[0]) > 1e10  # the other branch, meaningless
        out, t = cs_jvp(lambda x: np.sqrt(x) + np.log(x) + x**0.5, (x,), (v,))
    assert np.isnan(out[0]) and np.isnan(t[0])
    assert t[1] == pytest.approx(0.25 + 0.25 + 0.25, rel=1e-15)


# --------------------------------------------------------------------------
# composition with chainrule's own boxes

def _loss_with_kinks(w):
    return mlp_loss(w) + 0.1 * np.sum(np.abs(w["W1"])) + np.max(np.tanh(X @ w["W1"]))


def test_cs_jvp_of_grad_is_the_hessian_vector_product():
    v = _random_like(MLP)
    _, hv_cs = cs_jvp(cr.grad(_loss_with_kinks), (MLP,), (v,))
    hv = cr.hvp(_loss_with_kinks, (MLP,), (v,))
    for k in MLP:
        assert rel_err(hv_cs[k], hv[k]) < 1e-12


def test_complex_step_value_meets_a_reverse_box():
    # x is a complex-step value, w a reverse-mode box: both orders of operands
    def fun(x):
        return cr.grad(lambda w: np.sum(np.maximum(x * w, 0.1) ** 2) + x @ w + w @ np.outer(x, x) @ w)(np.ones(3))
    x, v = rng.normal(size=3), rng.normal(size=3)
    _, t = cs_jvp(fun, (x,), (v,))
    _, t_ref = cr.jvp(fun, (x,), (v,))
    assert rel_err(t, t_ref) < 1e-13


# --------------------------------------------------------------------------
# what cannot work raises clearly

x3, v3 = rng.normal(size=3), rng.normal(size=3)


def test_complex_valued_function_is_rejected():
    with pytest.raises(ComplexStepError, match="complex arithmetic"):
        cs_jvp(lambda x: np.exp(1j * x), (x3,), (v3,))


def test_complex_output_from_code_numpy_cannot_see_is_rejected():
    def opaque(x):  # returns a plain complex array, as compiled code would
        return np.exp(1j * np.array(x.real, dtype=float))
    with pytest.raises(ComplexStepError, match="returns complex values"):
        cs_jvp(opaque, (x3,), (v3,))


def test_fun_is_called_once():
    calls = []
    cs_jvp(lambda x: calls.append(1) or np.sin(x), (x3,), (v3,))
    assert calls == [1]


@pytest.mark.parametrize("fun", [
    lambda x: np.exp(1j * x).real,                                 # complex arithmetic inside
    lambda x: np.real(np.fft.ifft(np.fft.fft(x) * np.arange(3))),  # complex by nature
    lambda x: np.asarray(x) * x,                                   # subclass dropped
    lambda x: np.linalg.svd(np.outer(x, x))[1],                    # conjugating factorisation
    lambda x: np.linalg.norm(np.outer(x, x), "nuc"),               # singular values
    lambda x: SL.svd(np.outer(x, x))[1],                           # the same through SciPy
])
def test_genuinely_complex_or_conjugating_code_is_rejected(fun):
    with pytest.raises(ComplexStepError):
        cs_jvp(fun, (x3,), (v3,))


def _write_into_float_array(x):
    y = np.zeros(3)
    y[0] = x[0]
    return y


@pytest.mark.parametrize("fun", [
    lambda x: float(x[0]) * x,
    lambda x: math.sin(x[0]),
    _write_into_float_array,
    lambda x: x.astype(np.float16),  # no complex dtype of that precision
    lambda x: x[0].item(),
])
def test_function_refusing_complex_input_gets_a_clear_error(fun):
    with pytest.raises(ComplexStepError, match="complex"):
        cs_jvp(fun, (x3,), (v3,))


LINES_WITHOUT_CS = [(op, k) for op in OPS if "cs" not in op.modes for k in range(len(op.cases))]


@pytest.mark.parametrize("op,k", LINES_WITHOUT_CS, ids=[f"{op.name}-{k}" for op, k in LINES_WITHOUT_CS])
def test_op_table_lines_without_complex_step_raise(op, k):
    """What the op table leaves out of the complex step raises, never returns a wrong number."""
    args = op.cases[k]
    with np.errstate(all="ignore"), pytest.raises(ComplexStepError):
        cs_jvp(op.fun, args, tuple(np.ones(np.shape(a)) for a in args))


def test_nested_complex_step_is_rejected():
    with pytest.raises(ComplexStepError, match="nested"):
        cs_jvp(lambda x: cs_jvp(np.sin, (x,), (v3,))[1], (x3,), (v3,))
    with pytest.raises(ComplexStepError, match="nested"):  # perturbations meeting
        cs_jvp(lambda x: cs_jvp(lambda y: x * y, (x3,), (v3,))[1], (x3,), (v3,))


@pytest.mark.parametrize("h", [1e-3, 0.0, -1e-20, np.inf])
def test_bad_step_size_is_rejected(h):
    with pytest.raises(ComplexStepError, match="complex step"):
        cs_jvp(np.sin, (x3,), (v3,), h=h)


def test_non_float_primals_are_rejected():
    with pytest.raises(cr.NonDifferentiableInputError):
        cs_jvp(np.sin, (np.arange(3),), (v3,))
    with pytest.raises(ComplexStepError, match="real"):
        cs_jvp(np.sin, (x3 + 0j,), (v3,))
    with pytest.raises(ValueError):
        cs_jvp(np.sin, (x3,), (v3[:2],))
