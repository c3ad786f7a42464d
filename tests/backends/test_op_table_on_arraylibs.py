"""The whole op table on Dask arrays (and CuPy, on a GPU): each case either
equals NumPy's result or raises; never a different value; and no rule
computes a Dask array that the function itself leaves lazy. What works
where is listed in docs/backends.md (scripts/backends_report.py writes it)."""

import pytest

from ..ops.table import OPS
from .arraylibs import LIBRARIES
from .survey import run_case

# The first two cases of each op: a plain one and (usually) a broadcasting one;
# Dask's graph overhead makes the whole table slow for the suite.
CASES = [pytest.param(op, k, id=f"{op.name}-{k}") for op in OPS for k in range(min(2, len(op.cases)))]


@pytest.mark.parametrize("lib", [pytest.param(lib, id=lib.name) for lib in LIBRARIES])
@pytest.mark.parametrize("mode", ["fwd", "rev"])
@pytest.mark.parametrize("op,k", CASES)
def test_never_silently_wrong(lib, op, k, mode):
    if not lib.available():
        pytest.skip(f"{lib.name} is not available here")
    if mode not in op.modes:
        pytest.skip(f"mode {mode} does not apply to this op")
    status, detail = run_case(lib, op, k, mode)
    assert status != "WRONG", detail
    assert status != "computes", f"a rule computed Dask arrays: {detail}"
