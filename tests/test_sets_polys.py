"""chainrule.rules.sets_polys beyond the op table: the text of a traced
value, and the answers without a derivative."""

import numpy as np

import chainrule as cr


def test_the_text_of_a_traced_value_is_that_of_its_value():
    x = np.array([1.5, -2.25])
    seen = []

    def f(x):
        seen.extend([np.array2string(x), np.array_repr(x), np.array_str(x)])
        return np.sum(x * x)

    np.testing.assert_allclose(cr.grad(f)(x), 2 * x)
    assert seen == [np.array2string(x), np.array_repr(x), np.array_str(x)]


def test_answers_without_a_derivative_are_numpys():
    x = np.array([[0.5, -1.5], [2.5, 0.25]])

    def f(x):
        out = (np.isin(x, [0.5, 2.5]), np.digitize(x[0], [0.0, 1.0]), np.tril_indices_from(x),
               np.fix(x))
        return np.sum(out[3] * x), out[:3]

    _, plain = cr.jvp(lambda x: f(x), (x,), (np.ones_like(x),))[0]
    np.testing.assert_array_equal(plain[0], np.isin(x, [0.5, 2.5]))
    np.testing.assert_array_equal(plain[1], np.digitize(x[0], [0.0, 1.0]))
    np.testing.assert_array_equal(plain[2][0], np.tril_indices_from(x)[0])
    np.testing.assert_allclose(cr.grad(lambda x: f(x)[0])(x), np.fix(x))
