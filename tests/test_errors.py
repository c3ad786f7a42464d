"""Bad input gets a clear error naming what was wrong (issue 2, item 6)."""

import numpy as np
import pytest

import chainrule as cr

x0 = np.array([0.5, -1.0, 2.0])


def test_grad_of_non_scalar_output_names_the_shape():
    with pytest.raises(cr.NonScalarOutputError, match=r"shape \(3,\)"):
        cr.grad(np.sin)(x0)


@pytest.mark.parametrize("value", [np.array([1, 2, 3]), 3, True, np.array([True, False])])
def test_integer_and_bool_arguments_cannot_be_differentiated(value):
    with pytest.raises(cr.NonDifferentiableInputError, match="dtype"):
        cr.grad(lambda x: np.sum(x * 1.0))(value)


def test_integer_argument_outside_argnums_is_fine():
    g = cr.grad(lambda x, n: np.sum(x**n), argnums=0)(x0, 2)
    np.testing.assert_allclose(g, 2 * x0)


def test_numpy_function_without_rule_is_named():
    with pytest.raises(cr.NoRuleError, match=r"numpy\.\w*histogram.*custom_vjp"):
        cr.grad(lambda x: np.sum(np.histogram(x)[0] * 1.0))(x0)


def test_ufunc_without_rule_is_named():
    with pytest.raises(cr.NoRuleError, match=r"numpy\.frexp"):
        cr.grad(lambda x: np.sum(np.frexp(x)[0]))(x0)


@pytest.mark.parametrize("leak", [
    lambda x: np.asarray(x),
    lambda x: np.array(x),
    lambda x: float(x[0]),
    lambda x: int(x[0]),
    lambda x: x[0].item(),
    lambda x: x.tolist(),
])
def test_values_leaving_the_trace_raise(leak):
    with pytest.raises(cr.LeakError, match="derivative"):
        cr.grad(lambda x: np.sum(leak(x)))(x0)


@pytest.mark.parametrize("mutate", [
    lambda x: np.add(x, 1.0, out=np.empty(3)),
    lambda x: np.exp(x, out=np.empty(3)),
    lambda x: np.add.at(np.zeros(3), [0], x),
])
def test_traced_values_written_into_plain_arrays_raise(mutate):
    with pytest.raises(cr.LeakError, match=r"np\.zeros_like\(x\)"):
        cr.grad(lambda x: np.sum(mutate(x)))(x0)


def test_a_plain_out_of_a_reduction_raises():
    with pytest.raises(cr.LeakError, match="zeros_like"):
        cr.grad(lambda x: np.sum(np.sum(x, out=np.empty(()))))(x0)


def test_augmented_assignment_updates_the_array():
    def f(x):
        x += 1.0
        x[0] = 2.0 * x[1]
        return np.sum(x)
    assert np.array_equal(cr.grad(f)(x0), [0.0, 3.0, 1.0])


def test_writing_a_traced_value_into_a_plain_array_raises():
    # NumPy's item assignment swallows the box's own error and raises its
    # ValueError; either way the derivative is not silently dropped.
    def f(x):
        buffer = np.zeros(3)
        buffer[0] = x[0]
        return np.sum(buffer)
    with pytest.raises((cr.LeakError, ValueError)):
        cr.grad(f)(x0)


def test_has_aux_requires_a_pair():
    with pytest.raises(TypeError, match="pair"):
        cr.grad(lambda x: np.sum(x), has_aux=True)(x0)


def test_jvp_checks_tangent_shapes():
    with pytest.raises(ValueError, match="tangent of shape"):
        cr.jvp(np.sin, (x0,), (np.ones(2),))


def test_building_an_array_from_traced_scalars_points_to_np_stack():
    with pytest.raises(cr.LeakError, match="np.stack"):
        cr.grad(lambda a: np.sum(np.array([a, 2 * a])))(1.0)
    assert cr.grad(lambda a: np.sum(np.stack([a, 2 * a]) ** 2))(1.0) == pytest.approx(10.0)


def test_np_full_of_a_traced_value_names_np_full_and_its_traced_spelling():
    # np.full converts its fill value before NumPy dispatches, so it cannot be
    # traced; the error says where it happened and what to write instead
    with pytest.raises(cr.LeakError, match=r"inside np\.full.*np\.zeros\(shape\) \+ x"):
        cr.grad(lambda x: np.sum(np.full((3,), x)))(1.0)
    assert cr.grad(lambda x: np.sum(np.zeros((3,)) + x))(1.0) == 3.0
