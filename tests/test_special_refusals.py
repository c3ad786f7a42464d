"""The scipy.special ufuncs with no derivative rule in any argument (inverses
in distribution parameters, noncentral distributions, spheroidal functions,
zetac...): each argument, traced alone, raises a NoRuleError naming it, in
forward and reverse mode."""

import numpy as np
import pytest

sc = pytest.importorskip("scipy.special")

import chainrule as cr  # noqa: E402
from chainrule.core.errors import NoRuleError  # noqa: E402

from .census_lib import arg_names  # noqa: E402
from .ops.table_special_more import refusing  # noqa: E402

REFUSING = sorted(refusing(), key=lambda un: un[1])


@pytest.mark.parametrize("ufunc,name", REFUSING, ids=[n for _, n in REFUSING])
def test_every_argument_is_refused_by_name(ufunc, name):
    names = arg_names(ufunc) or [r"\w+"] * ufunc.nin  # btdtrib's docstring has no signature
    args = [np.full(2, 0.5)] * ufunc.nin
    for i in range(ufunc.nin):
        def f(x, i=i):
            return ufunc(*args[:i], x, *args[i + 1:])
        for call in (lambda: cr.jvp(f, (args[i],), (np.ones(2),)),
                     lambda: cr.vjp(f, args[i])[1](ufunc(*args))):
            with pytest.raises(NoRuleError, match=f"argument '{names[i]}'"):
                call()

