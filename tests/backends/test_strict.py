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
}

# SciPy computes these on the host and returns NumPy arrays (CuPy users have
# cupyx.scipy instead): the wrappers of chainrule.scipy are NumPy-only.
SCIPY_HOST = {
    "expm", "logm", "sqrtm", "cho_solve", "lu", "lu_solve", "solve_sylvester",
    "solve_continuous_lyapunov", "solve_banded", "solve_banded_wide", "integrate.odeint",
    "integrate.solve_ivp", "signal.lfilter", "signal.lfilter_zi", "stats.vonmises_cdf",
    "stats.vonmises_ppf", "stats.nbinom", "stats.multivariate_normal_diag", "digamma", "polygamma",
}

# Rules added late in the third session (sets, polynomials, i0, Kolmogorov):
# they still build NumPy constants (np.arange, np.zeros, NumPy pieces to
# concatenate) or evaluate on the host (roots' leading zeros, i0's quadrature,
# the Kolmogorov series). On a real non-NumPy library they raise, never give a
# wrong value (asserted above); to fix: create the constants with
# chainrule.arraylibs.
TO_FIX = {
    "ediff1d", "insert", "intersect1d", "kolmogi", "kolmogorov", "kolmogorov_small", "numpy_i0",
    "poly", "poly_matrix", "polyadd_polysub", "polyder_polyint", "polyint_traced_k", "roots",
    "roots_trailing_zero", "trim_zeros",
}

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
