"""Derivative rules, one module per family of NumPy operations.

Importing this package registers every rule with the dispatch registries.
"""

from . import elementwise, reductions, shape, indexing, contraction  # noqa: F401
from . import linalg  # noqa: F401,E402
from . import fft  # noqa: F401,E402
