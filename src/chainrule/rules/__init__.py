"""Derivative rules, one module per family of NumPy operations.

Importing this package registers every rule with the dispatch registries.
"""

from . import elementwise, reductions, shape, indexing, contraction, inplace, methods  # noqa: F401
from . import linalg  # noqa: F401,E402
from . import fft, statistics, signal, numeric, sets_polys  # noqa: F401,E402
from .linalg import eig  # noqa: F401,E402
from . import ufunc_methods  # noqa: F401,E402  (last: it reads the ufuncs registered above)
