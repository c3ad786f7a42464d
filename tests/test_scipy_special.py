"""scipy.special beyond the op table: arguments without a derivative raise
errors naming them, and errors name SciPy's ufuncs as SciPy's."""

import numpy as np
import pytest

sc = pytest.importorskip("scipy.special")

import chainrule as cr  # noqa: E402
from chainrule.core.errors import NoRuleError  # noqa: E402
from chainrule.core.primitive import UFUNCS  # noqa: E402
from chainrule.scipy import special  # noqa: E402,F401


@pytest.mark.parametrize("fun, arg", [
    (lambda a: sc.gammainc(a, 1.5), "'a'"),
    (lambda a: sc.betainc(a, 2.0, 0.3), "'a'"),
    (lambda b: sc.betainc(2.0, b, 0.3), "'b'"),
    (lambda v: sc.jv(v, 1.5), "'v'"),
    (lambda df: sc.stdtr(df, 0.3), "'df'"),
])
def test_no_closed_form_names_the_argument(fun, arg):
    with pytest.raises(NoRuleError, match=f"scipy.special.*{arg}.*no closed form"):
        cr.grad(fun)(1.5)


@pytest.mark.parametrize("fun", [lambda n: sc.yn(n, 1.5), lambda k: sc.bdtr(k, 5.0, 0.3),
                                 lambda n: sc.eval_legendre(n, 0.3)])
def test_integer_arguments_have_no_derivative(fun):
    with pytest.raises(NoRuleError, match="integer"):
        cr.grad(fun)(2.0)


def test_other_arguments_still_differentiate():
    # d/dx gammainc(a, x) = x^(a-1) e^-x / Gamma(a)
    assert np.isclose(cr.grad(lambda x: sc.gammainc(3.0, x))(1.5), 1.5 ** 2 * np.exp(-1.5) / 2)


def test_scaled_bessel_refuses_complex_input():
    with pytest.raises(NoRuleError, match="holomorphic"):
        cr.jvp(lambda z: sc.jve(1.0, z), (1.0 + 0.5j,), (1.0 + 0j,))


def test_errors_name_scipy_ufuncs_as_scipy():
    with pytest.raises(NoRuleError, match=r"scipy\.special\.zetac"):
        cr.grad(sc.zetac)(1.5)


def test_at_least_150_scipy_ufuncs_have_rules():
    ufuncs = {u for u in vars(sc).values() if isinstance(u, np.ufunc)}
    with_rule = [u for u in ufuncs if u in UFUNCS and UFUNCS[u].differentiable]
    assert len(with_rule) >= 150


def test_leak_inside_scipy_names_the_function_and_the_replacement():
    from chainrule.core.errors import LeakError
    with pytest.raises(LeakError, match=r"inside scipy\.special\.logsumexp.*chainrule\.scipy\.special\.logsumexp"):
        cr.grad(lambda x: sc.logsumexp(x))(np.ones(3))
    with pytest.raises(LeakError, match=r"inside scipy\.special\.softmax.*chainrule\.scipy\.special\.softmax"):
        cr.grad(lambda x: sc.softmax(x)[0])(np.ones(3))


def test_leak_inside_a_decorated_scipy_function_names_it():
    stats = pytest.importorskip("scipy.stats")
    from chainrule.core.errors import LeakError
    with pytest.raises(LeakError, match=r"inside scipy\.stats\.entropy"):
        cr.grad(lambda x: stats.entropy(x))(np.ones(3))
