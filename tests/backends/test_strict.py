"""The op table on StrictArray, the local stand-in for CuPy (tests/backends/arraylibs.py):
every case that works on NumPy must work on it, equal to NumPy's result.

A rule that creates a NumPy constant (np.zeros, np.eye, a mask...) and
combines it with the user's arrays fails here as it would on a GPU, so this
keeps the rules library-independent without a GPU. The exceptions are listed
below, each with why; any other op must be `ok` in both modes.
"""

import pytest

from ..ops.table import OPS
from .arraylibs import STRICT
from .survey import run_case

# The table's own function combines its arguments with NumPy constants or
# NumPy scalars (np.array([...]), np.ones, np.linspace, a rand() scalar): a
# CuPy user would write CuPy constants there; not a rule's doing.
USER_MIXES = {
    "concatenate_const", "concatenate_none", "cov_weights", "convolve_interp_complex",
    "sum_where", "partition", "logsumexp", "logsumexp_sign", "hstack", "select",
    "resampling_loss", "spectral_loss", "lowpass_filter", "inplace_fill",
    # scalar endpoints (the first case): NumPy results, for which the survey
    # passes the library's cotangents
    "linspace", "logspace_geomspace",
    # NumPy zeros or values concatenated to the argument (their rules run on the
    # library's own constants: test_rules_behind_user_mixes_run_on_the_library)
    "trim_zeros", "roots_trailing_zero", "intersect1d",
}

# SciPy computes these on the host and returns NumPy arrays (CuPy users have
# cupyx.scipy instead): the wrappers of chainrule.scipy are NumPy-only.
SCIPY_HOST = {
    "expm", "logm", "sqrtm", "cho_solve", "lu", "lu_solve", "solve_sylvester",
    "solve_continuous_lyapunov", "solve_banded", "solve_banded_wide", "integrate.odeint",
    "integrate.solve_ivp", "signal.lfilter", "signal.lfilter_zi", "stats.vonmises_cdf",
    "stats.vonmises_ppf", "stats.nbinom", "stats.multivariate_normal_diag", "digamma", "polygamma",
}

# Rules that still build NumPy constants: none (the set, polynomial, i0 and
# Kolmogorov rules listed here before now make them with chainrule.arraylibs).
TO_FIX = set()

KNOWN = USER_MIXES | SCIPY_HOST | TO_FIX

# The first two cases of each op (a plain one and usually a broadcasting one).
CASES = [pytest.param(op, k, id=f"{op.name}-{k}") for op in OPS for k in range(min(2, len(op.cases)))]


@pytest.mark.parametrize("mode", ["fwd", "rev"])
@pytest.mark.parametrize("op,k", CASES)
def test_every_op_runs_on_a_strict_array_library(op, k, mode):
    if mode not in op.modes:
        pytest.skip(f"mode {mode} does not apply to this op")
    status, detail = run_case(STRICT, op, k, mode)
    assert status != "WRONG", detail
    if op.name not in KNOWN:
        assert status == "ok", detail


def test_the_list_of_exceptions_names_table_ops():
    names = {op.name for op in OPS}
    assert KNOWN <= names, sorted(KNOWN - names)


def _like_numpy(fun, *args):
    """fun's forward derivative on StrictArray arguments equals NumPy's."""
    import numpy as np

    import chainrule as cr

    dirs = tuple(np.cos(np.arange(np.size(a)) + 1.0).reshape(np.shape(a)) for a in args)
    want = cr.jvp(fun, args, dirs)
    got = cr.jvp(fun, tuple(map(STRICT.asarray, args)), tuple(map(STRICT.asarray, dirs)))
    for w, g in zip(want, got):
        for wi, gi in zip(w if isinstance(w, tuple) else (w,), g if isinstance(g, tuple) else (g,)):
            assert STRICT.owns(gi)
            np.testing.assert_allclose(STRICT.to_numpy(gi), wi, rtol=1e-12)


def test_rules_behind_user_mixes_run_on_the_library():
    import numpy as np

    def zeros(x, n):
        return np.zeros_like(x, shape=(n,))

    def trimmed(x):
        z = zeros(x, 2)
        padded = np.concatenate([z, x, z[:1]])
        return np.trim_zeros(padded), np.trim_zeros(padded, "f"), np.trim_zeros(padded, "b")

    def roots(p):
        r = np.roots(np.concatenate([p, zeros(p, 1)]))
        return np.real(r), np.imag(r)

    def intersect(a, b):
        return np.intersect1d(a, np.concatenate([b, zeros(b, 1) + 1.0]))

    _like_numpy(trimmed, np.array([0.5, -1.0, 2.0]))
    _like_numpy(roots, np.poly(np.array([1.1, 2.3, 2.9])))
    _like_numpy(intersect, np.array([0.0, 0.5, 1.0, 2.0]), np.array([0.5, 3.0]))
