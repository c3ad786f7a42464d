"""The census (tests/census_lib.py): every public callable of NumPy and
scipy.special, called on traced values, is differentiated correctly in both
modes, returns an untraced value, or raises a clear chainrule error.

A function moving from NoRuleError to correct passes; a new name (a new
NumPy or SciPy release) fails until it is added to tests/census_names.txt
(`python scripts/census.py --names`) after looking at its status.
"""

import os

import pytest

from . import census_lib

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def census():
    return census_lib.run_census()


def test_nothing_silently_wrong_dropped_leaked_or_crashing(census):
    bad = {name: result for name, result in census.items() if result[0] in census_lib.FAILURES}
    assert bad == {}


def test_every_name_is_known(census):
    with open(os.path.join(HERE, "census_names.txt")) as f:
        known = set(f.read().split())
    assert sorted(set(census) - known) == [], (
        "new public callables: check their census status, then run "
        "`python scripts/census.py --names` (and --write for docs/coverage.md)")


def test_the_census_sees_the_main_families(census):
    for name in ("numpy.sin", "numpy.linalg.solve", "numpy.fft.fft", "ndarray.sum",
                 "ndarray.__matmul__", "numpy.add.reduce"):
        assert name in census
    assert census["numpy.sin"][0].startswith("correct")
    assert census["numpy.argmax"][0].startswith("constant")
    assert census["numpy.linalg.cholesky"][0] == "correct / complex: correct"


def test_a_planted_wrong_rule_is_found(monkeypatch):
    import numpy as np

    from chainrule.core.primitive import UFUNCS
    prim = UFUNCS[np.sin]
    monkeypatch.setattr(prim, "vjp_of", (lambda g, res: g * np.cos(res[0]) * 1.01,))
    monkeypatch.setattr(prim, "jvp", lambda t, args, ans, params: t[0] * np.cos(args[0]) * 1.01)
    assert census_lib.classify("numpy.sin", np.sin)[0] == "wrong"
    monkeypatch.setattr(prim, "jvp", lambda t, args, ans, params: None)
    assert census_lib.classify("numpy.sin", np.sin)[0] == "dropped"


def test_each_argument_is_judged_alone(census):
    """gammainc: correct in x, and its a refused by a NoRuleError naming 'a'."""
    pytest.importorskip("scipy")
    status, detail = census["scipy.special.gammainc"]
    assert status == "correct"
    assert detail.startswith("fwd, rev in x; NoRuleError naming a (")


def test_a_refusal_that_names_no_argument_is_not_counted(monkeypatch):
    sc = pytest.importorskip("scipy.special")
    monkeypatch.setattr(census_lib, "_names_argument", lambda message, name: False)
    assert census_lib.classify("scipy.special.gammainc", sc.gammainc)[0] == "NoRuleError"


def test_a_planted_wrong_rule_in_the_other_argument_is_found(monkeypatch):
    sc = pytest.importorskip("scipy.special")
    import chainrule.scipy.special  # noqa: F401
    from chainrule.core.primitive import UFUNCS
    prim = UFUNCS[sc.gammainc]
    jvp = prim.jvp
    monkeypatch.setattr(prim, "jvp", lambda *a: jvp(*a) * 1.01)
    assert census_lib.classify("scipy.special.gammainc", sc.gammainc)[0] == "wrong"
