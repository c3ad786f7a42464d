"""Friendlier edges: reading traced values for logs, escaped values, and
every ndarray method on traced arrays."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.box import Box


def test_format_round_and_print_show_the_value_and_keep_the_derivative(capsys):
    def f(x):
        loss = np.sum(x ** 2)
        print(loss, f"{loss:.3f}", round(loss, 1), round(loss), format(x[0], "+.1f"))
        return round(loss, 3) * 0 + loss
    assert np.array_equal(cr.grad(f)(np.array([1.0, 2.0])), [2.0, 4.0])
    assert capsys.readouterr().out == "5.0 5.000 5.0 5 +1.0\n"
    _, t = cr.jvp(f, (np.array([1.0, 2.0]),), (np.ones(2),))
    assert t == 6.0 and capsys.readouterr().out == "5.0 5.000 5.0 5 +1.0\n"


def test_formatting_under_compile_shows_a_placeholder():
    out = []
    f = cr.compile(lambda x: out.append(f"{np.sum(x):.2f}") or np.sum(x))
    assert f(np.ones(2)) == 2.0
    assert out == ["<traced float64[]>"]


def test_a_value_that_escaped_its_differentiation_says_so():
    history = []

    def f(x):
        loss = np.sum(x ** 2)
        history.append(loss)
        return loss
    cr.grad(f)(np.ones(2))
    with pytest.raises(cr.LeakError, match="has_aux"):
        np.array(history)
    with pytest.raises(cr.LeakError, match="already finished"):
        float(history[0])


def test_forgetting_has_aux_says_so():
    with pytest.raises(cr.NonScalarOutputError, match="has_aux=True"):
        cr.grad(lambda x: (np.sum(x), x))(np.ones(2))


def test_every_public_ndarray_attribute_exists_on_boxes():
    missing = [n for n in dir(np.ndarray) if not n.startswith("_") and not hasattr(Box, n)]
    assert missing == []


# Every public ndarray method and property, used on a traced value: either it
# works like NumPy's or it raises a ChainruleError naming what is wrong.
WORKS = {
    "T", "all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "base", "choose",
    "clip", "compress", "conj", "conjugate", "copy", "cumprod", "cumsum", "device", "diagonal",
    "dot", "dtype", "fill", "flat", "flatten", "imag", "itemsize", "max", "mean", "min", "mT",
    "nbytes", "ndim", "nonzero", "partition", "prod", "put", "ravel", "real", "repeat", "reshape",
    "round", "searchsorted", "shape", "size", "sort", "squeeze", "std", "strides", "sum",
    "swapaxes", "take", "to_device", "trace", "transpose", "var", "view",
}
CALLS = {
    "argpartition": (1,), "choose": ([np.zeros((2, 3)), np.ones((2, 3))],), "clip": (0.0, 1.0),
    "compress": ([True, False],), "put": ([0, 4], 1.5), "dot": (np.ones((3, 2)),), "fill": (0.5,), "partition": (1,),
    "repeat": (2,), "reshape": (3, 2), "searchsorted": (0.5,), "swapaxes": (0, 1),
    "take": ([0],), "to_device": ("cpu",), "astype": (np.float32,), "trace": (),
}


@pytest.mark.parametrize("name", sorted(n for n in dir(np.ndarray) if not n.startswith("_")))
def test_each_ndarray_method_works_or_raises_a_clear_error(name):
    x0 = np.array([[0.3, 0.1, 0.9], [0.5, 0.2, 0.4]])

    def use(x):
        y = x.copy()
        if name == "choose":
            y = (x > 0.35).astype(int)
        if name == "searchsorted":
            y = np.sort(x.ravel())
        try:
            attr = getattr(y, name)
        except cr.ChainruleError:
            return "error"
        if callable(attr) and name not in ("dtype",):
            try:
                attr(*CALLS.get(name, ()))
            except cr.ChainruleError:
                return "error"
        return "works"

    seen = []
    cr.grad(lambda x: seen.append(use(x)) or np.sum(x))(x0)
    assert seen == ["works" if name in WORKS else "error"]


def test_lists_holding_traced_values_are_array_likes():
    x = np.array([1.0, 2.0, 3.0])
    f = lambda x: np.sum(np.concatenate([[x[0], x[1] ** 2], x]) ** 2)  # noqa: E731
    np.testing.assert_allclose(cr.grad(f)(x), [4.0, 36.0, 6.0])
    g = lambda x: np.sum(x[[np.argmax(x), 0]])  # noqa: E731  (a traced index in a list)
    np.testing.assert_allclose(cr.grad(g)(x), [1.0, 0.0, 1.0])
    with pytest.raises(cr.LeakError, match="np.stack"):  # np.array is not dispatched by NumPy
        cr.grad(lambda x: np.sum(np.array([x[0], x[1]])))(x)
