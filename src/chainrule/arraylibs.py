"""Where another array library's answer to a NumPy call differs from NumPy's.

chainrule's rules are np.* calls, so they run on any array type that takes
NumPy's calls over (NEP 13/18: Dask, CuPy). A few libraries answer some
calls with a different convention than NumPy; the rules call the functions
here instead, which give NumPy's answer on every library.
"""

import sys

import numpy as np


def _is_dask(a):
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(a, dask_array.Array)


def cholesky_lower(a):
    """The lower Cholesky factor, as np.linalg.cholesky gives it.

    Dask's np.linalg.cholesky returns the upper factor; ask it for the lower.

    Example:
        >>> cholesky_lower(np.array([[4.0, 2.0], [2.0, 2.0]]))
        array([[2., 0.],
               [1., 1.]])
    """
    if _is_dask(a):
        return sys.modules["dask.array"].linalg.cholesky(a, lower=True)
    return np.linalg.cholesky(a)
